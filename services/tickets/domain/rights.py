"""Who may do what (pure): RT's rights, granted per queue (or globally) to groups, roles
on the ticket (Requestor, Cc, AdminCc, Owner), single users, or everyone.

A refusal names the missing right. The system administrator has every right; the
operator's CLI acts as the system.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Literal

from services.tickets.domain.model import Ticket
from shared.errors import PermissionDeniedError

RIGHTS = (
    "SeeQueue",
    "CreateTicket",
    "ShowTicket",
    "ShowTicketComments",
    "ReplyToTicket",
    "CommentOnTicket",
    "ModifyTicket",
    "OwnTicket",
    "TakeTicket",
    "StealTicket",
    "Watch",
    "WatchAsAdminCc",
    "ForwardMessage",
    "DeleteTicket",
    "AdminQueue",
)
ROLES = ("Requestor", "Cc", "AdminCc", "Owner")

PrincipalKind = Literal["everyone", "privileged", "group", "role", "user"]


@dataclass(frozen=True)
class Grant:
    """``right`` given to a principal on ``queue`` (None: on every queue)."""

    right: str
    kind: PrincipalKind
    name: str = ""
    queue: str | None = None

    def __post_init__(self) -> None:
        if self.right not in RIGHTS:
            raise ValueError(f"unknown right {self.right!r}")
        if self.kind not in ("everyone", "privileged", "group", "role", "user"):
            raise ValueError(f"unknown kind of principal {self.kind!r}")
        if self.kind in ("group", "role", "user") and not self.name:
            raise ValueError(f"a {self.kind} grant names its {self.kind}")
        if self.kind == "role" and self.name not in ROLES:
            raise ValueError(f"unknown role {self.name!r}")


@dataclass(frozen=True)
class Actor:
    email: str
    privileged: bool = False
    is_admin: bool = False
    system: bool = False
    groups: frozenset[str] = field(default=frozenset())


# Every right but queue administration: what agents usually hold on their queues.
AGENT_RIGHTS = tuple(r for r in RIGHTS if r != "AdminQueue")

# The grants of a new instance (data: an administrator changes them). Anyone may open a
# ticket by mail; requestors and Ccs see and answer their own tickets, nothing more
# (self-service); privileged users (agents) work every queue until narrowed down.
DEFAULT_GRANTS: tuple[Grant, ...] = (
    Grant("CreateTicket", "everyone"),
    Grant("ShowTicket", "role", "Requestor"),
    Grant("ReplyToTicket", "role", "Requestor"),
    Grant("ShowTicket", "role", "Cc"),
    Grant("ReplyToTicket", "role", "Cc"),
    Grant("Watch", "role", "Cc"),  # an observer may take themselves off a ticket
    *(Grant(right, "privileged") for right in AGENT_RIGHTS),
)


def roles_of(
    actor: Actor,
    ticket: Ticket | None,
    queue_ccs: Iterable[str] = (),
    queue_admin_ccs: Iterable[str] = (),
) -> set[str]:
    """The roles ``actor`` holds on ``ticket`` (queue-level watchers count on every ticket)."""
    roles: set[str] = set()
    if actor.email in queue_ccs:
        roles.add("Cc")
    if actor.email in queue_admin_ccs:
        roles.add("AdminCc")
    if ticket is None:
        return roles
    if actor.email in ticket.requestors:
        roles.add("Requestor")
    if actor.email in ticket.ccs:
        roles.add("Cc")
    if actor.email in ticket.admin_ccs:
        roles.add("AdminCc")
    if actor.email == ticket.owner:
        roles.add("Owner")
    return roles


def has_right(
    actor: Actor,
    right: str,
    *,
    queue: str,
    grants: Iterable[Grant],
    roles: Collection[str] = (),
) -> bool:
    if actor.system or actor.is_admin:
        return True
    for grant in grants:
        if grant.right != right or grant.queue not in (None, queue):
            continue
        if (
            grant.kind == "everyone"
            or (grant.kind == "privileged" and actor.privileged)
            or (grant.kind == "group" and grant.name in actor.groups)
            or (grant.kind == "user" and grant.name == actor.email)
            or (grant.kind == "role" and grant.name in roles)
        ):
            return True
    return False


def require(
    actor: Actor,
    right: str,
    *,
    queue: str,
    grants: Iterable[Grant],
    roles: Collection[str] = (),
    what: str = "",
) -> None:
    if not has_right(actor, right, queue=queue, grants=grants, roles=roles):
        target = what or f"queue {queue}"
        raise PermissionDeniedError(
            f"{actor.email} lacks the right {right} on {target}", right=right
        )


def require_show_ticket(
    actor: Actor,
    ticket: Ticket,
    grants: Iterable[Grant] = DEFAULT_GRANTS,
    queue_ccs: Iterable[str] = (),
    queue_admin_ccs: Iterable[str] = (),
) -> None:
    """ShowTicket on this ticket, through any grant (defaults: requestors and Ccs)."""
    require(
        actor,
        "ShowTicket",
        queue=ticket.queue,
        grants=grants,
        roles=roles_of(actor, ticket, queue_ccs, queue_admin_ccs),
        what=f"ticket #{ticket.id}",
    )


def require_admin(actor: Actor) -> None:
    if not (actor.system or actor.is_admin):
        raise PermissionDeniedError(
            f"{actor.email} is not a system administrator", right="SuperUser"
        )
