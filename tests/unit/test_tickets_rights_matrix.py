"""tickets.domain.rights: grants to each kind of principal, per queue or global; the roles a
user holds on a ticket; and what the default grants give to whom."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from services.tickets.domain.model import Ticket
from services.tickets.domain.rights import (
    AGENT_RIGHTS,
    DEFAULT_GRANTS,
    RIGHTS,
    ROLES,
    Actor,
    Grant,
    has_right,
    require,
    roles_of,
)
from shared.errors import PermissionDeniedError
from shared.events.ticket import NOBODY
from tests.unit.factories import (
    AGENT,
    ALICE,
    BOB,
    BOSS,
    OWNER,
    ROOT,
    STRANGER,
    ticket,
)

RIGHT = "ModifyTicket"


@dataclass(frozen=True)
class Principal:
    """A grant's principal, someone it reaches and someone it does not."""

    kind: str
    name: str
    holder: Actor
    holder_roles: frozenset[str]
    other: Actor
    other_roles: frozenset[str]


PRINCIPALS = {
    "everyone": Principal(
        "everyone", "", Actor(STRANGER), frozenset(), Actor(STRANGER), frozenset()
    ),
    "privileged": Principal(
        "privileged",
        "",
        Actor(AGENT, privileged=True),
        frozenset(),
        Actor(STRANGER),
        frozenset(),
    ),
    "group": Principal(
        "group",
        "achats-agents",
        Actor(AGENT, groups=frozenset({"achats-agents", "tous"})),
        frozenset(),
        Actor(AGENT, groups=frozenset({"ventes-agents"})),
        frozenset(),
    ),
    "user": Principal("user", AGENT, Actor(AGENT), frozenset(), Actor(STRANGER), frozenset()),
    "role": Principal(
        "role",
        "Requestor",
        Actor(ALICE),
        frozenset({"Requestor"}),
        Actor(BOB),
        frozenset({"Cc"}),
    ),
}
SCOPES = {"global": None, "on-achats": "achats"}
TARGET_QUEUES = ("achats", "ventes")


def _grant(principal: Principal, scope: str | None) -> Grant:
    return Grant(RIGHT, principal.kind, principal.name, queue=scope)  # type: ignore[arg-type]


# --- has_right: principal kind x scope x queue ------------------------------------------------


@pytest.mark.parametrize("queue", TARGET_QUEUES)
@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("kind", PRINCIPALS)
def test_a_grant_reaches_its_principal_on_its_queue_or_on_every_queue_when_global(
    kind: str, scope: str, queue: str
) -> None:
    principal = PRINCIPALS[kind]
    grant_queue = SCOPES[scope]
    expected = grant_queue is None or grant_queue == queue
    got = has_right(
        principal.holder,
        RIGHT,
        queue=queue,
        grants=[_grant(principal, grant_queue)],
        roles=principal.holder_roles,
    )
    assert got is expected


@pytest.mark.parametrize("queue", TARGET_QUEUES)
@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("kind", [k for k in PRINCIPALS if k != "everyone"])
def test_a_grant_gives_nothing_to_someone_outside_its_principal(
    kind: str, scope: str, queue: str
) -> None:
    principal = PRINCIPALS[kind]
    got = has_right(
        principal.other,
        RIGHT,
        queue=queue,
        grants=[_grant(principal, SCOPES[scope])],
        roles=principal.other_roles,
    )
    assert got is False


@pytest.mark.parametrize("kind", PRINCIPALS)
def test_a_grant_of_one_right_gives_no_other_right(kind: str) -> None:
    principal = PRINCIPALS[kind]
    grants = [_grant(principal, None)]
    for right in RIGHTS:
        got = has_right(
            principal.holder, right, queue="achats", grants=grants, roles=principal.holder_roles
        )
        assert got is (right == RIGHT), right


def test_a_grant_on_queue_achats_gives_nothing_on_queue_ventes_for_every_right() -> None:
    member = Actor(AGENT, groups=frozenset({"achats-agents"}))
    grants = [Grant(right, "group", "achats-agents", queue="achats") for right in RIGHTS]
    for right in RIGHTS:
        assert has_right(member, right, queue="achats", grants=grants)
        assert not has_right(member, right, queue="ventes", grants=grants)


