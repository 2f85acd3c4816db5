"""Event contracts (pydantic), one module per context."""

from shared.events.envelope import AnyEnvelope, Envelope, EventPayload
from shared.events.mail import LoopFacts, MailReceived
from shared.events.ticket import (
    TICKET_TXN_EVENTS,
    TicketCommented,
    TicketCorresponded,
    TicketCreated,
    TicketSnapshot,
    TicketTxnEvent,
)

ALL_EVENTS: tuple[type[EventPayload], ...] = (MailReceived, *TICKET_TXN_EVENTS.values())

__all__ = [
    "ALL_EVENTS",
    "TICKET_TXN_EVENTS",
    "AnyEnvelope",
    "Envelope",
    "EventPayload",
    "LoopFacts",
    "MailReceived",
    "TicketCommented",
    "TicketCorresponded",
    "TicketCreated",
    "TicketSnapshot",
    "TicketTxnEvent",
]
