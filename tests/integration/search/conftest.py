"""Fixtures of the search integration tests: the real tickets service and the real search
service on one fresh virtual host, with a fresh index in the real OpenSearch — tickets are
made through the tickets service, reach search as events, and searches ask the tickets
service who may see what."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from opensearchpy import AsyncOpenSearch

from services.search import handlers as search_handlers
from services.search.adapters.extraction_pool import ExtractionPool
from services.search.adapters.opensearch_index import OpenSearchTicketIndex
from services.search.adapters.tickets_rpc import TicketsClient
from services.search.service import SearchService
from services.tickets import handlers as tickets_handlers
from services.tickets.adapters.amqp_export import AmqpExportQueues
from services.tickets.adapters.attachments import MongoAttachmentStore
from services.tickets.adapters.mongo_store import MongoTicketStore
from services.tickets.domain.model import Queue
from services.tickets.exports import TicketExporter
from services.tickets.service import TicketService
from shared.messaging import EventPublisher, RpcClient, build_broker, declare_topology
from shared.rpc import tickets as rpc
from shared.rpc.search import Principal, SearchTickets
from shared.settings import BaseServiceSettings
from tests.integration.tickets.support import QUEUE, envelope_of, ticket_command
from tests.support import eventually, raw_mail

TRAVAUX = Queue("travaux", "travaux@tickets.example.org", "travaux-comment@tickets.example.org")
ADMIN = "admin@example.org"
AGENT = "agent@example.org"


@dataclass
class Desk:
    """The two services and what tests do with them."""

    tickets: TicketService
    store: MongoTicketStore
    search: SearchService
    index: OpenSearchTicketIndex
    client: AsyncOpenSearch
    rpc: RpcClient

    async def create(
        self,
        subject: str,
        text: str = "",
        *,
        requestor: str = "alice@example.net",
        queue: str = "achats",
        ccs: tuple[str, ...] = (),
        custom_fields: dict[str, str] | None = None,
    ) -> int:
        result = await self.tickets.create(
            rpc.CreateTicket(
                command_id=f"test-{uuid.uuid4()}",
                actor=rpc.SYSTEM_ACTOR,
                queue=queue,
                subject=subject,
                text=text,
                requestors=(requestor,),
                ccs=ccs,
                custom_fields=custom_fields or {},
            )
        )
        return int(result["ticket"]["id"])

    async def mail(self, raw: bytes, **extra: Any) -> int:
        await self.tickets.on_mail_received(envelope_of(raw, **extra))
        number = await self.store.ticket_by_message_ids([_message_id(raw)])
        assert number is not None
        return number

    async def do(
        self, ticket: int, action: str, actor: str = rpc.SYSTEM_ACTOR, **params: Any
    ) -> None:
        await self.tickets.execute(ticket_command(ticket, action, actor, **params))

    async def user(
        self, email: str, *, privileged: bool = False, groups: tuple[str, ...] = ()
    ) -> None:
        await self.tickets.upsert_user(
            rpc.UpsertUser(
                actor=rpc.SYSTEM_ACTOR, email=email, privileged=privileged, groups=groups
            )
        )

    async def grant(self, right: str, kind: str, name: str = "", queue: str | None = None) -> None:
        await self.tickets.grant(
            rpc.GrantChange(actor=rpc.SYSTEM_ACTOR, right=right, kind=kind, name=name, queue=queue)  # type: ignore[arg-type]
        )

    async def revoke(self, right: str, kind: str, name: str = "", queue: str | None = None) -> None:
        await self.tickets.revoke(
            rpc.GrantChange(actor=rpc.SYSTEM_ACTOR, right=right, kind=kind, name=name, queue=queue)  # type: ignore[arg-type]
        )

    async def caught_up(self, *numbers: int, timeout: float = 15.0) -> None:
        """Wait until the index holds these tickets at their stored version, then refresh."""

        async def indexed() -> bool:
            for number in numbers:
                ticket = await self.store.get_ticket(number)
                assert ticket is not None
                found = await self.client.get(
                    index=self.index.alias, id=str(number), routing=str(number), ignore=[404]
                )
                if not found.get("found") or found["_version"] < ticket.version:
                    return False
            return True

        await eventually(indexed, timeout=timeout, what=f"tickets {numbers} indexed")
        await self.index.refresh()

    async def find(self, q: str, who: str = ADMIN, **options: Any) -> dict[str, Any]:
        return await self.search.search_tickets(
            SearchTickets(principal=Principal(email=who), q=q, **options)
        )

    async def ids(self, q: str, who: str = ADMIN) -> list[int]:
        return sorted(item["id"] for item in (await self.find(q, who))["items"])


def _message_id(raw: bytes) -> str:
    from email import message_from_bytes

    return str(message_from_bytes(raw)["Message-ID"]).strip()


@pytest.fixture
async def desk(vhost: str, mongo: Any, namespace: str, servers: Any) -> AsyncIterator[Desk]:
    store = MongoTicketStore(mongo, f"{namespace}_tickets")
    await store.ensure_indexes()
    await store.set_instance("example", [])
    await store.upsert_queue(QUEUE)
    await store.upsert_queue(TRAVAUX)
    broker = build_broker(BaseServiceSettings(broker_url=vhost))
    exporter = TicketExporter(store, AmqpExportQueues(vhost, timeout=5))
    tickets = TicketService(
        store,
        EventPublisher(broker, timeout=5),
        relay_grace=timedelta(0),
        attachments=MongoAttachmentStore(mongo, f"{namespace}_tickets"),
        exporter=exporter,
    )
    tickets_handlers.register(broker, tickets, publish_timeout=5)
    client = AsyncOpenSearch(hosts=[servers.opensearch_url], timeout=30)
    index = OpenSearchTicketIndex(client, namespace, refresh_interval="1s")
    await index.ensure_index()
    rpc_client = RpcClient(vhost, timeout=10, name="search-test")
    extraction = ExtractionPool(workers=1, timeout_seconds=20)
    search = SearchService(index, TicketsClient(rpc_client, visibility_ttl=0), extraction)
    search_handlers.register(broker, search, publish_timeout=5)
    await broker.start()
    await declare_topology(broker)
    await rpc_client.start()
    await tickets.upsert_user(
        rpc.UpsertUser(actor=rpc.SYSTEM_ACTOR, email=ADMIN, is_admin=True, privileged=True)
    )
    await tickets.upsert_user(rpc.UpsertUser(actor=rpc.SYSTEM_ACTOR, email=AGENT, privileged=True))
    try:
        yield Desk(tickets, store, search, index, client, rpc_client)
    finally:
        await broker.stop()
        await exporter.stop()
        await rpc_client.stop()
        await index.close()
        await extraction.close()
        await client.indices.delete(index=f"{namespace}-*", ignore_unavailable=True)
        await client.close()


__all__ = ["ADMIN", "AGENT", "TRAVAUX", "Desk", "raw_mail"]
