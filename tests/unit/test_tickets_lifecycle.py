"""tickets.domain.lifecycle: RT's default lifecycle, the right each move needs, what keeps a
ticket from being resolved, and the moves correspondence makes by itself."""

from __future__ import annotations

import inspect
import itertools
import typing

import pytest

from services.tickets.domain import lifecycle
from services.tickets.domain.lifecycle import (
    STATUSES,
    TRANSITIONS,
    LinkedTicket,
    check_can_resolve,
    check_transition,
    right_for_transition,
    status_after_correspondence,
    unresolved_blockers,
)
from shared.errors import ConflictError, InvalidInputError
from shared.events.ticket import Status

PAIRS = list(itertools.product(STATUSES, STATUSES))
MOVES = [(old, new) for old, new in PAIRS if old != new]
BLOCKING = ("new", "open", "stalled")
NOT_BLOCKING = ("resolved", "rejected", "deleted")

# RT 4's default lifecycle, written out (etc/RT_Config.pm, "default" => transitions).
RT_DEFAULT_TRANSITIONS = {
    "new": {"open", "stalled", "resolved", "rejected", "deleted"},
    "open": {"new", "stalled", "resolved", "rejected", "deleted"},
    "stalled": {"new", "open", "rejected", "resolved", "deleted"},
    "resolved": {"new", "open", "stalled", "rejected", "deleted"},
    "rejected": {"new", "open", "stalled", "resolved", "deleted"},
    "deleted": {"new", "open", "stalled", "rejected", "resolved"},
}


def _move_id(pair: tuple[str, str]) -> str:
    return f"{pair[0]}->{pair[1]}"


# --- the statuses ----------------------------------------------------------------------------


def test_the_statuses_are_rts_six_in_initial_active_inactive_order() -> None:
    assert lifecycle.INITIAL == ("new",)
    assert lifecycle.ACTIVE == ("open", "stalled")
    assert lifecycle.INACTIVE == ("resolved", "rejected", "deleted")
    assert STATUSES == ("new", "open", "stalled", "resolved", "rejected", "deleted")


def test_the_events_and_the_lifecycle_agree_on_the_statuses() -> None:
    assert typing.get_args(Status) == STATUSES


def test_the_transition_table_is_rts_default_lifecycle() -> None:
    assert {old: set(new) for old, new in TRANSITIONS.items()} == RT_DEFAULT_TRANSITIONS


def test_no_status_lists_a_move_to_itself_or_to_an_unknown_status() -> None:
    for old, targets in TRANSITIONS.items():
        assert old not in targets
        assert targets <= set(STATUSES)


# --- check_transition: every pair -------------------------------------------------------------


@pytest.mark.parametrize(("old", "new"), MOVES, ids=[_move_id(p) for p in MOVES])
def test_a_move_between_two_statuses_is_allowed_exactly_when_the_lifecycle_lists_it(
    old: str, new: str
) -> None:
    if new in TRANSITIONS[old]:
        check_transition(old, new)
        return
    with pytest.raises(ConflictError) as refused:
        check_transition(old, new)
    assert f"from {old} to {new}" in refused.value.detail


@pytest.mark.parametrize("status", STATUSES)
def test_moving_a_ticket_to_the_status_it_already_has_is_a_conflict(status: str) -> None:
    with pytest.raises(ConflictError) as refused:
        check_transition(status, status)
    assert refused.value.detail == f"the ticket is already {status}"


@pytest.mark.parametrize(("old", "new"), [("new", "resolved"), ("deleted", "open")])
def test_a_move_the_lifecycle_does_not_list_is_a_conflict_naming_both_statuses(
    monkeypatch: pytest.MonkeyPatch, old: str, new: str
) -> None:
    # RT's default lifecycle allows every move; a narrowed one must refuse what it drops.
    monkeypatch.setitem(TRANSITIONS, old, TRANSITIONS[old] - {new})
    with pytest.raises(ConflictError) as refused:
        check_transition(old, new)
    assert refused.value.detail == f"a ticket cannot go from {old} to {new}"


@pytest.mark.parametrize("old", STATUSES)
@pytest.mark.parametrize("unknown", ["bogus", "Open", "RESOLVED", "closed", "résolu", "", " open"])
def test_an_unknown_target_status_is_invalid_input_listing_the_valid_ones(
    old: str, unknown: str
) -> None:
    with pytest.raises(InvalidInputError) as refused:
        check_transition(old, unknown)
    assert repr(unknown) in refused.value.detail
    assert all(status in refused.value.detail for status in STATUSES)


def test_an_unknown_status_is_invalid_input_even_when_it_equals_the_current_one() -> None:
    with pytest.raises(InvalidInputError):
        check_transition("bogus", "bogus")


# --- right_for_transition: every pair ---------------------------------------------------------


@pytest.mark.parametrize(("old", "new"), PAIRS, ids=[_move_id(p) for p in PAIRS])
def test_only_moves_into_deleted_need_delete_ticket_and_every_other_modify_ticket(
    old: str, new: str
) -> None:
    expected = "DeleteTicket" if new == "deleted" else "ModifyTicket"
    assert right_for_transition(old, new) == expected


@pytest.mark.parametrize("other", [s for s in STATUSES if s != "deleted"])
def test_deleting_needs_delete_ticket_and_restoring_needs_modify_ticket(other: str) -> None:
    assert right_for_transition(other, "deleted") == "DeleteTicket"
    assert right_for_transition("deleted", other) == "ModifyTicket"


