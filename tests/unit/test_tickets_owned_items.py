"""tickets.domain.owned_items: saved searches, dashboards and canned responses alike —
one's own to change, those shared with one's groups to read, others' not even seen."""

from __future__ import annotations

from typing import Any

import pytest

from services.tickets.domain.owned_items import OWNED_KINDS, check_access, owned_item
from services.tickets.domain.rights import Actor
from shared.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from tests.unit.factories import NOW

OWNER = Actor("owner@example.org", privileged=True, groups=frozenset({"achats", "compta"}))
COLLEAGUE = Actor("colleague@example.org", privileged=True, groups=frozenset({"achats"}))
OTHER = Actor("other@example.org", privileged=True, groups=frozenset({"ventes"}))
ADMIN = Actor("root@example.org", is_admin=True)
ITEM_ID = "0f" * 16


def stored(*, shared: bool) -> dict[str, Any]:
    return owned_item(item_id=ITEM_ID, actor=OWNER, body={"name": "x"}, shared=shared, now=NOW)


def test_a_shared_item_reaches_the_owners_groups_and_a_private_one_none() -> None:
    assert stored(shared=True)["groups"] == ["achats", "compta"]
    assert stored(shared=False)["groups"] == []
    assert stored(shared=True)["owner"] == OWNER.email


@pytest.mark.parametrize("kind", sorted(OWNED_KINDS))
@pytest.mark.parametrize("action", ["get", "put", "delete"])
def test_the_owner_may_do_anything_with_their_own(kind: str, action: str) -> None:
    check_access(kind, action, ITEM_ID, stored(shared=False), OWNER)


@pytest.mark.parametrize("kind", sorted(OWNED_KINDS))
def test_a_group_member_reads_a_shared_item_and_may_not_change_it(kind: str) -> None:
    item = stored(shared=True)
    check_access(kind, "get", ITEM_ID, item, COLLEAGUE)
    for action in ("put", "delete"):
        with pytest.raises(PermissionDeniedError, match=f"shared {OWNED_KINDS[kind]}"):
            check_access(kind, action, ITEM_ID, item, COLLEAGUE)


@pytest.mark.parametrize("who", [COLLEAGUE, OTHER, ADMIN], ids=["colleague", "other", "admin"])
@pytest.mark.parametrize("action", ["get", "put", "delete"])
def test_a_private_item_does_not_exist_for_anyone_else(who: Actor, action: str) -> None:
    with pytest.raises(NotFoundError, match="no such canned response"):
        check_access("responses", action, ITEM_ID, stored(shared=False), who)


def test_a_shared_item_does_not_exist_outside_its_groups() -> None:
    with pytest.raises(NotFoundError, match="no such saved search"):
        check_access("saved_searches", "get", ITEM_ID, stored(shared=True), OTHER)


def test_an_unknown_item_does_not_exist() -> None:
    with pytest.raises(NotFoundError, match="no such dashboard"):
        check_access("dashboards", "get", ITEM_ID, None, OWNER)


def test_creating_needs_no_id_and_the_rest_do() -> None:
    check_access("responses", "put", None, None, OTHER)
    for action in ("get", "delete"):
        with pytest.raises(InvalidInputError, match=f"{action} needs 'id'"):
            check_access("responses", action, None, None, OWNER)
