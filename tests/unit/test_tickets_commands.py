"""tickets.domain.commands.decide: who may run each command (a matrix under the default
grants, and queue-scoped grants), then what each command does to the ticket."""

from __future__ import annotations

import copy
import dataclasses
from datetime import datetime
from typing import Any

import pytest

from services.tickets.domain.commands import (
    AddWatcher,
    Assign,
    Command,
    Comment,
    Context,
    RemoveWatcher,
    Reply,
    SetPriority,
    SetStatus,
    SetSubject,
    Steal,
    Take,
    Untake,
    decide,
)
from services.tickets.domain.lifecycle import STATUSES, LinkedTicket
from services.tickets.domain.model import Ticket, Transaction
from services.tickets.domain.rights import AGENT_RIGHTS, Actor, Grant
from shared.errors import ConflictError, InvalidInputError, PermissionDeniedError
from shared.events.ticket import NOBODY, MessageInfo, TicketSnapshot
from tests.unit.factories import (
    AGENT,
    ALICE,
    BOB,
    BOSS,
    DAVE,
    FRANK,
    LATER,
    NOW,
    OWNER,
    ROOT,
    STRANGER,
    TXN_ID,
    context,
    ticket,
)

ACTORS = {
    "admin": Actor(ROOT, is_admin=True),
    "agent": Actor(AGENT, privileged=True),
    "owner": Actor(OWNER, privileged=True),
    "requestor": Actor(ALICE),
    "cc": Actor(BOB),
    "stranger": Actor(STRANGER),
}
DAVE_AGENT = Actor(DAVE, privileged=True)

COMMANDS: dict[str, Command] = {
    "reply": Reply("Bonjour, voici le devis."),
    "comment": Comment("Fournisseur relancé."),
    "set-status-new": SetStatus("new"),
    "set-status-open": SetStatus("open"),
    "set-status-stalled": SetStatus("stalled"),
    "set-status-resolved": SetStatus("resolved"),
    "set-status-rejected": SetStatus("rejected"),
    "set-status-deleted": SetStatus("deleted"),
    "take": Take(),
    "steal": Steal(),
    "assign": Assign(DAVE),
    "untake": Untake(),
    "add-requestor": AddWatcher("Requestor", FRANK),
    "add-cc": AddWatcher("Cc", FRANK),
    "add-admincc": AddWatcher("AdminCc", FRANK),
    "remove-requestor": RemoveWatcher("Requestor", ALICE),
    "remove-cc": RemoveWatcher("Cc", BOB),
    "remove-admincc": RemoveWatcher("AdminCc", BOSS),
    "set-priority": SetPriority(50),
    "set-subject": SetSubject("Commande de crayons"),
}

OK = "allowed"
CONFLICT = "conflict"
SHOW = "ShowTicket"
MODIFY = "ModifyTicket"

# What each actor gets under DEFAULT_GRANTS: allowed, a conflict, or the right named in the
# refusal. The ticket is owned by OWNER (unowned for Take, except for the owner themself).
# The Cc may remove themselves ("remove-cc" removes BOB) through the Cc role's Watch.
#                          admin agent owner requestor          cc                 stranger
MATRIX: dict[str, tuple[str, str, str, str, str, str]] = {
    "reply":               (OK, OK, OK, OK,                OK,                SHOW),
    "comment":             (OK, OK, OK, "CommentOnTicket", "CommentOnTicket", SHOW),
    "set-status-new":      (OK, OK, OK, MODIFY,            MODIFY,            SHOW),
    "set-status-open":     (OK, OK, OK, MODIFY,            MODIFY,            SHOW),
    "set-status-stalled":  (OK, OK, OK, MODIFY,            MODIFY,            SHOW),
    "set-status-resolved": (OK, OK, OK, MODIFY,            MODIFY,            SHOW),
    "set-status-rejected": (OK, OK, OK, MODIFY,            MODIFY,            SHOW),
    "set-status-deleted":  (OK, OK, OK, "DeleteTicket",    "DeleteTicket",    SHOW),
    "take":                (OK, OK, CONFLICT, "OwnTicket", "OwnTicket",       SHOW),
    "steal":               (OK, OK, CONFLICT, "OwnTicket", "OwnTicket",       SHOW),
    "assign":              (OK, OK, OK, MODIFY,            MODIFY,            SHOW),
    "untake":              (OK, OK, OK, MODIFY,            MODIFY,            SHOW),
    "add-requestor":       (OK, OK, OK, MODIFY,            MODIFY,            SHOW),
    "add-cc":              (OK, OK, OK, MODIFY,            MODIFY,            SHOW),
    "add-admincc":         (OK, OK, OK, MODIFY,            MODIFY,            SHOW),
    "remove-requestor":    (OK, OK, OK, MODIFY,            MODIFY,            SHOW),
    "remove-cc":           (OK, OK, OK, MODIFY,            OK,                SHOW),
    "remove-admincc":      (OK, OK, OK, MODIFY,            MODIFY,            SHOW),
    "set-priority":        (OK, OK, OK, MODIFY,            MODIFY,            SHOW),
    "set-subject":         (OK, OK, OK, MODIFY,            MODIFY,            SHOW),
}  # fmt: skip

