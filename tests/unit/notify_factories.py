"""Builders of ticket events as notify receives them (any ``ticket.txn.<kind>``)."""

from __future__ import annotations

from typing import Any

from shared.events.mail import LoopFacts
from shared.events.ticket import (
    TICKET_TXN_EVENTS,
    MailCommandOutcome,
    MailFacts,
    MessageInfo,
    QueueInfo,
    TicketSnapshot,
    TicketTxnEvent,
    TransactionInfo,
)
from tests.unit.factories import ALICE, NOW, TXN_ID, message_info, queue_info, snapshot

OWNER = "carol@example.org"  # the agent who owns the ticket
BOSS = "boss@example.org"  # an AdminCc of the ticket
CHIEF = "chief@example.org"  # an AdminCc of the queue
WATCHER = "watcher@example.org"  # a Cc of the queue
SUPPLIER = "ventes@supplier.example.com"  # a Cc of the ticket
AGENT = "agent@example.org"

_UNSET: Any = object()


def event(
    kind: str = "create",
    *,
    ticket: TicketSnapshot | None = None,
    queue: QueueInfo | None = None,
    message: MessageInfo | None = _UNSET,
    creator: str = ALICE,
    loop: LoopFacts | None = None,
    mail: MailFacts | None = None,
    old_value: str | None = None,
    new_value: str | None = None,
    note: str | None = None,
    txn_id: str = TXN_ID,
) -> TicketTxnEvent:
    """A ``ticket.txn.<kind>`` event about ticket #7 (see tests.unit.factories)."""
    return TICKET_TXN_EVENTS[f"ticket.txn.{kind}"](
        ticket=ticket or snapshot(),
        transaction=TransactionInfo(
            id=txn_id,
            seq=1 if kind == "create" else 2,
            type=kind,
            creator=creator,
            created=NOW,
            message=message_info(from_address=creator) if message is _UNSET else message,
            old_value=old_value,
            new_value=new_value,
            note=note,
            mail=mail,
        ),
        queue=queue or queue_info(),
        loop=loop,
    )


def watched(**overrides: Any) -> TicketSnapshot:
    """Ticket #7 with every role filled: requestor Alice, a Cc, an AdminCc, an owner."""
    values: dict[str, Any] = {
        "requestors": (ALICE,),
        "ccs": (SUPPLIER,),
        "admin_ccs": (BOSS,),
        "owner": OWNER,
        "status": "open",
    }
    values.update(overrides)
    return snapshot(**values)


def queue_with_watchers(**overrides: Any) -> QueueInfo:
    return queue_info(ccs=(WATCHER,), admin_ccs=(CHIEF,), **overrides)


def commands(*outcomes: tuple[str, str, str]) -> MailFacts:
    """Mail facts of a mail from the agent with these (line, outcome, reason) commands."""
    return MailFacts(
        sender=AGENT,
        commands=tuple(
            MailCommandOutcome(line=line, command=line.split(":")[0], outcome=o, reason=r)
            for line, o, r in outcomes
        ),
    )