def test_nobody_has_a_right_when_there_are_no_grants() -> None:
    for actor in (Actor(STRANGER), Actor(AGENT, privileged=True), Actor(ALICE)):
        assert not has_right(actor, "ShowTicket", queue="achats", grants=[], roles={"Requestor"})


@pytest.mark.parametrize("role", ROLES)
def test_a_role_grant_reaches_whoever_holds_that_role_and_only_them(role: str) -> None:
    grants = [Grant("ShowTicket", "role", role)]
    assert has_right(Actor(STRANGER), "ShowTicket", queue="achats", grants=grants, roles={role})
    others = set(ROLES) - {role}
    assert not has_right(Actor(STRANGER), "ShowTicket", queue="achats", grants=grants, roles=others)


def test_a_user_grant_is_for_that_exact_address() -> None:
    grants = [Grant("ShowTicket", "user", AGENT)]
    assert has_right(Actor(AGENT), "ShowTicket", queue="achats", grants=grants)
    assert not has_right(Actor("other@example.org"), "ShowTicket", queue="achats", grants=grants)


def test_grants_may_be_any_iterable() -> None:
    grants = (g for g in [Grant("ShowTicket", "everyone")])
    assert has_right(Actor(STRANGER), "ShowTicket", queue="achats", grants=grants)


@pytest.mark.parametrize("queue", TARGET_QUEUES)
@pytest.mark.parametrize("right", RIGHTS)
@pytest.mark.parametrize(
    "actor",
    [Actor("system", system=True), Actor(ROOT, is_admin=True)],
    ids=["system", "admin"],
)
def test_the_system_and_administrators_hold_every_right_without_any_grant(
    actor: Actor, right: str, queue: str
) -> None:
    assert has_right(actor, right, queue=queue, grants=[])
    require(actor, right, queue=queue, grants=[])


# --- require: the refusal names the missing right --------------------------------------------


@pytest.mark.parametrize("right", RIGHTS)
def test_a_refusal_is_a_permission_error_naming_the_missing_right_the_user_and_the_queue(
    right: str,
) -> None:
    with pytest.raises(PermissionDeniedError) as refused:
        require(Actor(STRANGER), right, queue="ventes", grants=[])
    assert refused.value.extra == {"right": right}
    assert refused.value.detail == f"{STRANGER} lacks the right {right} on queue ventes"
    assert refused.value.to_dict()["status"] == 403


def test_a_refusal_names_what_was_asked_for_when_told() -> None:
    with pytest.raises(PermissionDeniedError) as refused:
        require(Actor(STRANGER), "ShowTicket", queue="achats", grants=[], what="ticket #12")
    assert refused.value.detail == f"{STRANGER} lacks the right ShowTicket on ticket #12"


def test_require_is_silent_when_the_right_is_held() -> None:
    grants = [Grant("ShowTicket", "group", "achats-agents", queue="achats")]
    member = Actor(AGENT, groups=frozenset({"achats-agents"}))
    assert require(member, "ShowTicket", queue="achats", grants=grants) is None
    with pytest.raises(PermissionDeniedError):
        require(member, "ShowTicket", queue="ventes", grants=grants)


# --- Grant validation ------------------------------------------------------------------------


@pytest.mark.parametrize("right", ["SuperUser", "showticket", "ShowTickets", "", "Show Ticket"])
def test_a_grant_of_an_unknown_right_is_refused(right: str) -> None:
    with pytest.raises(ValueError, match="unknown right"):
        Grant(right, "everyone")


@pytest.mark.parametrize("role", ["Owners", "requestor", "AdminCC", "Nobody", " Cc"])
def test_a_grant_to_an_unknown_role_is_refused(role: str) -> None:
    with pytest.raises(ValueError, match="unknown role"):
        Grant("ShowTicket", "role", role)


@pytest.mark.parametrize("kind", ["group", "role", "user"])
def test_a_group_role_or_user_grant_without_a_name_is_refused(kind: str) -> None:
    with pytest.raises(ValueError) as refused:
        Grant("ShowTicket", kind)  # type: ignore[arg-type]
    assert str(refused.value) == f"a {kind} grant names its {kind}"
    with pytest.raises(ValueError, match=f"a {kind} grant names its {kind}"):
        Grant("ShowTicket", kind, "", queue="achats")  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["everyone", "privileged"])
