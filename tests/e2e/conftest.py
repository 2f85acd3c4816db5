"""The whole stack, as `make up` runs it: SMTP in on :2525, HTTP on :8000, mail out in
var/outbox/. Every service must be ready; nothing here is started in-process."""

from __future__ import annotations

import email
import email.policy
import os
import smtplib
import subprocess
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
OUTBOX = Path(os.environ.get("GUICHET_OUTBOX", ROOT / "var" / "outbox"))
SMTP_PORT = int(os.environ.get("GUICHET_INGEST_SMTP_PORT", "2525"))
WEB = os.environ.get("GUICHET_WEB_URL", "http://127.0.0.1:8000")
ADMIN = ("admin@example.org", "changeme")
SERVICE_PORTS = {"ingest": 8101, "tickets": 8102, "notify": 8103, "search": 8104, "web": 8000}


def ready(name: str) -> bool:
    try:
        return (
            httpx.get(f"http://127.0.0.1:{SERVICE_PORTS[name]}/readyz", timeout=2).status_code
            == 200
        )
    except httpx.HTTPError:
        return False


def wait_until(condition, timeout: float, what: str, interval: float = 0.1):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"{what} not reached within {timeout}s")


def wait_all_ready(timeout: float = 90) -> None:
    for name in SERVICE_PORTS:
        wait_until(lambda n=name: ready(n), timeout, f"{name} ready")


@pytest.fixture(scope="session", autouse=True)
def stack() -> None:
    wait_all_ready(30)


@pytest.fixture
def api() -> Iterator[httpx.Client]:
    with httpx.Client(base_url=WEB, auth=ADMIN, timeout=15) as client:
        yield client


def send(message: EmailMessage, *, to: list[str] | None = None) -> None:
    with smtplib.SMTP("127.0.0.1", SMTP_PORT, timeout=30) as smtp:
        smtp.send_message(message, to_addrs=to)


def make_mail(
    sender: str, subject: str, body: str, to: str = "achats@tickets.example.org"
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = email.utils.make_msgid(domain="example.net")
    msg.set_content(body)
    return msg


def caught_for(recipient: str) -> list[email.message.EmailMessage]:
    """Mails the catcher holds whose envelope recipients include ``recipient``, in the
    order it caught them (a Maildir name's microseconds are not zero-padded: by name,
    0.5 s would sort after 0.25 s but before 0.123 s)."""
    found = []
    caught = (OUTBOX / "new").glob("*") if (OUTBOX / "new").exists() else ()
    for path in sorted(caught, key=lambda p: (p.stat().st_mtime_ns, p.name)):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if f"<{recipient}>" in (msg.get_all("X-Envelope-To") or []):
            found.append(msg)
    return found


def ticket_of(api: httpx.Client, requestor: str) -> dict | None:  # type: ignore[type-arg]
    response = api.get("/api/v1/tickets", params={"requestor": requestor})
    if response.status_code != 200:
        return None
    data = response.json()["data"]
    return data[0] if data else None


def local_script(*args: str) -> None:
    subprocess.run([str(ROOT / "deploy" / "local" / args[0]), *args[1:]], check=True, timeout=180)