ACTORS_INDEX = {who: column for column, who in enumerate(ACTORS)}
CASES = [
    (command, who, MATRIX[command][column])
    for command in COMMANDS
    for column, who in enumerate(ACTORS)
]


def matrix_ticket(command: str, who: str) -> Ticket:
    return ticket(
        status="stalled" if command == "set-status-open" else "open",
        owner=NOBODY if command == "take" and who != "owner" else OWNER,
        admin_ccs=(BOSS,),
    )


def run(before: Ticket, command: Command, ctx: Context | None = None) -> tuple[Ticket, Transaction]:
    return decide(before, command, ctx or context())


def refused_right(before: Ticket, command: Command, ctx: Context) -> str:
    with pytest.raises(PermissionDeniedError) as refused:
        decide(before, command, ctx)
    right = refused.value.extra["right"]
    assert f"lacks the right {right}" in refused.value.detail
    return str(right)


def test_the_matrix_covers_every_command_and_actor() -> None:
    assert set(MATRIX) == set(COMMANDS)
    assert all(len(row) == len(ACTORS) for row in MATRIX.values())


# --- the matrix under DEFAULT_GRANTS ---------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "who", "expected"), CASES, ids=[f"{c}-by-{w}" for c, w, _ in CASES]
)
def test_each_actor_may_run_each_command_as_the_default_grants_say(
    command: str, who: str, expected: str
) -> None:
    actor = ACTORS[who]
    before = matrix_ticket(command, who)
    ctx = context(actor, assignee=DAVE_AGENT)
    if expected == OK:
        after, txn = decide(before, COMMANDS[command], ctx)
        assert (after.version, txn.creator) == (before.version + 1, actor.email)
    elif expected == CONFLICT:
        with pytest.raises(ConflictError):
            decide(before, COMMANDS[command], ctx)
    else:
        assert refused_right(before, COMMANDS[command], ctx) == expected


@pytest.mark.parametrize("command", COMMANDS)
def test_a_refusal_names_the_user_the_right_and_the_ticket(command: str) -> None:
    with pytest.raises(PermissionDeniedError) as refused:
        decide(matrix_ticket(command, "stranger"), COMMANDS[command], context(ACTORS["stranger"]))
    assert refused.value.detail == f"{STRANGER} lacks the right ShowTicket on ticket #12"
    assert refused.value.extra == {"right": "ShowTicket"}


# --- queue-scoped grants through decide -------------------------------------------------------

ACHATS_AGENTS: tuple[Grant, ...] = (
    *(Grant(right, "group", "achats-agents", queue="achats") for right in AGENT_RIGHTS),
    Grant("ShowTicket", "group", "achats-agents", queue="ventes"),
)
ACHATS_MEMBER = Actor("paul@example.org", groups=frozenset({"achats-agents"}))


@pytest.mark.parametrize("command", COMMANDS)
def test_a_group_granted_rights_on_achats_may_work_achats_tickets(command: str) -> None:
    before = matrix_ticket(command, "agent")
    ctx = context(ACHATS_MEMBER, grants=ACHATS_AGENTS, assignee=DAVE_AGENT)
    # DAVE is privileged but privileged agents hold nothing under these grants:
    if command == "assign":
        ctx = dataclasses.replace(ctx, assignee=Actor(DAVE, groups=frozenset({"achats-agents"})))
    after, _ = decide(before, COMMANDS[command], ctx)
    assert after.version == before.version + 1


@pytest.mark.parametrize("command", COMMANDS)
def test_the_same_group_may_only_look_at_ventes_tickets(command: str) -> None:
    before = dataclasses.replace(matrix_ticket(command, "agent"), queue="ventes")
    ctx = context(ACHATS_MEMBER, grants=ACHATS_AGENTS, assignee=DAVE_AGENT)
    # Seeing without any role, the member is refused what a requestor is refused, and
    # replying too (a requestor's ReplyToTicket comes from the role).
    expected = MATRIX[command][ACTORS_INDEX["requestor"]]
    if command == "reply":
        expected = "ReplyToTicket"
    assert refused_right(before, COMMANDS[command], ctx) == expected


@pytest.mark.parametrize("command", COMMANDS)
def test_a_group_with_no_grant_on_a_queue_cannot_even_see_its_tickets(command: str) -> None:
    before = dataclasses.replace(matrix_ticket(command, "agent"), queue="informatique")
    ctx = context(ACHATS_MEMBER, grants=ACHATS_AGENTS, assignee=DAVE_AGENT)
    assert refused_right(before, COMMANDS[command], ctx) == "ShowTicket"


def test_privileged_agents_hold_nothing_when_the_grants_name_only_a_group() -> None:
    ctx = context(ACTORS["agent"], grants=ACHATS_AGENTS)
    assert refused_right(ticket(), SetPriority(5), ctx) == "ShowTicket"


