"""Ticket events as the tickets service publishes them, for notify's integration tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from shared.events.ticket import (
    TICKET_TXN_EVENTS,
    AttachmentInfo,
    MailFacts,
    MessageInfo,
    QueueInfo,
    TicketSnapshot,
    TicketTxnEvent,
    TransactionInfo,
)

ACHATS = "achats@tickets.example.org"
ACHATS_COMMENT = "achats-comment@tickets.example.org"
QUEUE = QueueInfo(
    name="achats", correspond_address=ACHATS, comment_address=ACHATS_COMMENT, rtname="example"
)


def ticket_event(
    kind: str,
    ticket: int,
    *,
    requestors: tuple[str, ...] = (),
    ccs: tuple[str, ...] = (),
    admin_ccs: tuple[str, ...] = (),
    owner: str = "Nobody",
    creator: str = "",
    text: str = "Bonjour, un devis svp.",
    message_id: str | None = None,
    attachments: tuple[AttachmentInfo, ...] = (),
    with_message: bool = True,
    to: tuple[str, ...] = (ACHATS,),
    **transaction: Any,
) -> TicketTxnEvent:
    """A ``ticket.txn.<kind>`` event about ``ticket``, with a fresh transaction id."""
    now = datetime.now(UTC)
    creator = creator or (requestors[0] if requestors else "agent@example.org")
    message = MessageInfo(
        message_id=message_id,
        subject="Demande de devis écran",
        from_address=creator,
        to=to,
        text=text,
        attachments=attachments,
    )
    return TICKET_TXN_EVENTS[f"ticket.txn.{kind}"](
        ticket=TicketSnapshot(
            id=ticket,
            queue="achats",
            subject="Demande de devis écran",
            status="new" if kind == "create" else "open",
            owner=owner,
            requestors=requestors,
            ccs=ccs,
            admin_ccs=admin_ccs,
            created=now,
            updated=now,
            version=1,
        ),
        transaction=TransactionInfo(
            id=str(uuid.uuid4()),
            seq=1 if kind == "create" else 2,
            type=kind,
            creator=creator,
            created=now,
            message=message if with_message else None,
            **transaction,
        ),
        queue=QUEUE,
    )


def with_mail(event: TicketTxnEvent, facts: MailFacts) -> TicketTxnEvent:
    transaction = event.transaction.model_copy(update={"mail": facts})
    return event.model_copy(update={"transaction": transaction})
