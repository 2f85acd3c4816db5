"""Who may do what (pure). The foundation grants: system administrators everything,
privileged agents everything on tickets, requestors ShowTicket on their own tickets."""

from __future__ import annotations

from dataclasses import dataclass

from services.tickets.domain.model import Ticket
from shared.errors import PermissionDeniedError


@dataclass(frozen=True)
class Actor:
    email: str
    privileged: bool = False
    is_admin: bool = False
    system: bool = False


def require_show_ticket(actor: Actor, ticket: Ticket) -> None:
    if actor.system or actor.is_admin or actor.privileged:
        return
    if actor.email in ticket.requestors or actor.email in ticket.ccs:
        return
    raise PermissionDeniedError(
        f"{actor.email} lacks the right ShowTicket on ticket #{ticket.id}", right="ShowTicket"
    )


def require_admin(actor: Actor) -> None:
    if not (actor.system or actor.is_admin):
        raise PermissionDeniedError(
            f"{actor.email} is not a system administrator", right="SuperUser"
        )