def test_an_everyone_or_privileged_grant_needs_no_name(kind: str) -> None:
    assert Grant("ShowTicket", kind).name == ""  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["Everyone", "groups", "admin", "anyone", ""])
def test_a_grant_to_an_unknown_kind_of_principal_is_refused(kind: str) -> None:
    with pytest.raises(ValueError, match="unknown kind of principal"):
        Grant("ShowTicket", kind, "achats-agents")  # type: ignore[arg-type]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("right", RIGHTS)
def test_every_known_right_may_be_granted_to_every_known_role(right: str, role: str) -> None:
    assert Grant(right, "role", role, queue="achats").name == role


def test_a_grant_is_a_frozen_value() -> None:
    grant = Grant("ShowTicket", "everyone")
    assert grant == Grant("ShowTicket", "everyone", "", None)
    with pytest.raises(AttributeError):
        grant.queue = "achats"  # type: ignore[misc]


# --- roles_of --------------------------------------------------------------------------------

ROLE_TICKET = ticket(requestors=(ALICE,), ccs=(BOB,), admin_ccs=(BOSS,), owner=OWNER)


@pytest.mark.parametrize(
    ("email", "roles"),
    [
        (ALICE, {"Requestor"}),
        (BOB, {"Cc"}),
        (BOSS, {"AdminCc"}),
        (OWNER, {"Owner"}),
        (STRANGER, set()),
    ],
    ids=["requestor", "cc", "admincc", "owner", "stranger"],
)
def test_roles_of_reads_each_role_off_the_ticket(email: str, roles: set[str]) -> None:
    assert roles_of(Actor(email), ROLE_TICKET) == roles


def test_one_person_may_hold_several_roles_on_a_ticket() -> None:
    busy = ticket(requestors=(AGENT,), ccs=(AGENT,), admin_ccs=(AGENT,), owner=AGENT)
    assert roles_of(Actor(AGENT, privileged=True), busy) == set(ROLES)


def test_nobody_holds_the_owner_role_on_an_unowned_ticket() -> None:
    unowned = ticket(owner=NOBODY)
    for email in (ALICE, BOB, AGENT, STRANGER):
        assert "Owner" not in roles_of(Actor(email), unowned)


@pytest.mark.parametrize(
    ("queue_ccs", "queue_admin_ccs", "roles"),
    [
        ((STRANGER,), (), {"Cc"}),
        ((), (STRANGER,), {"AdminCc"}),
        ((STRANGER,), (STRANGER,), {"Cc", "AdminCc"}),
        (("someone@example.org",), ("other@example.org",), set()),
    ],
    ids=["queue-cc", "queue-admincc", "both", "neither"],
)
def test_queue_level_watchers_hold_their_role_on_every_ticket_of_the_queue(
    queue_ccs: tuple[str, ...], queue_admin_ccs: tuple[str, ...], roles: set[str]
) -> None:
    actor = Actor(STRANGER)
    assert roles_of(actor, ROLE_TICKET, queue_ccs, queue_admin_ccs) == roles
    assert roles_of(actor, None, queue_ccs, queue_admin_ccs) == roles


def test_queue_level_and_ticket_roles_add_up() -> None:
    assert roles_of(Actor(ALICE), ROLE_TICKET, queue_admin_ccs=[ALICE]) == {"Requestor", "AdminCc"}


def test_without_a_ticket_only_queue_level_roles_count() -> None:
    assert roles_of(Actor(ALICE), None) == set()


# --- DEFAULT_GRANTS --------------------------------------------------------------------------

SELF_SERVICE = {"CreateTicket", "ShowTicket", "ReplyToTicket"}
CC_SELF_SERVICE = SELF_SERVICE | {"Watch"}  # an observer may take themselves off a ticket
NOTHING_BUT_CREATE = {"CreateTicket"}

