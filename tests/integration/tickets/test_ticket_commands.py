"""Commands on tickets against the real FerretDB and RabbitMQ: rights, a transaction and
an event per command, idempotency by command id, and no lost update under concurrency."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from services.tickets.adapters.mongo_store import MongoTicketStore
from services.tickets.service import TicketService
from shared.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from shared.events.envelope import Envelope
from shared.rpc import tickets as rpc
from tests.integration.tickets.support import EventTap, envelope_of, queue_change, ticket_command
from tests.support import raw_mail

AGENT = "agent@example.org"
OTHER_AGENT = "agent2@example.org"
REQUESTOR = "alice@example.net"


@pytest.fixture
async def ticket_id(
    wired: tuple[TicketService, EventTap], store: MongoTicketStore
) -> AsyncIterator[int]:
    service, tap = wired
    for email in (AGENT, OTHER_AGENT):
        await store.upsert_user(email, {"privileged": True, "is_admin": False})
    await service.on_mail_received(envelope_of(raw_mail(sender=REQUESTOR)))
    [created] = await tap.wait_for(1)
    yield created.payload["ticket"]["id"]


def command(ticket: int, action: str, actor: str = AGENT, **params: Any) -> rpc.TicketCommand:
    return ticket_command(ticket, action, actor, **params)


async def test_an_agent_reply_opens_the_ticket_and_publishes_correspond(
    wired: tuple[TicketService, EventTap], ticket_id: int
) -> None:
    service, tap = wired
    result = await service.execute(command(ticket_id, "reply", text="Voici notre devis."))
    assert result["ticket"]["status"] == "open"
    assert result["ticket"]["version"] == 2
    events = await tap.wait_for(2)
    assert events[1].type == "ticket.txn.correspond"
    assert events[1].payload["transaction"]["creator"] == AGENT
    assert events[1].payload["transaction"]["message"]["text"] == "Voici notre devis."


async def test_the_same_command_id_acts_once_and_answers_the_same(
    wired: tuple[TicketService, EventTap], ticket_id: int
) -> None:
    service, tap = wired
    once = command(ticket_id, "comment", text="Note interne")
    first = await service.execute(once)
    second = await service.execute(once)
    assert first == second
    history = await service.history(rpc.TicketRef(actor=AGENT, id=ticket_id))
    assert [h["type"] for h in history] == ["create", "comment"]
    await asyncio.sleep(0.3)
    assert len(tap.events) == 2


async def test_take_steal_assign_and_untake(
    wired: tuple[TicketService, EventTap], ticket_id: int
) -> None:
    service, _ = wired
    taken = await service.execute(command(ticket_id, "take"))
    assert taken["ticket"]["owner"] == AGENT
    with pytest.raises(ConflictError, match="steal"):
        await service.execute(command(ticket_id, "take", actor=OTHER_AGENT))
    stolen = await service.execute(command(ticket_id, "steal", actor=OTHER_AGENT))
    assert stolen["ticket"]["owner"] == OTHER_AGENT
    given = await service.execute(command(ticket_id, "assign", owner=AGENT, actor=OTHER_AGENT))
    assert given["ticket"]["owner"] == AGENT
    with pytest.raises(PermissionDeniedError, match="OwnTicket"):
        await service.execute(command(ticket_id, "assign", owner=REQUESTOR))
    freed = await service.execute(command(ticket_id, "untake"))
    assert freed["ticket"]["owner"] == "Nobody"
    history = await service.history(rpc.TicketRef(actor=AGENT, id=ticket_id))
    assert [h["note"] for h in history if h["type"] == "owner"] == [
        "take",
        "steal",
        "give",
        "untake",
    ]


async def test_watchers_and_status_with_rights(
    wired: tuple[TicketService, EventTap], ticket_id: int
) -> None:
    service, _ = wired
    added = await service.execute(
        command(ticket_id, "add_watcher", role="Cc", email="Fournisseur@Supplier.example")
    )
    assert added["ticket"]["ccs"] == ["fournisseur@supplier.example"]
    # The requestor may see and answer, not change the ticket.
    with pytest.raises(PermissionDeniedError, match="ModifyTicket"):
        await service.execute(command(ticket_id, "set_status", actor=REQUESTOR, status="resolved"))
    with pytest.raises(PermissionDeniedError, match="CommentOnTicket"):
        await service.execute(command(ticket_id, "comment", actor=REQUESTOR, text="psst"))
    replied = await service.execute(command(ticket_id, "reply", actor=REQUESTOR, text="Merci"))
    assert replied["ticket"]["status"] == "new"
    resolved = await service.execute(
        command(ticket_id, "set_status", status="resolved", text="Livré.")
    )
    assert resolved["ticket"]["status"] == "resolved" and resolved["ticket"]["resolved"]
    reopened = await service.execute(command(ticket_id, "reply", actor=REQUESTOR, text="Encore"))
    assert reopened["ticket"]["status"] == "open" and reopened["ticket"]["resolved"] is None
    with pytest.raises(NotFoundError):
        await service.execute(command(ticket_id + 10_000, "take"))


async def test_two_concurrent_writers_lose_no_update_over_100_rounds(
    wired: tuple[TicketService, EventTap], ticket_id: int, store: MongoTicketStore
) -> None:
    service, tap = wired

    async def writer(actor: str, rounds: int) -> list[int]:
        versions = []
        for i in range(rounds):
            result = await service.execute(
                command(ticket_id, "comment", actor=actor, text=f"{actor} {i}")
            )
            versions.append(result["ticket"]["version"])
        return versions

    rounds = 100
    a, b = await asyncio.gather(writer(AGENT, rounds), writer(OTHER_AGENT, rounds))
    assert a == sorted(a) and b == sorted(b)  # each writer sees versions strictly increase
    assert len(set(a) | set(b)) == 2 * rounds  # no two writes took the same version
    writes = 2 * rounds
    history = await service.history(rpc.TicketRef(actor=AGENT, id=ticket_id))
    assert [h["seq"] for h in history] == list(range(1, writes + 2))
    ticket = await store.catch_up(ticket_id)
    assert ticket is not None and ticket.version == writes + 1
    events = await tap.wait_for(writes + 1)
    assert len({e.id for e in events}) == writes + 1


async def test_every_transaction_has_exactly_one_event_after_a_crash_before_publish(
    wired: tuple[TicketService, EventTap], ticket_id: int, store: MongoTicketStore
) -> None:
    service, tap = wired

    class Crash(Exception):
        pass

    original = service._publisher

    class CrashingPublisher:
        async def publish(self, envelope: Envelope[Any]) -> None:
            raise Crash("killed between the MongoDB write and the publish")

    service._publisher = CrashingPublisher()  # type: ignore[assignment]
    with pytest.raises(Crash):
        await service.execute(command(ticket_id, "comment", text="perdu ?"))
    service._publisher = original
    assert await service.relay_unpublished() == 1
    events = await tap.wait_for(2)
    assert [e.type for e in events] == ["ticket.txn.create", "ticket.txn.comment"]
    assert await service.relay_unpublished() == 0


async def test_a_ticket_cannot_be_resolved_while_what_it_depends_on_or_a_child_is_not(
    wired: tuple[TicketService, EventTap], ticket_id: int
) -> None:
    service, tap = wired
    await service.on_mail_received(envelope_of(raw_mail(sender="bob@example.net")))
    await service.on_mail_received(envelope_of(raw_mail(sender="carol@example.net")))
    events = await tap.wait_for(3)
    dependency, child = (e.payload["ticket"]["id"] for e in events[1:3])
    linked = await service.execute(command(ticket_id, "link", link="DependsOn", target=dependency))
    assert linked["ticket"]["links"]["DependsOn"] == [dependency]
    await service.execute(command(child, "link", link="MemberOf", target=ticket_id))
    with pytest.raises(NotFoundError):
        await service.execute(command(ticket_id, "link", link="RefersTo", target=999_999))

    with pytest.raises(ConflictError) as refused:
        await service.execute(command(ticket_id, "set_status", status="resolved"))
    assert f"depends on #{dependency} (new)" in refused.value.detail
    assert f"has child #{child} (new)" in refused.value.detail

    await service.execute(command(dependency, "set_status", status="resolved"))
    await service.execute(command(child, "set_status", status="rejected"))
    resolved = await service.execute(command(ticket_id, "set_status", status="resolved"))
    assert resolved["ticket"]["status"] == "resolved"
    unlinked = await service.execute(
        command(ticket_id, "unlink", link="DependsOn", target=dependency)
    )
    assert unlinked["ticket"]["links"]["DependsOn"] == []
    kinds = [e.type for e in await tap.wait_for(9)]
    assert "ticket.txn.link" in kinds and "ticket.txn.unlink" in kinds


async def test_rights_granted_to_a_group_on_a_queue_work_and_can_be_taken_back(
    wired: tuple[TicketService, EventTap], ticket_id: int
) -> None:
    service, _ = wired
    member = "validator@example.org"
    await service.upsert_user(
        rpc.UpsertUser(actor=rpc.SYSTEM_ACTOR, email=member, groups=("validateurs",))
    )
    with pytest.raises(PermissionDeniedError, match="ShowTicket"):
        await service.execute(command(ticket_id, "comment", actor=member, text="ok ?"))
    for right in ("ShowTicket", "CommentOnTicket"):
        await service.grant(
            rpc.GrantChange(
                actor=rpc.SYSTEM_ACTOR,
                right=right,
                kind="group",
                name="validateurs",
                queue="achats",
            )
        )
    done = await service.execute(command(ticket_id, "comment", actor=member, text="Validé."))
    assert done["ticket"]["version"] == 2
    # The defaults were kept when the first grant was added.
    listed = await service.list_grants(rpc.ActorOnly(actor=rpc.SYSTEM_ACTOR))
    assert {"right": "ShowTicket", "kind": "role", "name": "Requestor", "queue": None} in listed
    with pytest.raises(PermissionDeniedError, match="not a system administrator"):
        await service.grant(
            rpc.GrantChange(actor=member, right="ModifyTicket", kind="everyone", queue="achats")
        )
    await service.revoke(
        rpc.GrantChange(
            actor=rpc.SYSTEM_ACTOR,
            right="CommentOnTicket",
            kind="group",
            name="validateurs",
            queue="achats",
        )
    )
    with pytest.raises(PermissionDeniedError, match="CommentOnTicket"):
        await service.execute(command(ticket_id, "comment", actor=member, text="encore"))


async def test_custom_fields_are_typed_by_the_queue_and_validated(
    wired: tuple[TicketService, EventTap], ticket_id: int
) -> None:
    service, tap = wired
    await service.upsert_queue(
        queue_change(
            custom_fields=(
                rpc.CustomFieldSpec(name="DEM LOG"),
                rpc.CustomFieldSpec(name="Livraison", type="date"),
                rpc.CustomFieldSpec(name="Fournisseur", type="select", values=("Dell", "Lenovo")),
            ),
        )
    )
    done = await service.execute(
        command(ticket_id, "set_custom_field", field="dem log", value=" 2026-0042 ")
    )
    assert done["ticket"]["custom_fields"] == {"DEM LOG": "2026-0042"}
    await service.execute(
        command(ticket_id, "set_custom_field", field="Livraison", value="2026-12-01")
    )
    with pytest.raises(InvalidInputError, match="YYYY-MM-DD"):
        await service.execute(
            command(ticket_id, "set_custom_field", field="Livraison", value="demain")
        )
    with pytest.raises(InvalidInputError, match="one of Dell, Lenovo"):
        await service.execute(
            command(ticket_id, "set_custom_field", field="Fournisseur", value="HP")
        )
    with pytest.raises(NotFoundError, match="no custom field"):
        await service.execute(command(ticket_id, "set_custom_field", field="COM LOG", value="1"))
    cleared = await service.execute(
        command(ticket_id, "set_custom_field", field="DEM LOG", value="")
    )
    assert cleared["ticket"]["custom_fields"] == {"Livraison": "2026-12-01"}
    events = await tap.wait_for(4)
    assert events[1].payload["transaction"]["note"] == "CF.DEM LOG"


async def test_forward_move_and_due_date(
    wired: tuple[TicketService, EventTap], ticket_id: int
) -> None:
    service, tap = wired
    await service.upsert_queue(
        queue_change(
            "informatique",
            correspond_address="info@tickets.example.org",
            comment_address="info-comment@tickets.example.org",
        )
    )
    forwarded = await service.execute(
        command(ticket_id, "forward", to=("compta@example.org",), text="Pour la facture")
    )
    due = await service.execute(command(ticket_id, "set_due", due="2026-12-24"))
    assert due["ticket"]["due"] == "2026-12-24"
    moved = await service.execute(command(ticket_id, "move", queue="informatique"))
    assert moved["ticket"]["queue"] == "informatique"
    events = await tap.wait_for(4)
    assert events[1].type == "ticket.txn.forward"
    assert events[1].payload["transaction"]["message"]["to"] == ["compta@example.org"]
    assert events[3].payload["queue"]["correspond_address"] == "info@tickets.example.org"
    assert forwarded["ticket"]["version"] == 2


async def test_bookmarks_and_reminders(
    wired: tuple[TicketService, EventTap], ticket_id: int
) -> None:
    service, _ = wired
    assert await service.bookmarks(
        rpc.BookmarkChange(actor=AGENT, action="add", ticket=ticket_id)
    ) == [ticket_id]
    assert await service.bookmarks(rpc.BookmarkChange(actor=OTHER_AGENT, action="list")) == []
    with pytest.raises(PermissionDeniedError):  # one bookmarks only what one may see
        await service.upsert_user(rpc.UpsertUser(actor=rpc.SYSTEM_ACTOR, email="eve@example.net"))
        await service.bookmarks(
            rpc.BookmarkChange(actor="eve@example.net", action="add", ticket=ticket_id)
        )
    assert (
        await service.bookmarks(rpc.BookmarkChange(actor=AGENT, action="remove", ticket=ticket_id))
        == []
    )

    reminders = await service.reminders(
        rpc.ReminderChange(
            actor=AGENT, action="add", ticket=ticket_id, subject="Relancer", due="2026-12-01"
        )
    )
    assert [(r["subject"], r["due"], r["ticket"]) for r in reminders] == [
        ("Relancer", "2026-12-01", ticket_id)
    ]
    with pytest.raises(PermissionDeniedError, match="ModifyTicket"):
        await service.reminders(
            rpc.ReminderChange(
                actor=REQUESTOR, action="add", ticket=ticket_id, subject="x", due="2026-12-01"
            )
        )
    left = await service.reminders(
        rpc.ReminderChange(actor=AGENT, action="done", reminder=reminders[0]["id"])
    )
    assert left == []


async def test_merging_brings_history_and_watchers_and_the_old_number_keeps_threading(
    wired: tuple[TicketService, EventTap], ticket_id: int
) -> None:
    service, tap = wired
    await service.on_mail_received(envelope_of(raw_mail(sender="bob@example.net")))
    events = await tap.wait_for(2)
    target = events[1].payload["ticket"]["id"]
    merge = command(ticket_id, "merge", target=target)
    merged = await service.execute(merge)
    assert merged["ticket"]["merged_into"] == target
    assert await service.execute(merge) == merged  # the same command acts once

    shown = await service.get_ticket(rpc.TicketRef(actor=AGENT, id=ticket_id))
    assert shown["id"] == target  # the old number leads to the ticket it became
    assert set(shown["requestors"]) == {REQUESTOR, "bob@example.net"}
    history = await service.history(rpc.TicketRef(actor=AGENT, id=target))
    assert sorted((h["type"], h["creator"]) for h in history if h["type"] == "create") == [
        ("create", "alice@example.net"),
        ("create", "bob@example.net"),
    ]
    reply = raw_mail(subject=f"Re: [example #{ticket_id}] devis", body="Toujours là ?")
    await service.on_mail_received(envelope_of(reply))
    events = await tap.wait_for(5)
    assert events[-1].type == "ticket.txn.correspond"
    assert events[-1].payload["ticket"]["id"] == target
    with pytest.raises(ConflictError, match="merged"):
        await service.execute(command(ticket_id, "merge", target=target))
    # A command on the old number acts on the ticket it became.
    commented = await service.execute(command(ticket_id, "comment", text="Sur l'ancien numéro"))
    assert commented["ticket"]["id"] == target


async def test_queue_watchers_hold_their_role_on_every_ticket_and_travel_in_events(
    wired: tuple[TicketService, EventTap], ticket_id: int
) -> None:
    service, tap = wired
    observer = "auditeur@example.org"
    await service.upsert_user(rpc.UpsertUser(actor=rpc.SYSTEM_ACTOR, email=observer))
    with pytest.raises(PermissionDeniedError):
        await service.get_ticket(rpc.TicketRef(actor=observer, id=ticket_id))
    await service.upsert_queue(
        queue_change(ccs=(observer,), admin_ccs=("Chef.Achats@example.org",))
    )
    # As a queue Cc, the observer sees and may answer every ticket of the queue.
    assert (await service.get_ticket(rpc.TicketRef(actor=observer, id=ticket_id)))[
        "id"
    ] == ticket_id
    await service.execute(command(ticket_id, "reply", actor=observer, text="Vu."))
    events = await tap.wait_for(2)
    assert events[1].payload["queue"]["ccs"] == [observer]
    assert events[1].payload["queue"]["admin_ccs"] == ["chef.achats@example.org"]


async def test_lists_hold_only_what_the_actor_may_see(
    wired: tuple[TicketService, EventTap], ticket_id: int
) -> None:
    service, _ = wired
    member = "lecteur@example.org"
    await service.upsert_user(
        rpc.UpsertUser(actor=rpc.SYSTEM_ACTOR, email=member, groups=("lecteurs",))
    )
    assert (await service.list_tickets(rpc.ListTickets(actor=member)))["count"] == 0
    await service.grant(
        rpc.GrantChange(
            actor=rpc.SYSTEM_ACTOR,
            right="ShowTicket",
            kind="group",
            name="lecteurs",
            queue="achats",
        )
    )
    listed = await service.list_tickets(rpc.ListTickets(actor=member))
    assert [t["id"] for t in listed["data"]] == [ticket_id]
    mine = await service.list_tickets(rpc.ListTickets(actor=REQUESTOR))
    assert [t["id"] for t in mine["data"]] == [ticket_id]
    await service.upsert_user(rpc.UpsertUser(actor=rpc.SYSTEM_ACTOR, email="bob@example.net"))
    assert (await service.list_tickets(rpc.ListTickets(actor="bob@example.net")))["count"] == 0
