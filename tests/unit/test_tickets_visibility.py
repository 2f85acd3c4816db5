"""tickets.domain.rights.right_reach: where a right reaches for a user, as the search
service filters by it (whole queues, and queues where a role held on a ticket counts),
and that it always agrees with has_right ticket by ticket."""

from __future__ import annotations

import random
from collections.abc import Collection, Mapping

import pytest

from services.tickets.domain.model import Ticket
from services.tickets.domain.rights import (
    DEFAULT_GRANTS,
    EVERY_QUEUE,
    RIGHTS,
    ROLES,
    Actor,
    Grant,
    QueueScope,
    RightReach,
    has_right,
    right_reach,
    roles_of,
)
from shared.events.ticket import NOBODY
from tests.unit.factories import AGENT, ALICE, BOSS, ROOT, STRANGER, ticket

pytestmark = pytest.mark.unit

NO_WATCHERS: Mapping[str, tuple[Collection[str], Collection[str]]] = {}


def queues(*names: str) -> QueueScope:
    return QueueScope(queues=frozenset(names))


@pytest.mark.parametrize(
    "actor", [Actor(ROOT, is_admin=True), Actor("system", system=True)], ids=["admin", "system"]
)
def test_an_administrator_or_the_system_sees_every_queue_whatever_the_grants(
    actor: Actor,
) -> None:
    for right in ("ShowTicket", "ShowTicketComments"):
        assert right_reach(actor, right, [], NO_WATCHERS) == RightReach(EVERY_QUEUE, {})


def test_by_default_an_unknown_user_sees_only_the_tickets_they_request_or_are_cc_on() -> None:
    reach = right_reach(Actor(STRANGER), "ShowTicket", DEFAULT_GRANTS, NO_WATCHERS)
    assert reach == RightReach(queues(), {"Requestor": EVERY_QUEUE, "Cc": EVERY_QUEUE})
    comments = right_reach(Actor(STRANGER), "ShowTicketComments", DEFAULT_GRANTS, NO_WATCHERS)
    assert comments == RightReach(queues(), {})


def test_by_default_an_agent_sees_every_queue_and_no_role_adds_to_it() -> None:
    for right in ("ShowTicket", "ShowTicketComments"):
        reach = right_reach(Actor(AGENT, privileged=True), right, DEFAULT_GRANTS, NO_WATCHERS)
        assert reach == RightReach(EVERY_QUEUE, {})


def test_grants_to_a_group_or_the_user_reach_their_queues_and_not_others() -> None:
    grants = [
        Grant("ShowTicket", "group", "achats-agents", "achats"),
        Grant("ShowTicket", "user", ALICE, "compta"),
        Grant("ShowTicket", "user", BOSS, "direction"),  # someone else's
        Grant("ShowTicket", "group", "ventes-agents", "ventes"),  # a group she is not in
        Grant("ModifyTicket", "everyone", queue="support"),  # another right
    ]
    alice = Actor(ALICE, groups=frozenset({"achats-agents"}))
    reach = right_reach(alice, "ShowTicket", grants, NO_WATCHERS)
    assert reach == RightReach(queues("achats", "compta"), {})


def test_a_queue_level_watcher_holds_the_role_on_every_ticket_of_the_queue() -> None:
    grants = [Grant("ShowTicket", "role", "AdminCc"), Grant("ShowTicket", "role", "Cc", "achats")]
    watchers = {
        "achats": ((ALICE,), ()),  # Cc of every ticket of achats
        "compta": ((ALICE,), (BOSS,)),  # Cc of compta, where Cc gives nothing
        "direction": ((), (ALICE,)),
    }
    reach = right_reach(Actor(ALICE), "ShowTicket", grants, watchers)
    assert reach.direct == queues("achats", "direction")
    # On other queues only the tickets naming her as AdminCc (or Cc, in achats: covered).
    assert reach.roles == {"AdminCc": EVERY_QUEUE}


