"""A user's own preferences (pure): the language they read Guichet in, the signature put
under their messages, and the boxes of their home page, in order."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import get_args

from shared.errors import InvalidInputError
from shared.rpc.tickets import MAX_HOME_WIDGETS, MAX_SIGNATURE, HomeWidget, Language

LANGUAGES = frozenset(get_args(Language))
HOME_WIDGETS = frozenset(get_args(HomeWidget))


@dataclass(frozen=True)
class Preferences:
    language: str = "fr"
    signature: str = ""
    home_layout: tuple[str, ...] = ()  # empty: the interface's default layout


def change_preferences(
    current: Preferences,
    *,
    language: str | None = None,
    signature: str | None = None,
    home_layout: Sequence[str] | None = None,
) -> Preferences:
    """``current`` with what is given changed (None leaves a preference as it is)."""
    return Preferences(
        language=current.language if language is None else _language(language),
        signature=current.signature if signature is None else _signature(signature),
        home_layout=current.home_layout if home_layout is None else _home_layout(home_layout),
    )


def _language(language: str) -> str:
    if language not in LANGUAGES:
        raise InvalidInputError(f"a language is one of {', '.join(sorted(LANGUAGES))}")
    return language


def _signature(text: str) -> str:
    """One kind of line break, no trailing blank lines; at most MAX_SIGNATURE characters."""
    cleaned = text.replace("\r\n", "\n").replace("\r", "\n").rstrip()
    if len(cleaned) > MAX_SIGNATURE:
        raise InvalidInputError(f"a signature has at most {MAX_SIGNATURE} characters")
    return cleaned


def _home_layout(layout: Sequence[str]) -> tuple[str, ...]:
    unknown = sorted({w for w in layout if w not in HOME_WIDGETS})
    if unknown:
        raise InvalidInputError(
            f"unknown home boxes {', '.join(unknown)}; "
            f"they are among {', '.join(sorted(HOME_WIDGETS))}"
        )
    twice = sorted(w for w, n in Counter(layout).items() if n > 1)
    if twice:
        raise InvalidInputError(f"each home box comes once: {', '.join(twice)} twice")
    if len(layout) > MAX_HOME_WIDGETS:
        raise InvalidInputError(f"a home page has at most {MAX_HOME_WIDGETS} boxes")
    return tuple(layout)
