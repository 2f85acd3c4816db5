"""Helpers shared by the integration and end-to-end tests."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

import aio_pika

from shared.events.envelope import AnyEnvelope
from shared.topology import EVENTS_EXCHANGE

T = TypeVar("T")


def unique(prefix: str = "t") -> str:
    """A short unique name, so tests never share queues, databases or addresses."""
    return f"{prefix}{uuid.uuid4().hex[:10]}"


async def eventually(
    probe: Callable[[], Awaitable[T | None]],
    *,
    timeout: float = 10.0,
    interval: float = 0.05,
    what: str = "condition",
) -> T:
    """Poll ``probe`` until it returns something truthy, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"{what} not reached within {timeout}s (last: {last!r})")


def raw_mail(
    *,
    sender: str = "alice@example.net",
    to: str = "achats@tickets.example.org",
    subject: str = "Demande de devis écran",
    body: str = "Bonjour, un devis svp.",
    cc: str | None = None,
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    """A plain mail as a client would send it (RFC 5322 bytes)."""
    from email.message import EmailMessage
    from email.utils import make_msgid

    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = subject
    msg["Message-ID"] = message_id or make_msgid(domain="example.net")
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    return msg.as_bytes()


def mail_received(raw: bytes, *, recipient: str = "achats@tickets.example.org", **extra: object):  # type: ignore[no-untyped-def]
    """The ``mail.received`` payload ingest would publish for ``raw``."""
    import base64
    import hashlib
    from datetime import UTC, datetime

    from services.ingest.smtp_handler import mail_key
    from shared.events.mail import MailReceived

    sha = hashlib.sha256(raw).hexdigest()
    fields: dict[str, object] = {
        "mail_key": mail_key(sha, recipient),
        "raw_sha256": sha,
        "raw_size": len(raw),
        "raw_b64": base64.b64encode(raw).decode(),
        "spool_ref": f"spool:{sha}",
        "mail_from": "alice@example.net",
        "recipient": recipient,
        "recipient_kind": "comment" if "-comment@" in recipient else "correspond",
        "queue": "achats",
        "all_recipients": (recipient,),
        "received_at": datetime.now(UTC),
    }
    fields.update(extra)
    return MailReceived(**fields)  # type: ignore[arg-type]


class EventTap:
    """A private queue bound to ``binding`` on the events exchange: what was published."""

    def __init__(self, amqp_url: str, binding: str = "ticket.txn.*") -> None:
        self._url = amqp_url
        self._binding = binding
        self.events: list[AnyEnvelope] = []

    async def start(self) -> None:
        self._connection = await aio_pika.connect(self._url)
        channel = await self._connection.channel()
        exchange = await channel.declare_exchange(
            EVENTS_EXCHANGE.name, aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(exclusive=True)
        await queue.bind(exchange, self._binding)

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            self.events.append(AnyEnvelope.model_validate(json.loads(message.body)))

        await queue.consume(on_message, no_ack=True)

    async def stop(self) -> None:
        await self._connection.close()

    async def wait_for(self, count: int) -> list[AnyEnvelope]:
        async def enough() -> list[AnyEnvelope] | None:
            return self.events if len(self.events) >= count else None

        return await eventually(enough, timeout=10, what=f"{count} event(s)")
