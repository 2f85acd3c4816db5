"""The administrator's list of users and of groups, against the real FerretDB: found by a
piece of address or name, paged by address; groups gathered from their members; for
administrators only."""

from __future__ import annotations

import pytest

from services.tickets.adapters.mongo_store import MongoTicketStore
from services.tickets.service import TicketService
from shared.errors import PermissionDeniedError
from shared.rpc import tickets as rpc
from tests.integration.tickets.support import EventTap

ADMIN = "admin@example.org"


async def _people(service: TicketService, store: MongoTicketStore) -> None:
    await store.upsert_user(ADMIN, {"privileged": True, "is_admin": True, "groups": []})
    for email, name, groups in [
        ("helene.dupont@example.org", "Hélène Dupont", ("acheteurs",)),
        ("bruno@example.org", "Bruno Martin", ("acheteurs", "validateurs")),
        ("agent@example.org", "Agent", ()),
    ]:
        await service.upsert_user(
            rpc.UpsertUser(
                actor=rpc.SYSTEM_ACTOR,
                email=email,
                name=name,
                password="un-mot-de-passe",
                privileged=True,
                groups=groups,
            )
        )
    await store.ensure_user("claire@client.example", service._clock())  # a requestor


async def test_users_are_found_by_address_or_name_and_paged_by_address(
    wired: tuple[TicketService, EventTap], store: MongoTicketStore
) -> None:
    service, _ = wired
    await _people(service, store)

    every = rpc.UserList.model_validate(await service.list_users(rpc.ListUsers(actor=ADMIN)))
    assert [u.email for u in every.items] == sorted(u.email for u in every.items)
    assert every.total == 5 and len(every.items) == 5
    assert {u.email for u in every.items} >= {"claire@client.example", ADMIN}

    helene = rpc.UserList.model_validate(
        await service.list_users(rpc.ListUsers(actor=ADMIN, q="HELENE"))
    )
    assert [u.email for u in helene.items] == ["helene.dupont@example.org"]
    found = helene.items[0]
    assert (found.name, found.groups, found.has_password, found.privileged) == (
        "Hélène Dupont",
        ("acheteurs",),
        True,
        True,
    )
    martin = await service.list_users(rpc.ListUsers(actor=ADMIN, q="martin"))
    assert [u["email"] for u in martin["items"]] == ["bruno@example.org"]

    second_page = rpc.UserList.model_validate(
        await service.list_users(rpc.ListUsers(actor=ADMIN, q="example.org", limit=2, offset=2))
    )
    assert second_page.total == 4  # the requestor's address is at client.example
    assert [u.email for u in second_page.items] == [
        "bruno@example.org",
        "helene.dupont@example.org",
    ]
    past_the_end = await service.list_users(rpc.ListUsers(actor=ADMIN, offset=50))
    assert past_the_end == {"total": 5, "items": ()}


async def test_groups_are_listed_with_their_members(
    wired: tuple[TicketService, EventTap], store: MongoTicketStore
) -> None:
    service, _ = wired
    await _people(service, store)
    groups = [
        rpc.GroupPublic.model_validate(g) for g in await service.groups(rpc.ActorOnly(actor=ADMIN))
    ]
    assert groups == [
        rpc.GroupPublic(
            name="acheteurs", members=("bruno@example.org", "helene.dupont@example.org")
        ),
        rpc.GroupPublic(name="validateurs", members=("bruno@example.org",)),
    ]


async def test_only_administrators_list_users_and_groups(
    wired: tuple[TicketService, EventTap], store: MongoTicketStore
) -> None:
    service, _ = wired
    await _people(service, store)
    for actor in ("agent@example.org", "claire@client.example"):
        with pytest.raises(PermissionDeniedError, match="administrator"):
            await service.list_users(rpc.ListUsers(actor=actor))
        with pytest.raises(PermissionDeniedError, match="administrator"):
            await service.groups(rpc.ActorOnly(actor=actor))
    assert (await service.list_users(rpc.ListUsers(actor=rpc.SYSTEM_ACTOR, q="bruno")))[
        "total"
    ] == 1
