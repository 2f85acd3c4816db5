"""The advanced search builder's rows → the search service's condition (pure)."""

from __future__ import annotations

import pytest

from services.web.ui.advanced import MAX_ROWS, Row, condition_of, rows_of_form
from shared.errors import InvalidInputError
from shared.rpc.search import AdvancedSearch

pytestmark = pytest.mark.unit


def _valid(condition: dict | None) -> None:  # type: ignore[type-arg]
    AdvancedSearch(principal={"email": "a@example.org"}, query=condition)


def test_each_kind_of_row_becomes_its_condition() -> None:
    condition = condition_of(
        [
            Row("words", "contains", "devis écran"),
            Row("files", "phrase", "bon de commande"),
            Row("status", "is_not", "resolved, rejected"),
            Row("created", "after", "2026-01-01"),
            Row("due", "before", "now+7d"),
            Row("priority", "at_least", "3"),
            Row("has", "has_not", "owner"),
            Row("cf.DEM LOG", "is", "1234"),
        ]
    )
    assert condition is not None and condition["kind"] == "all"
    first, phrase, status, created, due, priority, owner, custom = condition["of"]
    assert first == {"kind": "text", "text": "devis écran", "phrase": False, "within": "everything"}
    assert phrase["phrase"] is True and phrase["within"] == "attachments"
    assert status == {
        "kind": "not",
        "condition": {"kind": "exact", "field": "status", "values": ["resolved", "rejected"]},
    }
    assert created == {"kind": "range", "field": "created", "gte": "2026-01-01"}
    assert due == {"kind": "range", "field": "due", "lt": "now+7d"}
    assert priority == {"kind": "range", "field": "priority", "gte": "3"}
    assert owner == {"kind": "not", "condition": {"kind": "has", "what": "owner"}}
    assert custom["field"] == "cf.DEM LOG"
    _valid(condition)


def test_one_row_is_its_own_condition_and_any_combines_with_or() -> None:
    assert condition_of([Row("queue", "is", "achats")]) == {
        "kind": "exact",
        "field": "queue",
        "values": ["achats"],
    }
    both = condition_of([Row("queue", "is", "achats"), Row("owner", "is", "me")], "any")
    assert both is not None and both["kind"] == "any"
    _valid(both)


def test_empty_rows_are_skipped_and_no_row_is_no_condition() -> None:
    assert condition_of([Row("words", "contains", "  "), Row("", "", "x")]) is None


@pytest.mark.parametrize(
    "row",
    [Row("colour", "is", "blue"), Row("status", "after", "x"), Row("has", "has", "wings")],
)
def test_unknown_fields_operators_and_values_are_refused_clearly(row: Row) -> None:
    with pytest.raises(InvalidInputError):
        condition_of([row])


def test_the_form_is_read_row_by_row_up_to_the_limit() -> None:
    form = {"combine": "any"}
    for i in range(MAX_ROWS + 3):
        form |= {f"field_{i}": "words", f"op_{i}": "contains", f"value_{i}": f"w{i}"}
    rows, combine = rows_of_form(form)
    assert combine == "any" and len(rows) == MAX_ROWS
    assert rows[0] == Row("words", "contains", "w0")
