"""The users and groups an administrator looks through (pure): finding a user by a piece
of their address or name, and each group with its members (groups are named on users)."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable


def folded(text: str) -> str:
    """``text`` for a comparison that ignores case and accents (``Hélène`` → ``helene``)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def user_matches(query: str | None, email: str, name: str) -> bool:
    """Whether a user's address or name holds ``query`` (no query, or a blank one: all)."""
    wanted = folded(query or "").strip()
    return not wanted or wanted in folded(email) or wanted in folded(name)


def members_by_group(memberships: Iterable[tuple[str, Iterable[str]]]) -> dict[str, list[str]]:
    """Each group named by a user, with its members' addresses: groups by name, members
    sorted, each once; blank group names are ignored."""
    groups: dict[str, set[str]] = {}
    for email, names in memberships:
        for name in names:
            if name.strip():
                groups.setdefault(name, set()).add(email)
    return {name: sorted(groups[name]) for name in sorted(groups)}
