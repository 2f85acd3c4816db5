"""Custom fields (pure): typed values, forgiving names, refusals that say why."""

from __future__ import annotations

import pytest

from services.tickets.domain.commands import SetCustomField, decide
from services.tickets.domain.custom_fields import CustomFieldDefinition, find_definition
from shared.errors import ConflictError, InvalidInputError, NotFoundError
from tests.unit.factories import context, ticket

DEM_LOG = CustomFieldDefinition("DEM LOG")
DELIVERY = CustomFieldDefinition("Livraison", "date")
SUPPLIER = CustomFieldDefinition("Fournisseur", "select", ("Dell", "Lenovo"))
FIELDS = (DEM_LOG, DELIVERY, SUPPLIER)


@pytest.mark.parametrize(
    ("definition", "value", "stored"),
    [
        (DEM_LOG, "  2026-0042 ", "2026-0042"),
        (DELIVERY, "2026-12-01", "2026-12-01"),
        (SUPPLIER, "Lenovo", "Lenovo"),
    ],
)
def test_a_valid_value_is_stored_in_its_normal_form(
    definition: CustomFieldDefinition, value: str, stored: str
) -> None:
    assert definition.normalize(value) == stored


@pytest.mark.parametrize(
    ("definition", "value", "message"),
    [
        (DELIVERY, "1er décembre", "YYYY-MM-DD"),
        (SUPPLIER, "HP", "one of Dell, Lenovo"),
        (DEM_LOG, "x" * 300, "at most 255"),
    ],
)
def test_an_invalid_value_is_refused_with_the_reason(
    definition: CustomFieldDefinition, value: str, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        definition.normalize(value)


@pytest.mark.parametrize("name", ["DEM LOG", "dem log", "Dem  Log", " DEM LOG "])
def test_names_forgive_case_and_spacing(name: str) -> None:
    assert find_definition(FIELDS, name, "achats") is DEM_LOG


def test_an_unknown_field_is_not_found_and_named() -> None:
    with pytest.raises(NotFoundError, match="no custom field 'COM LOG'"):
        find_definition(FIELDS, "COM LOG", "achats")


@pytest.mark.parametrize(
    "kwargs", [{"name": ""}, {"name": "x" * 65}, {"name": "Choix", "type": "select"}]
)
def test_a_definition_must_make_sense(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        CustomFieldDefinition(**kwargs)  # type: ignore[arg-type]


def test_setting_then_clearing_a_field_through_a_command() -> None:
    ctx = context(custom_fields=FIELDS)
    after, txn = decide(ticket(), SetCustomField("dem log", "2026-0042"), ctx)
    assert after.snapshot().custom_fields == {"DEM LOG": "2026-0042"}
    assert (txn.type, txn.note, txn.old_value, txn.new_value) == (
        "set",
        "CF.DEM LOG",
        None,
        "2026-0042",
    )
    cleared, txn = decide(after, SetCustomField("DEM LOG", " "), ctx)
    assert cleared.custom_fields == ()
    assert (txn.old_value, txn.new_value) == ("2026-0042", None)
    with pytest.raises(ConflictError, match="already"):
        decide(after, SetCustomField("DEM LOG", "2026-0042"), ctx)
