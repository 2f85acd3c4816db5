"""Who may do what (pure): RT's rights, granted per queue (or globally) to groups, roles
on the ticket (Requestor, Cc, AdminCc, Owner), single users, or everyone.

A refusal names the missing right. The system administrator has every right; the
operator's CLI acts as the system.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from services.tickets.domain.model import Ticket
from shared.errors import PermissionDeniedError
from shared.rpc.tickets import RIGHTS, ROLES

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
        if _names(grant, actor) or (grant.kind == "role" and grant.name in roles):
            return True
    return False


def _names(grant: Grant, actor: Actor) -> bool:
    """Whether ``grant`` is given to ``actor`` whatever the ticket (not through a role)."""
    return (
        grant.kind == "everyone"
        or (grant.kind == "privileged" and actor.privileged)
        or (grant.kind == "group" and grant.name in actor.groups)
        or (grant.kind == "user" and grant.name == actor.email)
    )


@dataclass(frozen=True)
class QueueScope:
    """Queues where something holds: every queue, or these."""

    every_queue: bool = False
    queues: frozenset[str] = frozenset()

    def covers(self, queue: str) -> bool:
        return self.every_queue or queue in self.queues


EVERY_QUEUE = QueueScope(every_queue=True)


@dataclass(frozen=True)
class RightReach:
    """Where one right reaches for one user, as a search filter needs it: ``direct`` on
    every ticket of these queues; ``roles[role]`` on the tickets of these queues where the
    user holds ``role`` (named on the ticket itself). A role reaching no further than
    ``direct`` is left out."""

    direct: QueueScope
    roles: Mapping[str, QueueScope] = field(default_factory=dict)


def right_reach(
    actor: Actor,
    right: str,
    grants: Iterable[Grant],
    queue_watchers: Mapping[str, tuple[Collection[str], Collection[str]]],
) -> RightReach:
    """Where ``right`` reaches for ``actor``: the same answer as :func:`has_right` with
    :func:`roles_of` gives ticket by ticket. ``queue_watchers`` maps each queue to its
    queue-level Ccs and AdminCcs: such a watcher holds the role on every ticket of the
    queue, so a role grant reaches them there directly."""
    if actor.system or actor.is_admin:
        return RightReach(EVERY_QUEUE)
    everywhere = False
    direct: set[str] = set()
    role_everywhere: set[str] = set()
    role_queues: dict[str, set[str]] = {role: set() for role in ROLES}
    for grant in grants:
        if grant.right != right:
            continue
        if grant.kind != "role":
            if not _names(grant, actor):
                continue
            if grant.queue is None:
                everywhere = True
            else:
                direct.add(grant.queue)
            continue
        if grant.queue is None:
            role_everywhere.add(grant.name)
        else:
            role_queues[grant.name].add(grant.queue)
        for queue, (ccs, admin_ccs) in queue_watchers.items():
            watchers = {"Cc": ccs, "AdminCc": admin_ccs}.get(grant.name, ())
            if grant.queue in (None, queue) and actor.email in watchers:
                direct.add(queue)
    if everywhere:
        return RightReach(EVERY_QUEUE)
    roles: dict[str, QueueScope] = {}
    for role in ROLES:
        if role in role_everywhere:
            roles[role] = EVERY_QUEUE
        elif queues := role_queues[role] - direct:
            roles[role] = QueueScope(queues=frozenset(queues))
    return RightReach(QueueScope(queues=frozenset(direct)), roles)


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