@pytest.mark.parametrize(
    ("queue", "allowed"), [("achats", True), ("ventes", False)], ids=["achats", "ventes"]
)
def test_an_assignee_may_only_own_tickets_of_the_queues_where_they_hold_own_ticket(
    queue: str, allowed: bool
) -> None:
    before = ticket(queue=queue, owner=NOBODY)
    assignee = Actor(DAVE, groups=frozenset({"achats-agents"}))
    grants = (*ACHATS_AGENTS, *(Grant(r, "privileged") for r in ("ShowTicket", "ModifyTicket")))
    ctx = context(ACTORS["agent"], grants=grants, assignee=assignee)
    if allowed:
        assert run(before, Assign(DAVE), ctx)[0].owner == DAVE
    else:
        assert refused_right(before, Assign(DAVE), ctx) == "OwnTicket"


# --- every successful command: versions, transaction, immutability ---------------------------

AGENT_OK = [c for c in COMMANDS if MATRIX[c][ACTORS_INDEX["agent"]] == OK]


@pytest.mark.parametrize("command", AGENT_OK)
def test_a_command_makes_the_next_version_and_one_transaction_from_the_context(
    command: str,
) -> None:
    before = matrix_ticket(command, "agent")
    after, txn = run(before, COMMANDS[command], context(assignee=DAVE_AGENT))
    assert after.version == before.version + 1 == txn.seq
    assert after.updated == LATER
    assert after.created == NOW
    assert (txn.id, txn.ticket, txn.creator, txn.created) == (TXN_ID, 12, AGENT, LATER)
    assert (after.id, after.queue, after.message_ids) == (
        before.id,
        before.queue,
        before.message_ids,
    )


@pytest.mark.parametrize("command", AGENT_OK)
def test_a_command_never_changes_the_ticket_it_was_given(command: str) -> None:
    before = matrix_ticket(command, "agent")
    kept = copy.deepcopy(before)
    run(before, COMMANDS[command], context(assignee=DAVE_AGENT))
    assert before == kept
    with pytest.raises(dataclasses.FrozenInstanceError):
        before.status = "resolved"  # type: ignore[misc]


@pytest.mark.parametrize("command", AGENT_OK)
def test_the_ticket_after_a_command_is_a_valid_snapshot(command: str) -> None:
    after, _ = run(matrix_ticket(command, "agent"), COMMANDS[command], context(assignee=DAVE_AGENT))
    snap = after.snapshot()
    assert isinstance(snap, TicketSnapshot)
    assert snap.version == after.version


def test_the_context_is_a_frozen_value() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        context().txn_id = "other"  # type: ignore[misc]


# --- deleted tickets -------------------------------------------------------------------------


@pytest.mark.parametrize("command", [c for c in COMMANDS if not c.startswith("set-status")])
@pytest.mark.parametrize("who", ["admin", "agent"])
def test_a_deleted_ticket_refuses_every_command_but_a_status_change(command: str, who: str) -> None:
    before = dataclasses.replace(matrix_ticket(command, "agent"), status="deleted")
    with pytest.raises(ConflictError) as refused:
        decide(before, COMMANDS[command], context(ACTORS[who], assignee=DAVE_AGENT))
    assert refused.value.detail == "ticket #12 is deleted: restore it first"


@pytest.mark.parametrize("status", [s for s in STATUSES if s != "deleted"])
def test_a_deleted_ticket_may_be_restored_to_any_other_status(status: str) -> None:
    after, txn = run(ticket(status="deleted"), SetStatus(status))
    assert (after.status, txn.old_value, txn.new_value) == (status, "deleted", status)


def test_a_stranger_learns_nothing_about_a_deleted_ticket() -> None:
    ctx = context(ACTORS["stranger"])
    assert refused_right(ticket(status="deleted"), Reply("?"), ctx) == "ShowTicket"


# --- Reply -----------------------------------------------------------------------------------


def test_a_reply_is_recorded_as_correspondence_from_the_actor() -> None:
    after, txn = run(ticket(), Reply("Bonjour, voici le devis."))
    assert txn.type == "correspond"
    assert txn.message == MessageInfo(
        subject="Commande de stylos", from_address=AGENT, text="Bonjour, voici le devis."
    )
    assert (after.status, txn.old_value, txn.new_value) == ("open", None, None)


@pytest.mark.parametrize("who", ["agent", "admin", "owner"])
def test_an_agents_reply_opens_a_new_ticket(who: str) -> None:
    after, txn = run(ticket(status="new"), Reply("Bien reçu."), context(ACTORS[who]))
    assert (after.status, txn.old_value, txn.new_value) == ("open", "new", "open")


@pytest.mark.parametrize("who", ["requestor", "cc"])
def test_a_requestors_or_ccs_reply_leaves_a_new_ticket_new(who: str) -> None:
    after, txn = run(ticket(status="new"), Reply("Et alors ?"), context(ACTORS[who]))
    assert (after.status, txn.old_value, txn.new_value) == ("new", None, None)