def test_a_role_reaching_no_further_than_the_queues_is_left_out() -> None:
    grants = [
        Grant("ShowTicket", "privileged", queue="achats"),
        Grant("ShowTicket", "role", "Owner", "achats"),
        Grant("ShowTicket", "role", "Owner", "compta"),
        Grant("ShowTicket", "role", "Requestor", "achats"),
    ]
    reach = right_reach(Actor(AGENT, privileged=True), "ShowTicket", grants, NO_WATCHERS)
    assert reach == RightReach(queues("achats"), {"Owner": queues("compta")})


def test_a_global_grant_to_everyone_reaches_every_queue_and_drops_the_roles() -> None:
    grants = [*DEFAULT_GRANTS, Grant("ShowTicket", "everyone")]
    assert right_reach(Actor(STRANGER), "ShowTicket", grants, NO_WATCHERS) == RightReach(
        EVERY_QUEUE, {}
    )


# Randomised: the reach agrees with has_right on every ticket ------------------------------

QUEUES = ("achats", "compta", "ventes", "support")
PEOPLE = ("alice@x.example", "bob@x.example", "carol@x.example", "dave@x.example")
GROUPS = ("achats-agents", "compta-agents", "direction")


def random_grant(rng: random.Random, right_choices: tuple[str, ...]) -> Grant:
    kind = rng.choice(("everyone", "privileged", "group", "role", "role", "user"))
    name = {
        "group": lambda: rng.choice(GROUPS),
        "role": lambda: rng.choice(ROLES),
        "user": lambda: rng.choice(PEOPLE),
    }.get(kind, lambda: "")()
    queue = rng.choice((None, *QUEUES, "gone"))  # "gone": a queue that no longer exists
    return Grant(rng.choice(right_choices), kind, name, queue)  # type: ignore[arg-type]


def random_people(rng: random.Random, most: int = 2) -> tuple[str, ...]:
    return tuple(rng.sample(PEOPLE, rng.randint(0, most)))


def random_ticket(rng: random.Random, number: int) -> Ticket:
    return ticket(
        id=number,
        queue=rng.choice((*QUEUES, "gone")),
        requestors=random_people(rng),
        ccs=random_people(rng),
        admin_ccs=random_people(rng, 1),
        owner=rng.choice((NOBODY, *PEOPLE)),
    )


def random_actor(rng: random.Random) -> Actor:
    return Actor(
        rng.choice((*PEOPLE, "nobody-known@elsewhere.example")),
        privileged=rng.random() < 0.3,
        is_admin=rng.random() < 0.05,
        groups=frozenset(rng.sample(GROUPS, rng.randint(0, 2))),
    )


def covers(reach: RightReach, actor: Actor, t: Ticket) -> bool:
    """The search filter: the queue is reached directly, or a role the user holds on the
    ticket itself reaches its queue."""
    held = {
        "Requestor": actor.email in t.requestors,
        "Cc": actor.email in t.ccs,
        "AdminCc": actor.email in t.admin_ccs,
        "Owner": actor.email == t.owner,
    }
    return reach.direct.covers(t.queue) or any(
        held[role] and scope.covers(t.queue) for role, scope in reach.roles.items()
    )


@pytest.mark.parametrize("seed", range(200))
def test_the_reach_covers_exactly_the_tickets_has_right_allows(seed: int) -> None:
    rng = random.Random(seed)
    rights = ("ShowTicket", "ShowTicketComments", rng.choice(RIGHTS))
    grants = [random_grant(rng, rights) for _ in range(rng.randint(0, 12))]
    watchers = {
        q: (random_people(rng, 1), random_people(rng, 1)) for q in QUEUES if rng.random() < 0.8
    }
    tickets = [random_ticket(rng, n) for n in range(1, 41)]
    for actor in [random_actor(rng) for _ in range(6)]:
        for right in rights:
            reach = right_reach(actor, right, grants, watchers)
            assert set(reach.roles) <= set(ROLES)
            assert all(not s.every_queue or not s.queues for s in reach.roles.values())
            for t in tickets:
                qccs, qadmin_ccs = watchers.get(t.queue, ((), ()))
                expected = has_right(
                    actor,
                    right,
                    queue=t.queue,
                    grants=grants,
                    roles=roles_of(actor, t, qccs, qadmin_ccs),
                )
                assert covers(reach, actor, t) == expected, (actor, right, grants, watchers, t)
