"""Which mails a ticket transaction sends, to whom (pure). RT calls these scrips.

The foundation has RT's first rule: on create, an autoreply to the requestors — never to
a machine (RFC 3834: auto-submitted, bulk or list mail, mailer daemons, our own loop).
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.events.ticket import TicketTxnEvent


@dataclass(frozen=True)
class PlannedMail:
    template: str
    recipient: str
    reply_kind: str  # "correspond" or "comment": which queue address it is sent from


def plan_notifications(event: TicketTxnEvent) -> list[PlannedMail]:
    if event.transaction.type != "create":
        return []
    if event.loop is not None and event.loop.suppress_autoreply:
        return []
    return [PlannedMail("autoreply", r, "correspond") for r in event.ticket.requestors]
