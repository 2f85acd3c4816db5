"""Notify against the real FerretDB and a real SMTP server: one autoreply per
(transaction, recipient) even when an event comes twice at once; none to machines;
nothing lost while the smarthost is down."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP

from services.notify.adapters.mongo_deliveries import MongoDeliveryLog
from services.notify.adapters.smtp_sender import SmtpSender
from services.notify.service import NotifyService
from shared.errors import RetryableError
from shared.events.envelope import AnyEnvelope, Envelope
from shared.events.mail import LoopFacts
from shared.events.ticket import (
    MessageInfo,
    QueueInfo,
    TicketCreated,
    TicketSnapshot,
    TransactionInfo,
)
from tests.support import unique

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


class Catcher:
    def __init__(self) -> None:
        self.mails: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.mails.append((list(envelope.rcpt_tos), message))
        return "250 OK"


@pytest.fixture
async def smarthost() -> AsyncIterator[tuple[Catcher, int]]:
    catcher = Catcher()
    server = await asyncio.get_running_loop().create_server(
        lambda: SMTP(catcher, hostname="smarthost"), host="127.0.0.1", port=0
    )
    yield catcher, server.sockets[0].getsockname()[1]
    server.close()


@pytest.fixture
async def deliveries(mongo: Any, namespace: str) -> MongoDeliveryLog:
    log = MongoDeliveryLog(mongo, f"{namespace}_notify")
    await log.ensure_indexes()
    return log


def created_event(requestor: str, loop: LoopFacts | None = None) -> AnyEnvelope:
    payload = TicketCreated(
        ticket=TicketSnapshot(
            id=7,
            queue="achats",
            subject="Demande de devis écran",
            status="new",
            requestors=(requestor,),
            created=NOW,
            updated=NOW,
            version=1,
        ),
        transaction=TransactionInfo(
            id=str(__import__("uuid").uuid4()),
            seq=1,
            type="create",
            creator=requestor,
            created=NOW,
            message=MessageInfo(message_id="<m1@example.net>", subject="Demande", text="Bonjour"),
        ),
        queue=QueueInfo(
            name="achats",
            correspond_address="achats@tickets.example.org",
            comment_address="achats-comment@tickets.example.org",
            rtname="example",
        ),
        loop=loop,
    )
    return AnyEnvelope.model_validate(
        Envelope.wrap(payload, producer="tickets", correlation_id="c").to_wire()
    )


async def test_an_event_handled_twice_at_once_sends_one_autoreply(
    smarthost: tuple[Catcher, int], deliveries: MongoDeliveryLog
) -> None:
    catcher, port = smarthost
    service = NotifyService(deliveries, SmtpSender("127.0.0.1", port))
    requestor = f"{unique('alice')}@example.net"
    event = created_event(requestor)
    results = await asyncio.gather(
        *(service.on_ticket_event(event) for _ in range(4)), return_exceptions=True
    )
    # Copies that found the delivery in flight ask to be retried later; none sends.
    assert all(r is None or isinstance(r, RetryableError) for r in results)
    await service.on_ticket_event(event)  # a later redelivery: already sent
    assert len(catcher.mails) == 1
    recipients, mail = catcher.mails[0]
    assert recipients == [requestor]
    assert mail["Subject"] == "[example #7] Demande de devis écran"
    assert mail["Auto-Submitted"] == "auto-replied"


async def test_no_autoreply_to_mail_from_a_machine(
    smarthost: tuple[Catcher, int], deliveries: MongoDeliveryLog
) -> None:
    catcher, port = smarthost
    service = NotifyService(deliveries, SmtpSender("127.0.0.1", port))
    robot = LoopFacts(auto_submitted=True, reasons=("Auto-Submitted: auto-replied",))
    await service.on_ticket_event(created_event("robot@example.net", loop=robot))
    assert catcher.mails == []


async def test_smarthost_down_nothing_is_lost_and_nothing_doubled(
    smarthost: tuple[Catcher, int], deliveries: MongoDeliveryLog
) -> None:
    catcher, port = smarthost
    event = created_event(f"{unique('bob')}@example.net")
    down = NotifyService(deliveries, SmtpSender("127.0.0.1", 9, timeout=2))  # nothing listens
    with pytest.raises(RetryableError):
        await down.on_ticket_event(event)
    up = NotifyService(deliveries, SmtpSender("127.0.0.1", port))
    await up.on_ticket_event(event)  # the retry, once the smarthost is back
    await up.on_ticket_event(event)  # and a redelivery
    assert len(catcher.mails) == 1
