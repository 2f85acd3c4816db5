"""What a user keeps under a name and may share with their groups (pure): saved searches,
dashboards and canned responses alike. One's own items are one's to change; those shared
with one of one's groups are to read; nobody else sees them (an administrator neither)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from services.tickets.domain.rights import Actor
from shared.errors import InvalidInputError, NotFoundError, PermissionDeniedError

# Each kind of item, by the name of its collection, with what it is called in messages.
OWNED_KINDS: dict[str, str] = {
    "saved_searches": "saved search",
    "dashboards": "dashboard",
    "responses": "canned response",
}


def may_read(owner: str, groups: Collection[str], actor: Actor) -> bool:
    """Its owner, and the members of a group it is shared with."""
    return owner == actor.email or bool(set(groups) & actor.groups)


def check_access(
    kind: str, action: str, item_id: str | None, stored: dict[str, Any] | None, actor: Actor
) -> None:
    """Whether ``actor`` may ``action`` the item ``item_id`` (``stored``, None if there is
    none): an item one may not read is one that does not exist; a shared one is changed
    by its owner only."""
    if item_id is None and action != "put":
        raise InvalidInputError(f"{action} needs 'id'")
    if item_id is None:
        return
    if stored is None or not may_read(stored["owner"], stored.get("groups", ()), actor):
        raise NotFoundError(f"no such {OWNED_KINDS[kind]}")
    if action != "get" and stored["owner"] != actor.email:
        raise PermissionDeniedError(f"only its owner changes a shared {OWNED_KINDS[kind]}")


def owned_item(
    *, item_id: str, actor: Actor, body: dict[str, Any], shared: bool, now: datetime
) -> dict[str, Any]:
    """An item as stored: shared, it reaches the owner's groups of today."""
    return {
        "_id": item_id,
        "owner": actor.email,
        "groups": sorted(actor.groups) if shared else [],
        "updated": now,
        "body": body,
    }
