"""tickets.domain.preferences: a user's language, signature and home layout, changed
field by field and checked."""

from __future__ import annotations

import pytest

from services.tickets.domain.preferences import HOME_WIDGETS, Preferences, change_preferences
from shared.errors import InvalidInputError
from shared.rpc.tickets import MAX_HOME_WIDGETS, MAX_SIGNATURE

CURRENT = Preferences(language="fr", signature="Marc", home_layout=("mine", "reminders"))


def test_what_is_not_given_stays_as_it_is() -> None:
    assert change_preferences(CURRENT) == CURRENT
    assert change_preferences(CURRENT, language="en") == Preferences(
        "en", "Marc", ("mine", "reminders")
    )
    assert change_preferences(CURRENT, home_layout=()) == Preferences("fr", "Marc", ())
    assert change_preferences(CURRENT, signature="") == Preferences("fr", "", CURRENT.home_layout)


def test_a_layout_keeps_the_order_given() -> None:
    layout = ("requests", "dashboard", "mine", "unowned")
    assert change_preferences(CURRENT, home_layout=layout).home_layout == layout


def test_every_known_box_may_be_shown_at_once() -> None:
    every = tuple(sorted(HOME_WIDGETS))
    assert change_preferences(CURRENT, home_layout=every).home_layout == every


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        (("mine", "unowned", "mine"), "each home box comes once: mine twice"),
        (("mine", "weather"), "unknown home boxes weather"),
        (tuple(sorted(HOME_WIDGETS)) * 2, "each home box comes once"),
    ],
    ids=["duplicate", "unknown", "everything-twice"],
)
def test_an_invalid_layout_is_refused(layout: tuple[str, ...], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        change_preferences(CURRENT, home_layout=layout)


def test_a_layout_has_a_bounded_number_of_boxes() -> None:
    assert len(HOME_WIDGETS) <= MAX_HOME_WIDGETS  # so the bound is only a guard


def test_a_signature_has_one_kind_of_line_break_and_no_trailing_blank_lines() -> None:
    changed = change_preferences(CURRENT, signature="-- \r\nMarc\rAchats\n\n  \n")
    assert changed.signature == "-- \nMarc\nAchats"


def test_a_signature_too_long_is_refused() -> None:
    assert change_preferences(CURRENT, signature="x" * MAX_SIGNATURE).signature == (
        "x" * MAX_SIGNATURE
    )
    with pytest.raises(InvalidInputError, match=f"at most {MAX_SIGNATURE} characters"):
        change_preferences(CURRENT, signature="x" * (MAX_SIGNATURE + 1))


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="one of en, fr"):
        change_preferences(CURRENT, language="de")