# --- what keeps a ticket from being resolved -------------------------------------------------


@pytest.mark.parametrize("status", STATUSES)
def test_a_dependency_blocks_resolving_exactly_while_it_is_new_open_or_stalled(
    status: str,
) -> None:
    blockers = unresolved_blockers([LinkedTicket(40, status)], [])
    assert blockers == ([f"depends on #40 ({status})"] if status in BLOCKING else [])


@pytest.mark.parametrize("status", STATUSES)
def test_a_child_blocks_resolving_exactly_while_it_is_new_open_or_stalled(status: str) -> None:
    blockers = unresolved_blockers([], [LinkedTicket(41, status)])
    assert blockers == ([f"has child #41 ({status})"] if status in BLOCKING else [])


def test_a_ticket_with_no_links_has_no_blockers() -> None:
    assert unresolved_blockers([], []) == []
    check_can_resolve([], [])


@pytest.mark.parametrize("status", NOT_BLOCKING)
def test_resolving_is_allowed_when_every_link_is_resolved_rejected_or_deleted(
    status: str,
) -> None:
    check_can_resolve([LinkedTicket(40, status)], [LinkedTicket(41, status)])


@pytest.mark.parametrize("status", BLOCKING)
def test_resolving_is_a_conflict_while_a_dependency_is_unresolved(status: str) -> None:
    with pytest.raises(ConflictError) as refused:
        check_can_resolve([LinkedTicket(40, status)], [])
    assert refused.value.detail == f"cannot resolve: depends on #40 ({status})"
    assert refused.value.extra == {"blockers": [f"depends on #40 ({status})"]}


@pytest.mark.parametrize("status", BLOCKING)
def test_resolving_is_a_conflict_while_a_child_is_unresolved(status: str) -> None:
    with pytest.raises(ConflictError) as refused:
        check_can_resolve([], [LinkedTicket(41, status)])
    assert refused.value.detail == f"cannot resolve: has child #41 ({status})"


def test_the_conflict_names_every_blocking_ticket_and_only_those_dependencies_first() -> None:
    depends_on = [LinkedTicket(40, "open"), LinkedTicket(42, "resolved"), LinkedTicket(43, "new")]
    children = [LinkedTicket(50, "rejected"), LinkedTicket(51, "stalled")]
    with pytest.raises(ConflictError) as refused:
        check_can_resolve(depends_on, children)
    expected = ["depends on #40 (open)", "depends on #43 (new)", "has child #51 (stalled)"]
    assert refused.value.extra["blockers"] == expected
    assert refused.value.detail == "cannot resolve: " + "; ".join(expected)
    for resolved_one in ("#42", "#50"):
        assert resolved_one not in refused.value.detail


def test_links_may_be_given_as_one_shot_iterators() -> None:
    blockers = unresolved_blockers(
        (t for t in [LinkedTicket(1, "open")]), iter([LinkedTicket(2, "new")])
    )
    assert blockers == ["depends on #1 (open)", "has child #2 (new)"]


# --- status_after_correspondence: the whole table --------------------------------------------

# (status, by_agent) -> status after the reply, whoever else writes (requestor, Cc, anyone)
AFTER_CORRESPONDENCE: dict[tuple[str, bool], str] = {
    # an agent's reply opens a new ticket; anyone else's (the requestor's too) does not
    ("new", False): "new",
    ("new", True): "open",
    # open stays open
    ("open", False): "open",
    ("open", True): "open",
    # anyone's reply reopens stalled and resolved tickets
    ("stalled", False): "open",
    ("stalled", True): "open",
    ("resolved", False): "open",
    ("resolved", True): "open",
    # rejected and deleted tickets stay as they are, whoever writes
    ("rejected", False): "rejected",
    ("rejected", True): "rejected",
    ("deleted", False): "deleted",
    ("deleted", True): "deleted",
}


def test_the_correspondence_table_covers_every_status_and_author() -> None:
    assert set(AFTER_CORRESPONDENCE) == set(itertools.product(STATUSES, (False, True)))


@pytest.mark.parametrize(
    ("status", "by_agent", "expected"),
    [(*key, after) for key, after in AFTER_CORRESPONDENCE.items()],
    ids=[f"{s}-by-{'agent' if a else 'nonagent'}" for s, a in AFTER_CORRESPONDENCE],
)
def test_correspondence_moves_the_ticket_as_rts_default_scrips_do(
    status: Status, by_agent: bool, expected: str
) -> None:
    assert status_after_correspondence(status, by_agent=by_agent) == expected


def test_whether_the_author_is_a_requestor_no_longer_matters() -> None:
    params = inspect.signature(status_after_correspondence).parameters
    assert "by_requestor" not in params
    with pytest.raises(TypeError):
        status_after_correspondence("stalled", by_requestor=True, by_agent=False)  # type: ignore[call-arg]


@pytest.mark.parametrize("status", STATUSES)
def test_every_move_correspondence_makes_is_one_the_lifecycle_allows(status: Status) -> None:
    for by_agent in (False, True):
        after = status_after_correspondence(status, by_agent=by_agent)
        if after != status:
            check_transition(status, after)
            assert right_for_transition(status, after) == "ModifyTicket"
