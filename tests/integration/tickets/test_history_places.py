"""A ticket's history is read by the places of its transactions (one indexed read each),
merged tickets included; without places (older data) the query over them all answers."""

from __future__ import annotations

from services.tickets.adapters.mongo_store import MongoTicketStore
from services.tickets.service import TicketService
from shared.rpc import tickets as rpc
from tests.integration.tickets.support import EventTap, envelope_of, ticket_command
from tests.support import raw_mail

ADMIN = "admin@example.org"


async def test_history_by_places_follows_merged_tickets(
    wired: tuple[TicketService, EventTap], store: MongoTicketStore
) -> None:
    service, _ = wired
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
    assert await store.transactions_of(1, first.version) is None
    assert await service.history(rpc.TicketRef(actor=ADMIN, id=1)) == history
