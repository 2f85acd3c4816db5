"""The advanced search builder (pure): rows of the form (field, operator, value) become
the structured condition the search service takes, and back again for the form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.errors import InvalidInputError

TEXT_FIELDS = {"words": "everything", "subject": "subject", "files": "attachments"}
EXACT_FIELDS = ("status", "queue", "owner", "requestor", "cc", "admincc", "creator")
DATE_FIELDS = ("created", "updated", "resolved", "due")
HAS_VALUES = ("attachment", "owner", "due", "comment")
# Operators each kind of field offers, in the order the form lists them.
OPERATORS = {
    "text": ("contains", "phrase", "lacks"),
    "exact": ("is", "is_not"),
    "date": ("after", "before"),
    "number": ("at_least", "at_most"),
    "has": ("has", "has_not"),
}
MAX_ROWS = 8


@dataclass(frozen=True)
class Row:
    field: str
    operator: str
    value: str


def field_kind(field: str) -> str:
    if field in TEXT_FIELDS:
        return "text"
    if field in EXACT_FIELDS or (field.startswith("cf.") and len(field) > 3):
        return "exact"
    if field in DATE_FIELDS:
        return "date"
    if field == "priority":
        return "number"
    if field == "has":
        return "has"
    raise InvalidInputError(f"unknown search field {field[:40]!r}")


def _one(row: Row) -> dict[str, Any]:
    kind = field_kind(row.field)
    if row.operator not in OPERATORS[kind]:
        raise InvalidInputError(f"{row.operator[:20]!r} does not apply to {row.field}")
    value = row.value.strip()
    negated = row.operator in ("lacks", "is_not", "has_not")
    condition: dict[str, Any]
    if kind == "text":
        condition = {
            "kind": "text",
            "text": value,
            "phrase": row.operator == "phrase",
            "within": TEXT_FIELDS[row.field],
        }
    elif kind == "exact":
        values = [v.strip() for v in value.split(",") if v.strip()]
        condition = {"kind": "exact", "field": row.field, "values": values}
    elif kind == "date":
        condition = {
            "kind": "range",
            "field": row.field,
            "gte" if row.operator == "after" else "lt": value,
        }
    elif kind == "number":
        bound = "gte" if row.operator == "at_least" else "lte"
        condition = {"kind": "range", "field": "priority", bound: value}
    else:
        if value not in HAS_VALUES:
            raise InvalidInputError(f"has: one of {', '.join(HAS_VALUES)}")
        condition = {"kind": "has", "what": value}
    return {"kind": "not", "condition": condition} if negated else condition


def condition_of(rows: list[Row], combine: str = "all") -> dict[str, Any] | None:
    """The condition of the filled rows (empty ones are skipped); None when none is."""
    filled = [r for r in rows[:MAX_ROWS] if r.field and r.value.strip()]
    if not filled:
        return None
    conditions = [_one(r) for r in filled]
    if len(conditions) == 1:
        return conditions[0]
    return {"kind": "any" if combine == "any" else "all", "of": conditions}


def rows_of_form(form: Any) -> tuple[list[Row], str]:
    """The rows as posted or asked (``field_0``, ``op_0``, ``value_0``…) and how they combine."""
    rows = []
    for i in range(MAX_ROWS):
        field = str(form.get(f"field_{i}", "") or "")[:110]
        if field:
            rows.append(
                Row(
                    field,
                    str(form.get(f"op_{i}", "") or "")[:20],
                    str(form.get(f"value_{i}", "") or "")[:500],
                )
            )
    combine = "any" if form.get("combine") == "any" else "all"
    return rows, combine
