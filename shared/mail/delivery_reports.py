"""Delivery reports: is a mail a bounce, and of which of our mails? (pure)

A standard report is ``multipart/report; report-type=delivery-status`` (RFC 3464): its
``message/delivery-status`` part names each recipient and what happened, and the
returned message (or just its headers) follows. Older MTAs send plain text from
``MAILER-DAEMON`` with the returned mail quoted; for those, finding one of our own
Message-IDs in the mail is what makes it a bounce of ours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import policy
from email.message import Message
from email.parser import BytesParser

from shared.mail.addresses import normalize_address
from shared.mail.parsing import read_headers

_OUR_MESSAGE_ID = re.compile(r"<guichet\.[^<>\s]+@[^<>\s]+>")


@dataclass(frozen=True)
class DeliveryReport:
    failed_recipients: tuple[str, ...]
    # "5.1.1 user unknown"-like lines, one per recipient the report names.
    details: tuple[str, ...]
    # Message-IDs of the returned mail: its own, then In-Reply-To/References.
    original_message_ids: tuple[str, ...]
    original_subject: str


def _text(part: Message) -> str:
    payload = part.get_payload() if part.is_multipart() else part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return payload.decode("utf-8", "replace")
    if isinstance(payload, list):
        return "\n\n".join(p.as_string() if isinstance(p, Message) else str(p) for p in payload)
    return str(payload or "")


def _unfolded_fields(block: str) -> list[tuple[str, str]]:
    fields: list[tuple[str, str]] = []
    for line in block.splitlines():
        if line[:1] in (" ", "\t") and fields:
            name, value = fields[-1]
            fields[-1] = (name, f"{value} {line.strip()}")
        elif ":" in line:
            name, _, value = line.partition(":")
            fields.append((name.strip().lower(), value.strip()))
    return fields


def _recipient_blocks(status_text: str) -> list[dict[str, str]]:
    """The per-recipient blocks of a delivery-status part (the first block is the
    message's own and has no Final-Recipient)."""
    blocks = []
    for block in re.split(r"\n\s*\n", status_text.replace("\r\n", "\n")):
        fields = dict(_unfolded_fields(block))
        if "final-recipient" in fields or "original-recipient" in fields:
            blocks.append(fields)
    return blocks


def _address_of(field: str) -> str:
    """``rfc822; someone@example.org`` → the address."""
    return normalize_address(field.partition(";")[2] or field)


def _returned_headers(msg: Message) -> Message | None:
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype in ("message/rfc822", "message/global"):
            inner = part.get_payload(0) if part.is_multipart() else None
            if isinstance(inner, Message):
                return inner
        if ctype in ("text/rfc822-headers", "message/global-headers"):
            return BytesParser(policy=policy.compat32).parsebytes(
                _text(part).encode("utf-8", "replace"), headersonly=True
            )
    return None


def _says_report(msg: Message) -> bool:
    return (
        msg.get_content_type() == "multipart/report"
        and str(msg.get_param("report-type") or "").lower() == "delivery-status"
    )


def read_delivery_report(raw: bytes, *, from_mailer_daemon: bool) -> DeliveryReport | None:
    """The report ``raw`` is, or None when it is not a delivery report. A plain-text mail
    counts only when it comes from a mailer daemon (by its From: an empty envelope sender
    is also every vacation reply's) and quotes one of our Message-IDs in its text."""
    try:
        if not from_mailer_daemon and not _says_report(read_headers(raw)):
            return None  # the usual mail: its headers are enough to tell (no body read)
        msg = BytesParser(policy=policy.compat32).parsebytes(raw)
    except Exception:  # compat32 hardly ever raises; never let a report break a mail
        return None
    is_report = _says_report(msg)
    # Our ids in the returned text only, never in the mail's own headers (a vacation
    # reply names our mail in its In-Reply-To, and is no bounce); they may sit in a
    # quoted-printable or base64 part, so the decoded texts are read.
    texts = [_text(p) for p in msg.walk() if p.get_content_maintype() in ("text", "message")]
    ours = list(dict.fromkeys(_OUR_MESSAGE_ID.findall("\n".join(texts))))
    if not is_report and not (from_mailer_daemon and ours):
        return None
    failed: list[str] = []
    details: list[str] = []
    for part in msg.walk():
        if part.get_content_type() in ("message/delivery-status", "message/global-delivery-status"):
            for block in _recipient_blocks(_text(part)):
                recipient = _address_of(
                    block.get("final-recipient") or block.get("original-recipient", "")
                )
                action = block.get("action", "").lower()
                status = block.get("status", "")
                diagnostic = block.get("diagnostic-code", "").partition(";")[2].strip()
                details.append(" ".join(x for x in (recipient, action, status, diagnostic) if x))
                if action == "failed" and recipient and recipient not in failed:
                    failed.append(recipient)
    for value in msg.get_all("X-Failed-Recipients") or []:  # Exim's plain-text bounces
        for address in str(value).split(","):
            if "@" in address and normalize_address(address) not in failed:
                failed.append(normalize_address(address))
    returned = _returned_headers(msg)
    ids: list[str] = []
    subject = ""
    if returned is not None:
        for name in ("Message-ID", "In-Reply-To", "References"):
            ids += re.findall(r"<[^<>\s]+>", str(returned.get(name, "")))
        subject = " ".join(str(returned.get("Subject", "")).split())
    ids += ours  # a plain-text bounce quotes our headers in its text
    return DeliveryReport(
        failed_recipients=tuple(failed),
        details=tuple(details),
        original_message_ids=tuple(dict.fromkeys(ids)),
        original_subject=subject,
    )
