"""RT's default lifecycle (pure): statuses, the transitions between them, the right each
transition needs, and the rules that move a ticket by themselves.

    new ──► open ◄──► stalled
     │       │  ▲         │
     ▼       ▼  │(reopen) ▼
    resolved / rejected / deleted (inactive; deleted hides the ticket but keeps it)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from shared.errors import ConflictError, InvalidInputError
from shared.events.ticket import Status

INITIAL = ("new",)
ACTIVE = ("open", "stalled")
INACTIVE = ("resolved", "rejected", "deleted")
STATUSES = (*INITIAL, *ACTIVE, *INACTIVE)

# Allowed moves, as RT's default lifecycle has them.
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"open", "stalled", "resolved", "rejected", "deleted"}),
    "open": frozenset({"new", "stalled", "resolved", "rejected", "deleted"}),
    "stalled": frozenset({"new", "open", "rejected", "resolved", "deleted"}),
    "resolved": frozenset({"new", "open", "stalled", "rejected", "deleted"}),
    "rejected": frozenset({"new", "open", "stalled", "resolved", "deleted"}),
    "deleted": frozenset({"new", "open", "stalled", "rejected", "resolved"}),
}


def right_for_transition(old: str, new: str) -> str:
    """Deleting needs DeleteTicket; every other move, restoring included, ModifyTicket (RT)."""
    return "DeleteTicket" if new == "deleted" else "ModifyTicket"


def check_transition(old: str, new: str) -> None:
    if new not in STATUSES:
        raise InvalidInputError(f"unknown status {new!r}; one of {', '.join(STATUSES)}")
    if new == old:
        raise ConflictError(f"the ticket is already {new}")
    if new not in TRANSITIONS[old]:
        raise ConflictError(f"a ticket cannot go from {old} to {new}")


@dataclass(frozen=True)
class LinkedTicket:
    id: int
    status: str


def unresolved_blockers(
    depends_on: Iterable[LinkedTicket], children: Iterable[LinkedTicket]
) -> list[str]:
    """Why a ticket cannot be resolved yet: each ticket it depends on, or each child
    (MemberOf), that is still unresolved. Rejected and deleted ones block nothing."""
    reasons = [f"depends on #{t.id} ({t.status})" for t in depends_on if t.status not in INACTIVE]
    reasons += [f"has child #{t.id} ({t.status})" for t in children if t.status not in INACTIVE]
    return reasons


def check_can_resolve(depends_on: Iterable[LinkedTicket], children: Iterable[LinkedTicket]) -> None:
    blockers = unresolved_blockers(depends_on, children)
    if blockers:
        raise ConflictError("cannot resolve: " + "; ".join(blockers), blockers=blockers)


def status_after_correspondence(status: Status, *, by_agent: bool) -> Status:
    """The automatic moves on correspondence: an agent's reply opens a new ticket; anyone's
    reply reopens a stalled or resolved one (RT's "On Correspond Open Inactive Tickets";
    rejected and deleted tickets stay as they are)."""
    if status == "new" and by_agent:
        return "open"
    if status in {"stalled", "resolved"}:
        return "open"
    return status