@pytest.mark.parametrize("status", ["resolved", "stalled"])
@pytest.mark.parametrize("who", ["requestor", "cc", "agent", "admin"])
def test_anyones_reply_reopens_a_resolved_or_stalled_ticket(who: str, status: str) -> None:
    before = ticket(status=status, resolved=NOW if status == "resolved" else None)
    after, txn = run(before, Reply("Finalement, non."), context(ACTORS[who]))
    assert (after.status, txn.old_value, txn.new_value) == ("open", status, "open")
    assert after.resolved is None


@pytest.mark.parametrize("status", ["resolved", "stalled"])
def test_a_reply_by_someone_with_no_role_on_the_ticket_reopens_it_too(status: str) -> None:
    grants = (Grant("ShowTicket", "everyone"), Grant("ReplyToTicket", "everyone"))
    before = ticket(status=status, resolved=NOW if status == "resolved" else None)
    after, txn = run(before, Reply("Je relance."), context(Actor(STRANGER), grants=grants))
    assert (after.status, after.resolved) == ("open", None)
    assert (txn.creator, txn.old_value, txn.new_value) == (STRANGER, status, "open")


@pytest.mark.parametrize("who", ["requestor", "cc", "agent"])
def test_a_reply_leaves_a_rejected_ticket_rejected(who: str) -> None:
    before = ticket(status="rejected", resolved=NOW)
    after, txn = run(before, Reply("Pourquoi ?"), context(ACTORS[who]))
    assert (after.status, after.resolved, txn.new_value) == ("rejected", NOW, None)


def test_a_ccs_reply_reopens_a_stalled_ticket() -> None:
    # As RT's "On Correspond Open Inactive Tickets" scrip does, whoever writes.
    after, txn = run(ticket(status="stalled"), Reply("Voici le devis."), context(ACTORS["cc"]))
    assert (after.status, txn.old_value, txn.new_value) == ("open", "stalled", "open")


@pytest.mark.parametrize(
    ("status", "resolved", "who"),
    [
        ("open", None, "agent"),
        ("open", None, "cc"),
        ("new", None, "requestor"),
        ("rejected", NOW, "cc"),
        ("rejected", NOW, "agent"),
    ],
    ids=["open-by-agent", "open-by-cc", "new-by-requestor", "rejected-by-cc", "rejected-by-agent"],
)
def test_a_reply_that_leaves_the_status_unchanged_keeps_the_resolved_date(
    status: str, resolved: datetime | None, who: str
) -> None:
    before = ticket(status=status, resolved=resolved)
    after, txn = run(before, Reply("Merci !"), context(ACTORS[who]))
    assert (after.status, after.resolved) == (status, resolved)
    assert (txn.old_value, txn.new_value) == (None, None)


@pytest.mark.parametrize("text", ["", "   ", "\n\t\n"], ids=["empty", "spaces", "blank-lines"])
@pytest.mark.parametrize("make", [Reply, Comment], ids=["reply", "comment"])
def test_an_empty_message_is_invalid_input(make: Any, text: str) -> None:
    with pytest.raises(InvalidInputError, match="empty"):
        run(ticket(), make(text))


# --- Comment ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [s for s in STATUSES if s != "deleted"])
def test_a_comment_never_changes_the_status(status: str) -> None:
    before = ticket(status=status, resolved=NOW if status == "resolved" else None)
    after, txn = run(before, Comment("Note interne."))
    assert (after.status, after.resolved) == (before.status, before.resolved)
    assert (txn.type, txn.old_value, txn.new_value) == ("comment", None, None)
    assert txn.message is not None
    assert (txn.message.text, txn.message.from_address) == ("Note interne.", AGENT)


# --- SetStatus -------------------------------------------------------------------------------


@pytest.mark.parametrize("old", [s for s in STATUSES if s != "resolved"])
def test_resolving_records_when_the_ticket_was_resolved(old: str) -> None:
    after, txn = run(ticket(status=old), SetStatus("resolved"))
    assert (after.status, after.resolved) == ("resolved", LATER)
    assert (txn.type, txn.old_value, txn.new_value) == ("status", old, "resolved")


@pytest.mark.parametrize("new", ["new", "open", "stalled"])
def test_reopening_a_resolved_ticket_clears_its_resolved_date(new: str) -> None:
    after, _ = run(ticket(status="resolved", resolved=NOW), SetStatus(new))
    assert (after.status, after.resolved) == (new, None)


@pytest.mark.parametrize("new", ["rejected", "deleted"])
def test_rejecting_or_deleting_a_resolved_ticket_keeps_its_resolved_date(new: str) -> None:
    after, _ = run(ticket(status="resolved", resolved=NOW), SetStatus(new))
    assert (after.status, after.resolved) == (new, NOW)


def test_a_status_change_may_carry_a_message() -> None:
    _, txn = run(ticket(), SetStatus("resolved", "Livraison reçue."))
    assert txn.message is not None
    assert (txn.message.text, txn.message.from_address) == ("Livraison reçue.", AGENT)
    _, silent = run(ticket(), SetStatus("resolved"))
    assert silent.message is None


