"""tickets.domain.rights (who may see and administer) and model.Ticket.snapshot()."""

from __future__ import annotations

import pydantic
import pytest

from services.tickets.domain.rights import Actor, require_admin, require_show_ticket
from shared.errors import PermissionDeniedError
from shared.events.ticket import NOBODY, TicketSnapshot
from tests.unit.factories import ALICE, BOB, LATER, NOW, ticket

ACTORS = {
    "system": Actor("system", system=True),
    "admin": Actor("root@example.org", is_admin=True),
    "privileged": Actor("agent@example.org", privileged=True),
    "requestor": Actor(ALICE),
    "cc": Actor(BOB),
    "stranger": Actor("eve@elsewhere.example"),
}

#               ShowTicket  SuperUser
MATRIX = {
    "system": (True, True),
    "admin": (True, True),
    "privileged": (True, False),
    "requestor": (True, False),
    "cc": (True, False),
    "stranger": (False, False),
}


@pytest.mark.parametrize(("who", "allowed"), [(w, m[0]) for w, m in MATRIX.items()])
def test_show_ticket_is_granted_to_staff_requestors_and_ccs_only(who: str, allowed: bool) -> None:
    actor = ACTORS[who]
    if allowed:
        require_show_ticket(actor, ticket())
        return
    with pytest.raises(PermissionDeniedError) as refused:
        require_show_ticket(actor, ticket())
    assert refused.value.extra == {"right": "ShowTicket"}
    assert "ShowTicket" in refused.value.detail
    assert "#12" in refused.value.detail
    assert actor.email in refused.value.detail


@pytest.mark.parametrize(("who", "allowed"), [(w, m[1]) for w, m in MATRIX.items()])
def test_administration_is_granted_to_system_and_administrators_only(
    who: str, allowed: bool
) -> None:
    actor = ACTORS[who]
    if allowed:
        require_admin(actor)
        return
    with pytest.raises(PermissionDeniedError) as refused:
        require_admin(actor)
    assert refused.value.extra == {"right": "SuperUser"}
    assert actor.email in refused.value.detail


def test_requestor_of_another_ticket_is_refused() -> None:
    with pytest.raises(PermissionDeniedError):
        require_show_ticket(Actor(ALICE), ticket(requestors=("someone@else.example",), ccs=()))


def test_refusal_is_a_403_user_error_with_a_stable_code() -> None:
    with pytest.raises(PermissionDeniedError) as refused:
        require_show_ticket(ACTORS["stranger"], ticket())
    body = refused.value.to_dict()
    assert (body["status"], body["code"], body["right"]) == (403, "permission_denied", "ShowTicket")


# --- snapshot --------------------------------------------------------------------------------


def test_snapshot_carries_every_public_field_of_the_ticket() -> None:
    source = ticket(
        status="resolved",
        owner="agent@example.org",
        admin_ccs=("boss@example.org",),
        priority=5,
        updated=LATER,
        resolved=LATER,
        version=9,
    )
    snap = source.snapshot()
    assert isinstance(snap, TicketSnapshot)
    assert snap.model_dump() == {
        "id": 12,
        "queue": "achats",
        "subject": "Commande de stylos",
        "status": "resolved",
        "owner": "agent@example.org",
        "requestors": (ALICE,),
        "ccs": (BOB,),
        "admin_ccs": ("boss@example.org",),
        "priority": 5,
        "created": NOW,
        "updated": LATER,
        "resolved": LATER,
        "links": {"DependsOn": [], "MemberOf": [], "RefersTo": []},
        "custom_fields": {},
        "due": None,
        "starts": None,
        "merged_into": None,
        "version": 9,
    }


def test_snapshot_of_a_fresh_ticket_has_nobody_as_owner_and_no_message_ids() -> None:
    snap = ticket(status="new", version=1).snapshot()
    assert snap.owner == NOBODY
    assert snap.resolved is None
    assert "message_ids" not in snap.model_dump()


def test_snapshot_round_trips_through_json() -> None:
    snap = ticket().snapshot()
    assert TicketSnapshot.model_validate_json(snap.model_dump_json()) == snap


@pytest.mark.parametrize(
    "changes",
    [{"status": "bogus"}, {"version": 0}, {"id": 0}],
    ids=["unknown-status", "version-0", "id-0"],
)
def test_snapshot_refuses_an_impossible_ticket(changes: dict[str, object]) -> None:
    with pytest.raises(pydantic.ValidationError):
        ticket(**changes).snapshot()


def test_with_changes_makes_the_next_version() -> None:
    before = ticket(version=3)
    after = before.with_changes(LATER, status="stalled")
    assert (after.status, after.version, after.updated) == ("stalled", 4, LATER)
    assert (before.status, before.version) == ("open", 3)
