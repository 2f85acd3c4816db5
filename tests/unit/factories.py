"""Small builders shared by the unit tests: mails, parsed mails, tickets, queues, events.

Every builder takes keyword overrides so a test states only what it is about.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from services.tickets.domain.commands import Context
from services.tickets.domain.model import Queue, Ticket
from services.tickets.domain.rights import DEFAULT_GRANTS, Actor
from shared.events.mail import LoopFacts
from shared.events.ticket import (
    AttachmentInfo,
    MessageInfo,
    QueueInfo,
    TicketCommented,
    TicketCorresponded,
    TicketCreated,
    TicketSnapshot,
    TicketTxnEvent,
    TransactionInfo,
)
from shared.mail.parsing import ParsedMail

NOW = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)
LATER = NOW + timedelta(hours=2)

RTNAME = "example"
TXN_ID = "0b8f6c1e-8a3c-4a53-9a55-6f0e3d1f2a10"

ALICE = "alice@client.example.net"  # the requestor
BOB = "bob@supplier.example.com"  # a Cc
ACHATS = "achats@example.org"
ACHATS_COMMENT = "achats-comment@example.org"


def email_message(
    *,
    subject: str | None = "Commande de stylos",
    sender: str | None = f"Alice Martin <{ALICE}>",
    to: str | None = ACHATS,
    cc: str | None = None,
    body: str | None = "Bonjour,\nil nous faut des stylos.\n",
    **headers: str,
) -> EmailMessage:
    """A well-formed mail; ``headers`` take Python names (``message_id`` → ``Message-ID``)."""
    msg = EmailMessage()
    for name, value in (("From", sender), ("To", to), ("Cc", cc), ("Subject", subject)):
        if value is not None:
            msg[name] = value
    for name, value in headers.items():
        msg[_header_name(name)] = value
    if body is not None:
        msg.set_content(body)
    return msg


def _header_name(python_name: str) -> str:
    special = {"message_id": "Message-ID", "list_id": "List-Id"}
    return special.get(python_name, "-".join(p.capitalize() for p in python_name.split("_")))


def parsed_mail(**overrides: Any) -> ParsedMail:
    """A ParsedMail as ``parse_mail`` would give for a plain mail from Alice."""
    values: dict[str, Any] = {
        "subject": "Commande de stylos",
        "from_address": ALICE,
        "from_name": "Alice Martin",
        "to": (ACHATS,),
        "cc": (),
        "reply_to": (),
        "message_id": "<m1@client.example.net>",
        "in_reply_to": (),
        "references": (),
        "date": NOW,
        "text": "Bonjour,\nil nous faut des stylos.",
        "html": None,
        "attachments": (),
        "headers": {},
    }
    values.update(overrides)
    return ParsedMail(**values)


def queue(**overrides: Any) -> Queue:
    values: dict[str, Any] = {
        "name": "achats",
        "correspond_address": ACHATS,
        "comment_address": ACHATS_COMMENT,
    }
    values.update(overrides)
    return Queue(**values)


def ticket(**overrides: Any) -> Ticket:
    values: dict[str, Any] = {
        "id": 12,
        "queue": "achats",
        "subject": "Commande de stylos",
        "status": "open",
        "created": NOW,
        "updated": NOW,
        "version": 3,
        "requestors": (ALICE,),
        "ccs": (BOB,),
        "message_ids": ("<m1@client.example.net>",),
    }
    values.update(overrides)
    return Ticket(**values)


def queue_info(**overrides: Any) -> QueueInfo:
    values: dict[str, Any] = {
        "name": "achats",
        "correspond_address": ACHATS,
        "comment_address": ACHATS_COMMENT,
        "rtname": RTNAME,
        "language": "fr",
    }
    values.update(overrides)
    return QueueInfo(**values)


def snapshot(**overrides: Any) -> TicketSnapshot:
    values: dict[str, Any] = {
        "id": 7,
        "queue": "achats",
        "subject": "Commande de stylos",
        "status": "new",
        "requestors": (ALICE,),
        "created": NOW,
        "updated": NOW,
        "version": 1,
    }
    values.update(overrides)
    return TicketSnapshot(**values)


def message_info(**overrides: Any) -> MessageInfo:
    values: dict[str, Any] = {
        "message_id": "<m1@client.example.net>",
        "subject": "Commande de stylos",
        "from_address": ALICE,
        "to": (ACHATS,),
        "text": "Bonjour,\nil nous faut des stylos.\n",
        "attachments": (
            AttachmentInfo(
                filename="devis.pdf", content_type="application/pdf", size=9, sha256="0" * 64
            ),
        ),
    }
    values.update(overrides)
    return MessageInfo(**values)


_NO_MESSAGE = object()


def txn_event(
    kind: str = "create",
    *,
    ticket: TicketSnapshot | None = None,
    queue: QueueInfo | None = None,
    message: Any = _NO_MESSAGE,
    loop: LoopFacts | None = None,
    txn_id: str = TXN_ID,
) -> TicketTxnEvent:
    """A ``ticket.txn.<kind>`` event (create, correspond or comment) about ticket #7."""
    event_type = {
        "create": TicketCreated,
        "correspond": TicketCorresponded,
        "comment": TicketCommented,
    }[kind]
    return event_type(
        ticket=ticket or snapshot(),
        transaction=TransactionInfo(
            id=txn_id,
            seq=1,
            type=kind,
            creator=ALICE,
            created=NOW,
            message=message_info() if message is _NO_MESSAGE else message,
        ),
        queue=queue or queue_info(),
        loop=loop,
    )


def ticket_created(**kwargs: Any) -> TicketCreated:
    event = txn_event("create", **kwargs)
    assert isinstance(event, TicketCreated)
    return event


# --- tickets.domain: people, actors and the context of a command -------------------------

AGENT = "agent@example.org"  # a privileged agent
OWNER = "carol@example.org"  # a privileged agent who owns the ticket
DAVE = "dave@example.org"  # a privileged agent a ticket may be assigned to
BOSS = "boss@example.org"  # an AdminCc
FRANK = "frank@freight.example.com"  # someone not yet on the ticket
STRANGER = "eve@elsewhere.example"  # unprivileged, no role on the ticket
ROOT = "root@example.org"  # a system administrator


def context(actor: Actor | None = None, **overrides: Any) -> Context:
    """The context of a command by ``actor`` (a privileged agent unless told) at LATER,
    under the default grants."""
    values: dict[str, Any] = {
        "actor": actor or Actor(AGENT, privileged=True),
        "grants": DEFAULT_GRANTS,
        "now": LATER,
        "txn_id": TXN_ID,
    }
    values.update(overrides)
    return Context(**values)