# who -> (actor, the ticket they act on, the rights they hold on it by default)
DEFAULT_HOLDERS: dict[str, tuple[Actor, Ticket, set[str]]] = {
    "privileged-agent": (Actor(AGENT, privileged=True), ROLE_TICKET, set(AGENT_RIGHTS)),
    "requestor-own-ticket": (Actor(ALICE), ROLE_TICKET, SELF_SERVICE),
    "cc-own-ticket": (Actor(BOB), ROLE_TICKET, CC_SELF_SERVICE),
    "requestor-of-another-ticket": (
        Actor(ALICE),
        ticket(id=13, requestors=("someone@example.org",), ccs=()),
        NOTHING_BUT_CREATE,
    ),
    "cc-of-another-ticket": (
        Actor(BOB),
        ticket(id=13, requestors=("someone@example.org",), ccs=()),
        NOTHING_BUT_CREATE,
    ),
    "unprivileged-stranger": (Actor(STRANGER), ROLE_TICKET, NOTHING_BUT_CREATE),
}


@pytest.mark.parametrize("queue", TARGET_QUEUES)
@pytest.mark.parametrize("right", RIGHTS)
@pytest.mark.parametrize("who", DEFAULT_HOLDERS)
def test_the_default_grants_give_each_kind_of_user_exactly_their_rights(
    who: str, right: str, queue: str
) -> None:
    actor, on_ticket, expected = DEFAULT_HOLDERS[who]
    roles = roles_of(actor, on_ticket)
    got = has_right(actor, right, queue=queue, grants=DEFAULT_GRANTS, roles=roles)
    assert got is (right in expected)


REFUSED_BY_DEFAULT = {
    "requestor": (
        ALICE,
        ["CommentOnTicket", "ModifyTicket", "ShowTicketComments", "Watch", "OwnTicket"],
    ),
    "cc": (BOB, ["CommentOnTicket", "ModifyTicket", "ShowTicketComments", "OwnTicket"]),
}
REFUSED_CASES = [
    (who, email, right) for who, (email, rights) in REFUSED_BY_DEFAULT.items() for right in rights
]


@pytest.mark.parametrize(
    ("email", "right"),
    [(email, right) for _, email, right in REFUSED_CASES],
    ids=[f"{who}-{right}" for who, _, right in REFUSED_CASES],
)
def test_requestors_and_ccs_may_not_comment_modify_or_read_comments_by_default(
    email: str, right: str
) -> None:
    actor = Actor(email)
    roles = roles_of(actor, ROLE_TICKET)
    with pytest.raises(PermissionDeniedError) as refused:
        require(actor, right, queue="achats", grants=DEFAULT_GRANTS, roles=roles)
    assert refused.value.extra == {"right": right}


def test_by_default_a_cc_may_watch_but_a_requestor_may_not() -> None:
    cc, requestor = Actor(BOB), Actor(ALICE)
    require(cc, "Watch", queue="achats", grants=DEFAULT_GRANTS, roles=roles_of(cc, ROLE_TICKET))
    assert not has_right(
        requestor,
        "Watch",
        queue="achats",
        grants=DEFAULT_GRANTS,
        roles=roles_of(requestor, ROLE_TICKET),
    )
    assert Grant("Watch", "role", "Cc") in DEFAULT_GRANTS
    assert not has_right(cc, "WatchAsAdminCc", queue="achats", grants=DEFAULT_GRANTS, roles={"Cc"})


def test_agent_rights_are_every_right_but_queue_administration() -> None:
    assert set(AGENT_RIGHTS) == set(RIGHTS) - {"AdminQueue"}
    assert not has_right(
        Actor(AGENT, privileged=True), "AdminQueue", queue="achats", grants=DEFAULT_GRANTS
    )


def test_the_default_grants_are_all_global() -> None:
    assert all(grant.queue is None for grant in DEFAULT_GRANTS)


@pytest.mark.parametrize("role", ["AdminCc", "Owner"])
def test_the_default_grants_give_the_admincc_and_owner_roles_nothing_by_themselves(
    role: str,
) -> None:
    # Queue administrators and owners are expected to be privileged agents (see the report).
    held = {
        right
        for right in RIGHTS
        if has_right(Actor(STRANGER), right, queue="achats", grants=DEFAULT_GRANTS, roles={role})
    }
    assert held == NOTHING_BUT_CREATE
