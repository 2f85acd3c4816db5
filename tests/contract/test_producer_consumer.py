"""What a producer actually sends is what its consumers can read.

The envelopes here are built by the producers' own code (ingest's SMTP handler, tickets'
domain and event builder), not by hand, then sent through JSON and read the way each
consumer reads them: tickets decodes ``MailReceived``; notify decodes
``TICKET_TXN_EVENTS[type]``; search does too, and falls back on the common
``TicketTxnEvent`` for a kind it does not know yet. The consumers' pure domain functions
then run on what they decoded.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from services.ingest.adapters.raw_store import FileRawStore
from services.ingest.adapters.routes import RouteCache
from services.ingest.smtp_handler import ACCEPTED, IngestHandler, mail_key
from services.notify.domain.rules import plan_notifications
from services.search.domain.documents import event_actions, ticket_document
from services.tickets.domain.mail_decisions import open_ticket, sender_of
from services.tickets.domain.model import Queue
from services.tickets.service import ticket_event
from shared.events import (
    TICKET_TXN_EVENTS,
    AnyEnvelope,
    Envelope,
    MailReceived,
    TicketCreated,
    TicketTxnEvent,
)
from shared.mail.parsing import parse_mail
from shared.rpc.tickets import MailRoute, MailRoutes
from tests.contract import samples


class _RecordingPublisher:
    """Stands in for ``EventPublisher``: keeps what ingest would publish."""

    def __init__(self) -> None:
        self.published: list[Envelope[Any]] = []

    async def publish(self, envelope: Envelope[Any]) -> None:
        self.published.append(envelope)


def _over_the_wire(envelope: Envelope[Any] | AnyEnvelope) -> AnyEnvelope:
    # What register_consumer does with a delivered body, after EventPublisher's model_dump.
    body = json.loads(json.dumps(envelope.model_dump(mode="json")))
    return AnyEnvelope.model_validate(body)


async def _mail_received_as_ingest_builds_it(tmp_path: Path) -> Envelope[MailReceived]:
    routes_file = tmp_path / "routes.json"
    routes_file.write_text(
        MailRoutes(
            rtname="guichet.example.org",
            routes={
                samples.QUEUE_ADDRESS: MailRoute(queue="achats", kind="correspond"),
                samples.COMMENT_ADDRESS: MailRoute(queue="achats", kind="comment"),
            },
        ).model_dump_json()
    )
    publisher = _RecordingPublisher()
    handler = IngestHandler(
        store=FileRawStore(tmp_path / "spool"),
        routes=RouteCache(rpc=None, snapshot=routes_file),  # type: ignore[arg-type]
        publisher=publisher,  # type: ignore[arg-type]
        max_recipients=20,
    )
    envelope = SimpleNamespace(
        mail_from=samples.REQUESTOR,
        rcpt_tos=[samples.QUEUE_ADDRESS],
        original_content=samples.RAW_MAIL,
        content=samples.RAW_MAIL,
    )
    session = SimpleNamespace(peer=("192.0.2.25", 48120), host_name="mail.example.com")

    reply = await handler.handle_DATA(None, session, envelope)

    assert reply == ACCEPTED
    assert len(publisher.published) == 1
    return publisher.published[0]


async def test_mail_received_from_ingest_decodes_as_tickets_reads_it(tmp_path: Path) -> None:
    sent = await _mail_received_as_ingest_builds_it(tmp_path)

    received = _over_the_wire(sent)
    decoded = received.decode(MailReceived)  # services.tickets.handlers.on_mail_received

    assert decoded == sent
    assert received.producer == "ingest"
    mail = decoded.payload
    assert mail.raw_bytes() == samples.RAW_MAIL
    assert mail.mail_key == mail_key(samples.RAW_SHA256, samples.QUEUE_ADDRESS)
    assert (mail.recipient, mail.recipient_kind, mail.queue) == (
        samples.QUEUE_ADDRESS,
        "correspond",
        "achats",
    )
    assert parse_mail(mail.raw_bytes()).subject == "Demande d'achat : écran 27 pouces"


async def _ticket_created_as_tickets_builds_it(tmp_path: Path) -> Envelope[Any]:
    cause = await _mail_received_as_ingest_builds_it(tmp_path)
    mail = cause.payload
    parsed = parse_mail(mail.raw_bytes())
    queue = Queue(
        name="achats",
        correspond_address=samples.QUEUE_ADDRESS,
        comment_address=samples.COMMENT_ADDRESS,
    )
    ticket, txn = open_ticket(
        ticket_id=42,
        txn_id=samples.TXN_ID,
        queue=queue,
        parsed=parsed,
        sender=sender_of(parsed, mail.mail_from),
        now=samples.CREATED_AT,
        threading_note="no ticket tag in the subject",
    )
    # The same pure function the service runs after each decision.
    return ticket_event(
        ticket,
        txn,
        queue,
        "guichet.example.org",
        correlation_id=cause.correlation_id,
        causation_id=str(cause.id),
        mail=mail,
    )


async def test_ticket_created_from_tickets_decodes_as_notify_reads_it(tmp_path: Path) -> None:
    sent = await _ticket_created_as_tickets_builds_it(tmp_path)
    assert sent.type == TicketCreated.event_type

    received = _over_the_wire(sent)
    decoded = received.decode(TICKET_TXN_EVENTS[received.type])  # notify's on_ticket_event

    assert decoded == sent
    event = decoded.payload
    assert isinstance(event, TicketCreated)
    assert event.ticket.requestors == (samples.REQUESTOR,)
    assert event.queue.correspond_address == samples.QUEUE_ADDRESS
    assert [(m.template, m.recipient) for m in plan_notifications(event)] == [
        ("autoreply", samples.REQUESTOR)
    ]


async def test_ticket_created_from_tickets_decodes_as_search_reads_it(tmp_path: Path) -> None:
    sent = await _ticket_created_as_tickets_builds_it(tmp_path)

    received = _over_the_wire(sent)
    by_type = received.decode(TICKET_TXN_EVENTS[received.type]).payload
    # search's fallback for a ticket.txn.* kind it does not know: the common shape.
    common = TicketTxnEvent.model_validate(received.payload)

    for event in (by_type, common):
        assert event.ticket == sent.payload.ticket
        assert event.transaction == sent.payload.transaction
        ticket, message = event_actions(event)
        assert ticket["_id"] == "42" and message["_source"]["ticket_id"] == 42
        assert "écran 27 pouces" in message["_source"]["text"]
        assert ticket_document(event.ticket)["status"] == "new"


async def test_ticket_event_keeps_the_causal_chain_from_the_mail(tmp_path: Path) -> None:
    sent = await _ticket_created_as_tickets_builds_it(tmp_path)
    event = sent.payload

    assert sent.producer == "tickets"
    assert sent.correlation_id.startswith("smtp-")
    assert sent.causation_id is not None
    assert str(sent.id) == samples.TXN_ID  # the transaction id is the event id (idempotency)
    assert event.source_mail_key == mail_key(samples.RAW_SHA256, samples.QUEUE_ADDRESS)
    assert event.loop is not None and not event.loop.suppress_autoreply


def test_every_ticket_txn_kind_has_the_common_shape() -> None:
    for event_type, payload_type in TICKET_TXN_EVENTS.items():
        assert event_type.startswith("ticket.txn.")
        assert issubclass(payload_type, TicketTxnEvent)
        sample = samples.event_sample(payload_type)
        common = TicketTxnEvent.model_validate(sample.model_dump(mode="json"))
        assert common.model_dump() == sample.model_dump()