def test_a_status_change_with_a_blank_message_is_invalid_input() -> None:
    with pytest.raises(InvalidInputError):
        run(ticket(), SetStatus("resolved", "   "))


@pytest.mark.parametrize(
    ("depends_on", "children", "named"),
    [
        ([LinkedTicket(40, "open")], [], ["#40"]),
        ([], [LinkedTicket(41, "stalled")], ["#41"]),
        (
            [LinkedTicket(40, "new"), LinkedTicket(42, "resolved")],
            [LinkedTicket(41, "open")],
            ["#40", "#41"],
        ),
    ],
    ids=["dependency", "child", "both"],
)
def test_resolving_is_a_conflict_while_links_in_the_context_are_unresolved(
    depends_on: list[LinkedTicket], children: list[LinkedTicket], named: list[str]
) -> None:
    ctx = context(depends_on=depends_on, children=children)
    with pytest.raises(ConflictError) as refused:
        run(ticket(), SetStatus("resolved"), ctx)
    for ticket_ref in named:
        assert ticket_ref in refused.value.detail
    assert "#42" not in refused.value.detail


def test_resolving_is_allowed_once_every_link_is_inactive() -> None:
    ctx = context(
        depends_on=[LinkedTicket(40, "resolved"), LinkedTicket(42, "deleted")],
        children=[LinkedTicket(41, "rejected")],
    )
    assert run(ticket(), SetStatus("resolved"), ctx)[0].status == "resolved"


@pytest.mark.parametrize("new", ["stalled", "rejected", "deleted", "new"])
def test_unresolved_links_block_only_resolving(new: str) -> None:
    ctx = context(depends_on=[LinkedTicket(40, "open")], children=[LinkedTicket(41, "open")])
    assert run(ticket(), SetStatus(new), ctx)[0].status == new


def test_a_refused_right_is_reported_before_the_blocking_links() -> None:
    ctx = context(ACTORS["requestor"], depends_on=[LinkedTicket(40, "open")])
    assert refused_right(ticket(), SetStatus("resolved"), ctx) == "ModifyTicket"


@pytest.mark.parametrize("status", STATUSES)
def test_setting_the_status_the_ticket_already_has_is_a_conflict(status: str) -> None:
    with pytest.raises(ConflictError, match=f"already {status}"):
        run(ticket(status=status), SetStatus(status))


@pytest.mark.parametrize("status", ["closed", "Resolved", ""])
def test_an_unknown_status_is_invalid_input(status: str) -> None:
    with pytest.raises(InvalidInputError):
        run(ticket(), SetStatus(status))


MODIFY_ONLY = tuple(Grant(r, "privileged") for r in AGENT_RIGHTS if r != "DeleteTicket")


DELETE_BUT_NOT_MODIFY = tuple(Grant(r, "privileged") for r in AGENT_RIGHTS if r != "ModifyTicket")


@pytest.mark.parametrize("old", [s for s in STATUSES if s != "deleted"])
def test_deleting_needs_delete_ticket_beyond_modify_ticket(old: str) -> None:
    ctx = context(grants=MODIFY_ONLY)
    assert refused_right(ticket(status=old), SetStatus("deleted"), ctx) == "DeleteTicket"
    after, _ = run(ticket(status=old), SetStatus("deleted"), context())
    assert after.status == "deleted"


@pytest.mark.parametrize("new", [s for s in STATUSES if s != "deleted"])
def test_restoring_a_deleted_ticket_needs_modify_ticket_not_delete_ticket(new: str) -> None:
    after, txn = run(ticket(status="deleted"), SetStatus(new), context(grants=MODIFY_ONLY))
    assert (after.status, txn.old_value, txn.new_value) == (new, "deleted", new)
    ctx = context(grants=DELETE_BUT_NOT_MODIFY)
    assert refused_right(ticket(status="deleted"), SetStatus(new), ctx) == "ModifyTicket"


# --- Take, Steal, Assign, Untake -------------------------------------------------------------


def test_taking_an_unowned_ticket_makes_the_actor_its_owner() -> None:
    after, txn = run(ticket(owner=NOBODY), Take())
    assert after.owner == AGENT
    assert (txn.type, txn.note, txn.old_value, txn.new_value) == ("owner", "take", NOBODY, AGENT)


@pytest.mark.parametrize("owner", [OWNER, AGENT], ids=["someone-else", "the-actor"])
def test_taking_an_owned_ticket_is_a_conflict_that_says_to_steal_it(owner: str) -> None:
    with pytest.raises(ConflictError) as refused:
        run(ticket(owner=owner), Take())
    assert refused.value.detail == f"ticket #12 is owned by {owner}: steal it instead"


SEE = (Grant("ShowTicket", "everyone"),)


