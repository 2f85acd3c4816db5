"""``tickets.export`` and ``tickets.visibility`` through the service's RPC endpoints, on the
real FerretDB and RabbitMQ: an export streams every ticket, then every transaction with a
message, exactly once, to the caller's queue, never flooding it; it is the system's or an
administrator's; a reader that goes away ends it quietly. Visibility answers where a
user's rights reach."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import aio_pika
import aio_pika.abc
import pytest

from services.tickets import handlers
from services.tickets.adapters.amqp_export import AmqpExportQueues
from services.tickets.adapters.attachments import MongoAttachmentStore
from services.tickets.adapters.mongo_store import MongoTicketStore
from services.tickets.exports import MAX_WAITING, TicketExporter
from services.tickets.service import TicketService
from shared.errors import (
    AuthenticationFailedError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from shared.messaging import EventPublisher, RpcClient, build_broker, declare_topology
from shared.rpc import tickets as rpc
from shared.settings import BaseServiceSettings
from tests.integration.tickets.support import (
    EventTap,
    envelope_of,
    queue_change,
    ticket_command,
)
from tests.support import eventually, raw_mail, unique

ADMIN = "root@example.org"
AGENT = "agent@example.org"
REQUESTOR = "alice@example.net"


@dataclass
class Served:
    service: TicketService
    exporter: TicketExporter
    client: RpcClient
    tap: EventTap
    vhost: str


@pytest.fixture
async def served(
    vhost: str, store: MongoTicketStore, attachments: MongoAttachmentStore
) -> AsyncIterator[Served]:
    """The tickets service with its RPC endpoints on the real broker, as app.py wires it."""
    broker = build_broker(BaseServiceSettings(broker_url=vhost))
    exporter = TicketExporter(store, AmqpExportQueues(vhost, timeout=5))
    service = TicketService(
        store,
        EventPublisher(broker, timeout=5),
        relay_grace=timedelta(0),
        attachments=attachments,
        exporter=exporter,
    )
    handlers.register(broker, service, publish_timeout=5)
    await broker.start()
    await declare_topology(broker)
    tap = EventTap(vhost)
    await tap.start()
    client = RpcClient(vhost, timeout=10, name="search-test")
    await client.start()
    await store.upsert_user(ADMIN, {"privileged": True, "is_admin": True})
    await store.upsert_user(AGENT, {"privileged": True, "is_admin": False})
    yield Served(service, exporter, client, tap, vhost)
    await client.stop()
    await exporter.stop()
    await tap.stop()
    await broker.stop()


class Reader:
    """The search service's side of an export: a temporary queue of its own (auto-delete,
    not exclusive: the export must see how much waits in it), read one batch at a time."""

    def __init__(self, amqp_url: str) -> None:
        self._url = amqp_url
        self.name = unique("test.export.")
        self.batches: list[dict[str, Any]] = []
        self.finished = asyncio.Event()

    async def open(self) -> None:
        self._connection = await aio_pika.connect(self._url)
        self._channel = await self._connection.channel()
        await self._channel.set_qos(prefetch_count=1)
        self._queue = await self._channel.declare_queue(self.name, auto_delete=True)

    async def read(self, *, hold: bool = False) -> None:
        """Take the batches as they come; when ``hold``, take one and keep it unread."""

        async def on_batch(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            if hold:
                return
            async with message.process():
                batch = json.loads(message.body)
                self.batches.append(batch)
                if batch["kind"] in ("end", "failed"):
                    self.finished.set()

        await self._queue.consume(on_batch)

    async def waiting(self) -> int:
        declared = await self._channel.declare_queue(self.name, passive=True)
        return declared.declaration_result.message_count or 0

    async def all_of_it(self) -> list[dict[str, Any]]:
        await asyncio.wait_for(self.finished.wait(), timeout=30)
        return self.batches

    async def go_away(self) -> None:
        """Close the connection: the consumer goes, and its auto-delete queue with it."""
        if not self._connection.is_closed:
            await self._connection.close()


@pytest.fixture
async def reader(served: Served) -> AsyncIterator[Reader]:
    reader = Reader(served.vhost)
    await reader.open()
    yield reader
    await reader.go_away()


async def some_history(served: Served) -> None:
    """Tickets opened by mail and answered by mail, a comment, a status change with no
    message, one with a message, and an owner change: 13 transactions, 11 messages."""
    service, tap = served.service, served.tap
    for number in range(4):
        await service.on_mail_received(
            envelope_of(raw_mail(sender=REQUESTOR, subject=f"Demande {number}"))
        )
    created = await tap.wait_for(4)
    ids = [e.payload["ticket"]["id"] for e in created]
    for ticket_id in ids[:3]:
        reply = raw_mail(sender=REQUESTOR, subject=f"Re: [example #{ticket_id}] Demande")
        await service.on_mail_received(envelope_of(reply))
    await service.execute(ticket_command(ids[0], "comment", AGENT, text="Note interne"))
    await service.execute(ticket_command(ids[0], "take", AGENT))
    await service.execute(ticket_command(ids[1], "set_status", AGENT, status="stalled"))
    await service.execute(ticket_command(ids[2], "reply", AGENT, text="Voici le devis."))
    await service.execute(
        ticket_command(ids[2], "set_status", AGENT, status="resolved", text="Livré.")
    )
    await service.execute(ticket_command(ids[3], "comment", AGENT, text="À relancer"))
    await tap.wait_for(13)


async def test_an_export_streams_every_ticket_then_every_message_once_then_the_end(
    served: Served, reader: Reader, store: MongoTicketStore
) -> None:
    await some_history(served)
    await reader.read()
    started = await served.client.call(
        rpc.EXPORT, {"actor": rpc.SYSTEM_ACTOR, "reply_to": reader.name, "batch_size": 3}
    )
    started = rpc.ExportStarted.model_validate(started)
    assert len(started.export_id) == 32 and started.tickets == 4 and started.transactions == 13
    batches = [rpc.ExportBatch.model_validate(b) for b in await reader.all_of_it()]

    kinds = [b.kind for b in batches]
    assert kinds == ["tickets", "tickets", "messages", "messages", "messages", "messages", "end"]
    assert {b.export_id for b in batches} == {started.export_id}
    tickets = [t for b in batches for t in b.tickets]
    expected_tickets = [t.snapshot() async for t in store.each_ticket()]
    assert sorted(tickets, key=lambda t: t.id) == sorted(expected_tickets, key=lambda t: t.id)
    messages = [m for b in batches for m in b.messages]
    published = {
        e.payload["transaction"]["id"]: (e.payload["ticket"]["id"], e.payload["transaction"])
        for e in served.tap.events
        if e.payload["transaction"]["message"] is not None
    }
    assert len(published) == 11
    assert len(messages) == len(published)  # each once
    for exported in messages:  # just as their events carried them
        ticket_id, transaction = published[exported.transaction.id]
        assert exported.ticket == ticket_id
        assert exported.transaction.model_dump(mode="json") == transaction
    assert [(b.sent_tickets, b.sent_messages) for b in batches] == [
        (3, 0),
        (4, 0),
        (4, 3),
        (4, 6),
        (4, 9),
        (4, 11),
        (4, 11),
    ]
    await eventually(lambda: _none_running(served.exporter), what="the export to end")


async def _none_running(exporter: TicketExporter) -> bool:
    return not exporter.running


async def test_the_export_waits_while_its_reader_has_enough_to_read(
    served: Served, reader: Reader
) -> None:
    await some_history(served)
    await served.client.call(rpc.EXPORT, {"actor": ADMIN, "reply_to": reader.name, "batch_size": 1})

    async def full() -> int:
        return await reader.waiting() >= MAX_WAITING

    await eventually(full, what="the reader's queue to fill up")
    await asyncio.sleep(0.5)
    assert await reader.waiting() <= MAX_WAITING + 1  # one more at most, never a flood
    assert served.exporter.running  # waiting, not finished
    await reader.read()
    batches = await reader.all_of_it()
    assert len(batches) == 4 + 11 + 1
    assert batches[-1]["kind"] == "end"


async def test_a_reader_that_goes_away_ends_the_export_quietly(
    served: Served, reader: Reader, caplog: pytest.LogCaptureFixture
) -> None:
    await some_history(served)
    caplog.set_level(logging.INFO, logger="services.tickets")
    await served.client.call(
        rpc.EXPORT, {"actor": rpc.SYSTEM_ACTOR, "reply_to": reader.name, "batch_size": 1}
    )

    async def full() -> int:
        return await reader.waiting() >= MAX_WAITING

    await reader.read(hold=True)
    await eventually(full, what="the reader's queue to fill up")
    await reader.go_away()
    await eventually(lambda: _none_running(served.exporter), what="the export to stop")
    records = [r for r in caplog.records if r.name.startswith("services.tickets")]
    assert [r for r in records if r.levelno >= logging.ERROR] == []
    assert any("reader went away" in r.getMessage() for r in records)


async def test_a_stopping_service_tells_the_reader_its_export_failed(
    served: Served, reader: Reader
) -> None:
    await some_history(served)
    await served.client.call(
        rpc.EXPORT, {"actor": rpc.SYSTEM_ACTOR, "reply_to": reader.name, "batch_size": 1}
    )

    async def full() -> int:
        return await reader.waiting() >= MAX_WAITING

    await eventually(full, what="the reader's queue to fill up")
    await served.exporter.stop()
    await reader.read()
    batches = await reader.all_of_it()
    assert batches[-1]["kind"] == "failed"
    assert batches[-1]["detail"] == "the tickets service stopped"
    assert not served.exporter.running


async def test_at_most_two_exports_run_at_once(served: Served, reader: Reader) -> None:
    await some_history(served)
    other = Reader(served.vhost)
    await other.open()
    try:
        for queue in (reader.name, other.name):
            await served.client.call(
                rpc.EXPORT, {"actor": rpc.SYSTEM_ACTOR, "reply_to": queue, "batch_size": 1}
            )
        with pytest.raises(ConflictError, match="running already"):
            await served.client.call(
                rpc.EXPORT, {"actor": rpc.SYSTEM_ACTOR, "reply_to": reader.name}
            )
        assert len(served.exporter.running) == 2
    finally:
        await other.go_away()


@pytest.mark.parametrize(
    ("actor", "error"),
    [(AGENT, PermissionDeniedError), ("nobody@example.net", AuthenticationFailedError)],
    ids=["agent", "unknown"],
)
async def test_only_the_system_or_an_administrator_may_export(
    served: Served, reader: Reader, actor: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        await served.client.call(rpc.EXPORT, {"actor": actor, "reply_to": reader.name})
    assert not served.exporter.running
    assert await reader.waiting() == 0


async def test_an_export_to_an_exclusive_queue_is_refused_at_once(served: Served) -> None:
    connection = await aio_pika.connect(served.vhost)
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(exclusive=True)
        with pytest.raises(InvalidInputError, match="exclusive"):
            await served.client.call(
                rpc.EXPORT, {"actor": rpc.SYSTEM_ACTOR, "reply_to": queue.name}
            )
    finally:
        await connection.close()
    assert not served.exporter.running


async def test_an_export_to_a_queue_that_does_not_exist_is_refused(served: Served) -> None:
    with pytest.raises(NotFoundError, match="no queue"):
        await served.client.call(
            rpc.EXPORT, {"actor": rpc.SYSTEM_ACTOR, "reply_to": unique("test.export.gone.")}
        )
    assert not served.exporter.running


async def test_visibility_says_where_each_user_sees_tickets_and_comments(served: Served) -> None:
    service = served.service
    await service.upsert_queue(queue_change("compta", ccs=("boss@example.org",)))
    await service.upsert_user(
        rpc.UpsertUser(actor=rpc.SYSTEM_ACTOR, email="boss@example.org", groups=("direction",))
    )
    for right, kind, name, queue in [
        ("ShowTicket", "group", "direction", "achats"),
        ("ShowTicketComments", "role", "Cc", None),
    ]:
        await service.grant(
            rpc.GrantChange(actor=rpc.SYSTEM_ACTOR, right=right, kind=kind, name=name, queue=queue)
        )

    async def visibility(actor: str) -> rpc.Visibility:
        answer = await served.client.call(rpc.VISIBILITY, {"actor": actor})
        return rpc.Visibility.model_validate(answer)

    boss = await visibility("Boss@Example.org")
    assert boss.email == "boss@example.org" and not boss.is_admin
    # achats by her group; compta as its queue-level Cc (Cc shows tickets, by default).
    assert boss.show_ticket.direct == rpc.QueueScope(queues=("achats", "compta"))
    assert boss.show_ticket.roles == {
        "Requestor": rpc.QueueScope(every_queue=True),
        "Cc": rpc.QueueScope(every_queue=True),
    }
    assert boss.show_comments == rpc.RightReach(
        direct=rpc.QueueScope(queues=("compta",)),
        roles={"Cc": rpc.QueueScope(every_queue=True)},
    )

    stranger = await visibility("nobody@elsewhere.example")  # unknown: no groups, no privilege
    assert stranger.show_ticket.direct == rpc.QueueScope()
    assert set(stranger.show_ticket.roles) == {"Requestor", "Cc"}

    agent = await visibility(AGENT)
    assert (
        agent.show_ticket
        == agent.show_comments
        == rpc.RightReach(direct=rpc.QueueScope(every_queue=True), roles={})
    )
    admin = await visibility(ADMIN)
    assert admin.is_admin and admin.show_comments.direct.every_queue
    system = await visibility(rpc.SYSTEM_ACTOR)  # every right, but no deleted ticket
    assert not system.is_admin and system.show_ticket.direct.every_queue
