"""Links between tickets (pure): DependsOn, MemberOf (parent), RefersTo."""

from __future__ import annotations

import pytest

from services.tickets.domain.commands import Link, Unlink, decide
from services.tickets.domain.rights import Actor
from shared.errors import ConflictError, InvalidInputError, PermissionDeniedError
from tests.unit.factories import ALICE, context, ticket


@pytest.mark.parametrize("kind", ["DependsOn", "MemberOf", "RefersTo"])
def test_an_agent_links_a_ticket_and_the_transaction_says_to_what(kind: str) -> None:
    after, txn = decide(ticket(), Link(kind, 40), context())
    assert (kind, 40) in after.links
    assert after.snapshot().links[kind] == [40]
    assert (txn.type, txn.note, txn.new_value) == ("link", kind, "40")
    assert after.version == ticket().version + 1


def test_unlinking_removes_only_that_link() -> None:
    before = ticket(links=(("DependsOn", 40), ("RefersTo", 40)))
    after, txn = decide(before, Unlink("DependsOn", 40), context())
    assert after.links == (("RefersTo", 40),)
    assert (txn.type, txn.note, txn.old_value) == ("unlink", "DependsOn", "40")


@pytest.mark.parametrize(
    ("before", "command", "error", "message"),
    [
        (ticket(), Link("DependsOn", 12), InvalidInputError, "itself"),
        (ticket(), Link("Blocks", 40), InvalidInputError, "unknown link"),
        (ticket(links=(("MemberOf", 40),)), Link("MemberOf", 40), ConflictError, "already"),
        (ticket(), Unlink("RefersTo", 40), ConflictError, "no RefersTo link"),
    ],
)
def test_impossible_links_are_refused_with_a_reason(
    before: object, command: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        decide(before, command, context())  # type: ignore[arg-type]


def test_a_requestor_may_not_link_tickets() -> None:
    with pytest.raises(PermissionDeniedError, match="ModifyTicket"):
        decide(ticket(), Link("RefersTo", 40), context(Actor(ALICE)))


def test_forward_records_the_addresses_and_needs_forward_message() -> None:
    from services.tickets.domain.commands import Forward

    _, txn = decide(ticket(), Forward(("Compta@Example.org",), "Pour info"), context())
    assert (txn.type, txn.new_value) == ("forward", "compta@example.org")
    assert txn.message is not None and txn.message.to == ("compta@example.org",)
    with pytest.raises(PermissionDeniedError, match="ForwardMessage"):
        decide(ticket(), Forward(("x@example.org",)), context(Actor(ALICE)))
    with pytest.raises(InvalidInputError):
        decide(ticket(), Forward(("pas une adresse",)), context())


def test_move_needs_an_existing_other_queue_and_clears_custom_fields() -> None:
    from services.tickets.domain.commands import Move
    from shared.errors import NotFoundError

    ctx = context(queues=("achats", "informatique"))
    after, txn = decide(ticket(custom_fields=(("DEM LOG", "1"),)), Move("informatique"), ctx)
    assert after.queue == "informatique" and after.custom_fields == ()
    assert (txn.note, txn.old_value, txn.new_value) == ("queue", "achats", "informatique")
    with pytest.raises(NotFoundError):
        decide(ticket(), Move("nulle-part"), ctx)
    with pytest.raises(ConflictError):
        decide(ticket(), Move("achats"), ctx)


def test_due_dates_are_iso_dates() -> None:
    from services.tickets.domain.commands import SetDue

    after, _ = decide(ticket(), SetDue("2026-12-24"), context())
    assert after.due == "2026-12-24" and after.snapshot().due == "2026-12-24"
    with pytest.raises(InvalidInputError, match="YYYY-MM-DD"):
        decide(ticket(), SetDue("Noël"), context())
    cleared, _ = decide(after, SetDue(""), context())
    assert cleared.due is None


def test_merging_unites_watchers_and_message_ids_and_refuses_nonsense() -> None:
    from services.tickets.domain.commands import merge_away, merge_in

    source = ticket(id=12, requestors=(ALICE,), message_ids=("<a@x>",))
    target = ticket(id=40, requestors=("bob@example.net",), ccs=(), message_ids=("<b@x>",))
    merged, txn = merge_in(target, source, context())
    assert merged.requestors == ("bob@example.net", ALICE)
    assert merged.message_ids == ("<b@x>", "<a@x>")
    assert (txn.type, txn.new_value) == ("merge", "12")
    gone, txn = merge_away(source, target, context())
    assert gone.merged_into == 40 and (txn.type, txn.new_value) == ("merged", "40")
    with pytest.raises(InvalidInputError, match="itself"):
        merge_in(target, target, context())
    with pytest.raises(ConflictError, match="merged"):
        merge_in(target, gone, context())
    with pytest.raises(PermissionDeniedError, match="ModifyTicket"):
        merge_in(target, source, context(Actor(ALICE)))


def test_a_start_date_is_set_like_the_due_date() -> None:
    from services.tickets.domain.commands import SetStarts

    after, txn = decide(ticket(), SetStarts("2026-12-01"), context())
    assert after.starts == "2026-12-01" and (txn.note, txn.new_value) == ("starts", "2026-12-01")
    with pytest.raises(ConflictError, match="already the starts date"):
        decide(after, SetStarts("2026-12-01"), context())