@pytest.mark.parametrize(
    ("rights", "missing"),
    [
        (("OwnTicket", "TakeTicket"), None),
        (("OwnTicket", "ModifyTicket"), None),
        (("OwnTicket",), "TakeTicket"),
        (("TakeTicket", "ModifyTicket"), "OwnTicket"),
    ],
    ids=["own+take", "own+modify", "own-only", "no-own"],
)
def test_taking_needs_own_ticket_and_take_ticket_or_modify_ticket(
    rights: tuple[str, ...], missing: str | None
) -> None:
    ctx = context(Actor(STRANGER), grants=(*SEE, *(Grant(r, "everyone") for r in rights)))
    if missing is None:
        assert run(ticket(owner=NOBODY), Take(), ctx)[0].owner == STRANGER
    else:
        assert refused_right(ticket(owner=NOBODY), Take(), ctx) == missing


def test_stealing_takes_the_ticket_from_its_owner() -> None:
    after, txn = run(ticket(owner=OWNER), Steal())
    assert after.owner == AGENT
    assert (txn.type, txn.note, txn.old_value, txn.new_value) == ("owner", "steal", OWNER, AGENT)


@pytest.mark.parametrize("owner", [NOBODY, AGENT], ids=["unowned", "own"])
def test_stealing_a_ticket_nobody_else_owns_is_a_conflict_that_says_to_take_it(
    owner: str,
) -> None:
    with pytest.raises(ConflictError, match="not owned by someone else: take it"):
        run(ticket(owner=owner), Steal())


@pytest.mark.parametrize(
    ("rights", "missing"),
    [
        (("OwnTicket", "StealTicket"), None),
        (("OwnTicket", "ModifyTicket"), None),
        (("OwnTicket", "TakeTicket"), "StealTicket"),
        (("OwnTicket",), "StealTicket"),
        (("StealTicket", "ModifyTicket"), "OwnTicket"),
    ],
    ids=["own+steal", "own+modify", "own+take", "own-only", "no-own"],
)
def test_stealing_needs_own_ticket_and_steal_ticket_or_modify_ticket(
    rights: tuple[str, ...], missing: str | None
) -> None:
    ctx = context(Actor(STRANGER), grants=(*SEE, *(Grant(r, "everyone") for r in rights)))
    if missing is None:
        assert run(ticket(owner=OWNER), Steal(), ctx)[0].owner == STRANGER
    else:
        assert refused_right(ticket(owner=OWNER), Steal(), ctx) == missing


@pytest.mark.parametrize("owner", [NOBODY, OWNER], ids=["unowned", "owned"])
def test_assigning_gives_the_ticket_to_an_agent_who_may_own_it(owner: str) -> None:
    after, txn = run(ticket(owner=owner), Assign(DAVE), context(assignee=DAVE_AGENT))
    assert after.owner == DAVE
    assert (txn.type, txn.note, txn.old_value, txn.new_value) == ("owner", "give", owner, DAVE)


def test_the_assignees_address_is_normalised() -> None:
    after, _ = run(ticket(), Assign("Dave Martin <DAVE@Example.ORG>"), context(assignee=DAVE_AGENT))
    assert after.owner == DAVE


@pytest.mark.parametrize(
    "assignee",
    [None, Actor(DAVE), Actor(DAVE, groups=frozenset({"ventes-agents"}))],
    ids=["unknown-user", "unprivileged-user", "no-own-ticket-grant"],
)
def test_assigning_to_someone_who_may_not_own_the_ticket_is_refused(
    assignee: Actor | None,
) -> None:
    with pytest.raises(PermissionDeniedError) as refused:
        run(ticket(), Assign(DAVE), context(assignee=assignee))
    assert refused.value.extra == {"right": "OwnTicket"}
    assert refused.value.detail == f"{DAVE} lacks the right OwnTicket on ticket #12"


def test_assigning_to_nobody_releases_the_ticket_without_an_assignee() -> None:
    after, txn = run(ticket(owner=OWNER), Assign(NOBODY), context(assignee=None))
    assert after.owner == NOBODY
    assert (txn.note, txn.old_value, txn.new_value) == ("untake", OWNER, NOBODY)


@pytest.mark.parametrize("owner", [OWNER, NOBODY])
def test_assigning_to_the_current_owner_is_a_conflict(owner: str) -> None:
    ctx = context(assignee=Actor(OWNER, privileged=True))
    with pytest.raises(ConflictError, match="already owns"):
        run(ticket(owner=owner), Assign(owner), ctx)


def test_assigning_needs_modify_ticket_even_for_the_owner() -> None:
    grants = (*SEE, Grant("OwnTicket", "everyone"))
    ctx = context(Actor(OWNER), grants=grants, assignee=Actor(DAVE))
    assert refused_right(ticket(owner=OWNER), Assign(DAVE), ctx) == "ModifyTicket"


def test_the_owner_may_give_up_a_ticket_without_modify_ticket() -> None:
    grants = (Grant("ShowTicket", "role", "Owner"),)
    after, txn = run(ticket(owner=OWNER), Untake(), context(Actor(OWNER), grants=grants))
    assert after.owner == NOBODY
    assert (txn.type, txn.note, txn.old_value, txn.new_value) == (
        "owner",
        "untake",
        OWNER,
        NOBODY,
    )


