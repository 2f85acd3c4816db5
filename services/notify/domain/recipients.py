"""Who holds each role on a ticket transaction, as notify sees it (pure).

Addresses in events are already normalised (lower case) by the tickets service; the
mail's own headers are compared the same way.
"""

from __future__ import annotations

from typing import Literal

from shared.events.ticket import NOBODY, TicketTxnEvent
from shared.mail.addresses import normalize_address

Role = Literal[
    "requestors",
    "ccs",  # the ticket's own Ccs
    "queue_ccs",  # the queue's Ccs: on every ticket of the queue
    "admin_ccs",
    "queue_admin_ccs",
    "owner",
    "forward_to",  # the addresses a ticket was forwarded to
    "mail_sender",  # who sent the mail the transaction came from
]


def holders(event: TicketTxnEvent, role: Role) -> tuple[str, ...]:
    ticket, queue, txn = event.ticket, event.queue, event.transaction
    match role:
        case "requestors":
            return ticket.requestors
        case "ccs":
            return ticket.ccs
        case "queue_ccs":
            return queue.ccs
        case "admin_ccs":
            return ticket.admin_ccs
        case "queue_admin_ccs":
            return queue.admin_ccs
        case "owner":
            return () if ticket.owner == NOBODY else (ticket.owner,)
        case "forward_to":
            if txn.message is not None and txn.message.to:
                return txn.message.to
            return tuple(a.strip() for a in (txn.new_value or "").split(",") if a.strip())
        case "mail_sender":
            return (txn.mail.sender,) if txn.mail is not None else ()


def mailable(address: str) -> bool:
    return "@" in address and address != NOBODY


def queue_addresses(event: TicketTxnEvent) -> frozenset[str]:
    """Our own addresses: mail to them would come straight back in as a new mail."""
    return frozenset(
        normalize_address(a) for a in (event.queue.correspond_address, event.queue.comment_address)
    )


def already_have_the_mail(event: TicketTxnEvent) -> frozenset[str]:
    """Who got the transaction's mail from its sender directly: its To and Cc. (Its author
    is another matter: see the queue's ``notify_actor``.)"""
    message = event.transaction.message
    if message is None:
        return frozenset()
    return frozenset(normalize_address(a) for a in (*message.to, *message.cc) if a)
