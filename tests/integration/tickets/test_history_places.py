"""A ticket's history is read by the places of its transactions (one indexed read each),
merged tickets included; without places (older data) the query over them all answers."""

from __future__ import annotations

import asyncio
from typing import Any

from services.tickets.adapters.mongo_store import MongoTicketStore
from services.tickets.service import TicketService
from shared.rpc import tickets as rpc
from tests.integration.tickets.support import EventTap, envelope_of, ticket_command
from tests.support import raw_mail

ADMIN = "admin@example.org"


async def _open_desk(service: TicketService) -> None:
    """An administrator, the queue `achats`, the rtname `example`."""
    await service.upsert_user(rpc.UpsertUser(actor=rpc.SYSTEM_ACTOR, email=ADMIN, is_admin=True))
    await service.upsert_queue(
        rpc.UpsertQueue(
            actor=rpc.SYSTEM_ACTOR,
            name="achats",
            correspond_address="achats@tickets.example.org",
            comment_address="achats-comment@tickets.example.org",
        )
    )
    await service.set_instance(rpc.SetInstance(actor=rpc.SYSTEM_ACTOR, rtname="example"))


async def test_history_by_places_follows_merged_tickets(
    wired: tuple[TicketService, EventTap], store: MongoTicketStore
) -> None:
    service, _ = wired
    await _open_desk(service)
    for subject in ("Premier", "Second"):
        await service.on_mail_received(envelope_of(raw_mail(subject=subject)))
    await service.execute(ticket_command(1, "reply", ADMIN, text="Bien reçu."))
    await service.execute(ticket_command(2, "merge", ADMIN, target=1))

    first = await store.get_ticket(1)
    assert first is not None
    by_places = await store.transactions_of(1, first.version)
    assert by_places is not None and [d["seq"] for d in by_places] == [1, 2, 3]

    history = await service.history(rpc.TicketRef(actor=ADMIN, id=1))
    assert [(h["type"], h["seq"]) for h in history] == [
        ("create", 1),
        ("create", 1),
        ("correspond", 2),
        ("merge", 3),
        ("merged", 2),
    ]

    await store.places.delete_many({})  # as data recorded before places were noted
    store._recorded.clear()  # and read by a service started since (nothing kept in memory)
    assert await store.transactions_of(1, first.version) is None
    assert await service.history(rpc.TicketRef(actor=ADMIN, id=1)) == history


async def test_a_history_read_once_is_not_read_again(
    wired: tuple[TicketService, EventTap], store: MongoTicketStore
) -> None:
    """Recorded transactions never change: a second reading of a ticket's history reads
    only what was recorded since; readers at the same time share one reading."""
    service, _ = wired
    await _open_desk(service)
    await service.on_mail_received(envelope_of(raw_mail(subject="Lu une fois")))
    await service.execute(ticket_command(1, "reply", ADMIN, text="Un."))
    reads = 0
    real_find_one = store.transactions.find_one

    async def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal reads
        reads += 1
        return await real_find_one(*args, **kwargs)

    store.transactions.find_one = counted  # type: ignore[method-assign]
    together = await asyncio.gather(*(store.transactions_of(1, 2) for _ in range(5)))
    assert reads == 2 and all(t == together[0] for t in together)
    await service.execute(ticket_command(1, "comment", ADMIN, text="Deux."))
    reads = 0
    again = await store.transactions_of(1, 3)
    assert again is not None and [d["seq"] for d in again] == [1, 2, 3]
    assert reads == 1  # only the new one