def test_releasing_someone_elses_ticket_needs_modify_ticket() -> None:
    grants = (*SEE, Grant("OwnTicket", "everyone"))
    assert refused_right(ticket(owner=OWNER), Untake(), context(Actor(DAVE), grants=grants)) == (
        "ModifyTicket"
    )
    assert run(ticket(owner=OWNER), Untake())[0].owner == NOBODY


def test_releasing_an_unowned_ticket_is_a_conflict() -> None:
    with pytest.raises(ConflictError, match="has no owner"):
        run(ticket(owner=NOBODY), Untake())


# --- watchers --------------------------------------------------------------------------------

ROLE_FIELDS = {"Requestor": "requestors", "Cc": "ccs", "AdminCc": "admin_ccs"}
WATCHED = ticket(requestors=(ALICE,), ccs=(BOB,), admin_ccs=(BOSS,))
PRESENT = {"Requestor": ALICE, "Cc": BOB, "AdminCc": BOSS}


@pytest.mark.parametrize("role", ROLE_FIELDS)
def test_adding_a_watcher_appends_them_to_their_role(role: str) -> None:
    after, txn = run(WATCHED, AddWatcher(role, FRANK))
    field = ROLE_FIELDS[role]
    assert getattr(after, field) == (*getattr(WATCHED, field), FRANK)
    assert (txn.type, txn.note, txn.old_value, txn.new_value) == ("add_watcher", role, None, FRANK)


@pytest.mark.parametrize("role", ROLE_FIELDS)
def test_removing_a_watcher_drops_them_from_their_role_only(role: str) -> None:
    email = PRESENT[role]
    after, txn = run(WATCHED, RemoveWatcher(role, email))
    assert getattr(after, ROLE_FIELDS[role]) == ()
    for other, field in ROLE_FIELDS.items():
        if other != role:
            assert getattr(after, field) == getattr(WATCHED, field)
    assert (txn.type, txn.note, txn.old_value, txn.new_value) == ("del_watcher", role, email, None)


@pytest.mark.parametrize("role", ROLE_FIELDS)
def test_adding_someone_already_in_the_role_is_a_conflict(role: str) -> None:
    with pytest.raises(ConflictError, match=f"already {role}"):
        run(WATCHED, AddWatcher(role, PRESENT[role].upper()))


@pytest.mark.parametrize("role", ROLE_FIELDS)
def test_removing_someone_absent_from_the_role_is_a_conflict(role: str) -> None:
    with pytest.raises(ConflictError, match=f"is not {role}"):
        run(WATCHED, RemoveWatcher(role, FRANK))


def test_a_watcher_may_hold_another_role_too() -> None:
    after, _ = run(WATCHED, AddWatcher("Cc", ALICE))
    assert (after.requestors, after.ccs) == ((ALICE,), (BOB, ALICE))


def test_a_watchers_address_is_normalised() -> None:
    after, txn = run(WATCHED, AddWatcher("Cc", "Frank Fret <FRANK@Freight.Example.COM>"))
    assert after.ccs == (BOB, FRANK)
    assert txn.new_value == FRANK


@pytest.mark.parametrize("make", [AddWatcher, RemoveWatcher], ids=["add", "remove"])
@pytest.mark.parametrize("email", ["frank", "", "   ", "<>"])
def test_a_watcher_that_is_not_an_address_is_invalid_input(make: Any, email: str) -> None:
    with pytest.raises(InvalidInputError, match="not an address"):
        run(WATCHED, make("Cc", email))


@pytest.mark.parametrize("make", [AddWatcher, RemoveWatcher], ids=["add", "remove"])
@pytest.mark.parametrize("role", ["Owner", "cc", "Requestors", ""])
def test_an_unknown_watcher_role_is_invalid_input(make: Any, role: str) -> None:
    with pytest.raises(InvalidInputError, match="unknown watcher role"):
        run(WATCHED, make(role, FRANK))


WATCH_ONLY = (*SEE, Grant("Watch", "everyone"), Grant("WatchAsAdminCc", "everyone"))


def test_a_user_may_add_and_remove_themselves_as_cc_with_only_watch() -> None:
    ctx = context(Actor(STRANGER), grants=(*SEE, Grant("Watch", "everyone")))
    added, _ = run(WATCHED, AddWatcher("Cc", STRANGER.upper()), ctx)
    assert added.ccs == (BOB, STRANGER)
    removed, txn = run(added, RemoveWatcher("Cc", STRANGER), ctx)
    assert removed.ccs == (BOB,)
    assert txn.creator == STRANGER


def test_under_the_default_grants_a_cc_may_remove_themselves_but_no_one_else() -> None:
    ctx = context(ACTORS["cc"])
    after, txn = run(WATCHED, RemoveWatcher("Cc", BOB), ctx)
    assert after.ccs == ()
    assert (txn.type, txn.creator, txn.old_value) == ("del_watcher", BOB, BOB)
    cc_and_frank = ticket(ccs=(BOB, FRANK))
    assert refused_right(cc_and_frank, RemoveWatcher("Cc", FRANK), ctx) == "ModifyTicket"
    assert refused_right(WATCHED, RemoveWatcher("Requestor", ALICE), ctx) == "ModifyTicket"


