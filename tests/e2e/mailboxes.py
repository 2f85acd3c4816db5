"""Reading what the catcher caught, and writing mail as a person's client does, for the
end-to-end tests of mail in and out."""

from __future__ import annotations

import email
import email.policy
import email.utils
import os
import re
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from tests.e2e.conftest import OUTBOX

ACHATS = "achats@tickets.example.org"
ACHATS_COMMENT = "achats-comment@tickets.example.org"
QUOTE_PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
    b"trailer << /Root 1 0 R >>\n%%EOF\n"
)
STEP_TIMEOUT = 60.0  # one mail through ingest, tickets and notify on a busy 2-core machine
SETTLE = 3.0  # after the last expected mail, how long an unexpected one has to show up


class Outbox:
    """The catcher's Maildir, read once per file: each new file's envelope recipients are
    noted, and only the mails of the addresses asked about are parsed."""

    def __init__(self, directory: Path = OUTBOX / "new") -> None:
        self._dir = directory
        self._recipients: dict[str, list[str]] = {}

    def _scan(self) -> None:
        try:
            names = sorted(os.listdir(self._dir))
        except FileNotFoundError:
            return
        for name in names:
            if name in self._recipients or name.startswith("."):
                continue
            with (self._dir / name).open("rb") as f:
                head = f.read(4096).decode("utf-8", "replace")
            self._recipients[name] = [
                line.split(":", 1)[1].strip().strip("<>").lower()
                for line in re.split(r"\r?\n\r?\n", head, maxsplit=1)[0].splitlines()
                if line.lower().startswith("x-envelope-to:")
            ]

    def mails_to(self, address: str) -> list[EmailMessage]:
        self._scan()
        found = []
        for name, recipients in self._recipients.items():
            if address.lower() in recipients:
                raw = (self._dir / name).read_bytes()
                message = email.message_from_bytes(raw, policy=email.policy.default)
                assert isinstance(message, EmailMessage)
                found.append(message)
        return sorted(found, key=lambda m: email.utils.parsedate_to_datetime(m["Date"]))


def mail(
    sender: str,
    subject: str,
    body: str,
    *,
    to: str = ACHATS,
    answering: EmailMessage | None = None,
    attachment: tuple[str, bytes] | None = None,
) -> EmailMessage:
    """A mail as a person's client writes it; when ``answering``, a reply to that mail."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="client.example.net")
    if answering is not None:
        message["In-Reply-To"] = answering["Message-ID"]
        message["References"] = f"{answering['References']} {answering['Message-ID']}"
    message.set_content(body)
    if attachment is not None:
        name, content = attachment
        message.add_attachment(content, maintype="application", subtype="pdf", filename=name)
    return message


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content()).replace("\r\n", "\n")