def test_under_the_default_grants_a_requestor_may_not_add_themselves_as_cc() -> None:
    # Watch comes with the Cc role only: a requestor who is not yet a Cc does not hold it.
    ctx = context(ACTORS["requestor"])
    assert refused_right(WATCHED, AddWatcher("Cc", ALICE), ctx) == "ModifyTicket"


def test_a_user_may_add_and_remove_themselves_as_admincc_with_only_watch_as_admincc() -> None:
    ctx = context(Actor(STRANGER), grants=(*SEE, Grant("WatchAsAdminCc", "everyone")))
    added, _ = run(WATCHED, AddWatcher("AdminCc", STRANGER), ctx)
    assert added.admin_ccs == (BOSS, STRANGER)
    assert run(added, RemoveWatcher("AdminCc", STRANGER), ctx)[0].admin_ccs == (BOSS,)


@pytest.mark.parametrize(
    ("command", "grants"),
    [
        (AddWatcher("Cc", FRANK), WATCH_ONLY),
        (RemoveWatcher("Cc", BOB), WATCH_ONLY),
        (AddWatcher("Requestor", STRANGER), WATCH_ONLY),
        (AddWatcher("AdminCc", STRANGER), (*SEE, Grant("Watch", "everyone"))),
        (AddWatcher("Cc", STRANGER), (*SEE, Grant("WatchAsAdminCc", "everyone"))),
    ],
    ids=[
        "add-someone-else",
        "remove-someone-else",
        "self-as-requestor",
        "self-as-admincc-with-watch",
        "self-as-cc-with-watch-as-admincc",
    ],
)
def test_watch_rights_cover_only_oneself_in_the_matching_role(
    command: Command, grants: tuple[Grant, ...]
) -> None:
    assert refused_right(WATCHED, command, context(Actor(STRANGER), grants=grants)) == (
        "ModifyTicket"
    )


# --- SetPriority and SetSubject --------------------------------------------------------------


@pytest.mark.parametrize("priority", [0, 1, 50, 99])
def test_a_priority_from_0_to_99_is_recorded(priority: int) -> None:
    after, txn = run(ticket(priority=7), SetPriority(priority))
    assert after.priority == priority
    assert (txn.type, txn.note, txn.old_value, txn.new_value) == (
        "set",
        "priority",
        "7",
        str(priority),
    )


@pytest.mark.parametrize("priority", [0, 7, 99])
def test_setting_the_current_priority_is_a_conflict(priority: int) -> None:
    with pytest.raises(ConflictError) as refused:
        run(ticket(priority=priority), SetPriority(priority))
    assert refused.value.detail == "that is already the current priority"


@pytest.mark.parametrize("priority", [-1, 100, 1000, -99])
def test_a_priority_outside_0_to_99_is_invalid_input(priority: int) -> None:
    with pytest.raises(InvalidInputError, match="between 0 and 99"):
        run(ticket(), SetPriority(priority))


@pytest.mark.parametrize(
    ("given", "recorded"),
    [
        ("Commande de crayons", "Commande de crayons"),
        ("  Commande \n de\tcrayons  ", "Commande de crayons"),
        ("Devis   n°  42", "Devis n° 42"),
        ("x" * 500, "x" * 500),
        (" " * 20 + "y" * 500 + " " * 20, "y" * 500),
    ],
    ids=["plain", "whitespace", "inner-runs", "500-chars", "500-after-trimming"],
)
def test_a_subject_is_recorded_with_its_whitespace_normalised(given: str, recorded: str) -> None:
    after, txn = run(ticket(), SetSubject(given))
    assert after.subject == recorded
    assert (txn.type, txn.note, txn.old_value, txn.new_value) == (
        "set",
        "subject",
        "Commande de stylos",
        recorded,
    )


@pytest.mark.parametrize(
    "given",
    ["Commande de stylos", "  Commande   de\tstylos \n"],
    ids=["same", "same-after-normalising"],
)
def test_setting_the_current_subject_is_a_conflict(given: str) -> None:
    with pytest.raises(ConflictError) as refused:
        run(ticket(), SetSubject(given))
    assert refused.value.detail == "that is already the current subject"


@pytest.mark.parametrize(
    "subject", ["", "   ", "\n\t", "x" * 501], ids=["empty", "spaces", "blank", "501-chars"]
)
def test_an_empty_or_too_long_subject_is_invalid_input(subject: str) -> None:
    with pytest.raises(InvalidInputError, match="1 to 500 characters"):
        run(ticket(), SetSubject(subject))


def test_a_reply_after_a_new_subject_carries_the_new_subject() -> None:
    renamed, _ = run(ticket(), SetSubject("Commande de crayons"))
    _, txn = run(renamed, Reply("Bonjour"))
    assert txn.message is not None
    assert txn.message.subject == "Commande de crayons"
