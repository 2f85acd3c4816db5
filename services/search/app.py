"""Composition root of the search service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from faststream.specification import AsyncAPI
from opensearchpy import AsyncOpenSearch

from services.search import handlers
from services.search.adapters.extraction_pool import ExtractionPool
from services.search.adapters.opensearch_index import OpenSearchTicketIndex
from services.search.adapters.tickets_rpc import TicketsClient
from services.search.service import SearchService
from services.search.settings import SearchSettings
from shared.messaging import RpcClient, build_broker, declare_topology
from shared.observability import ops_router


def asyncapi(settings: SearchSettings) -> AsyncAPI:
    broker = build_broker(settings)
    handlers.register(broker, None, publish_timeout=settings.publish_timeout_seconds)
    return AsyncAPI(broker, title="Guichet search", version="0.1.0")


def extraction_pool(settings: SearchSettings, *, workers: int | None = None) -> ExtractionPool:
    return ExtractionPool(
        workers=workers or settings.extraction_workers,
        timeout_seconds=settings.extraction_timeout_seconds,
        max_bytes=settings.extraction_max_bytes,
        max_chars=settings.extraction_max_chars,
    )


def build_app(settings: SearchSettings) -> FastAPI:
    broker = build_broker(settings)
    client = AsyncOpenSearch(hosts=[settings.opensearch_url], timeout=30)
    index = OpenSearchTicketIndex(
        client, settings.namespace, refresh_interval=settings.index_refresh
    )
    rpc_client = RpcClient(settings.broker_url, timeout=settings.rpc_timeout_seconds, name="search")
    extraction = extraction_pool(settings)
    service = SearchService(index, TicketsClient(rpc_client), extraction)
    handlers.register(broker, service, publish_timeout=settings.publish_timeout_seconds)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # An index of an older mapping stops the service here, with the way out in the
        # log; the events wait in their durable queue until the index is rebuilt.
        await index.ensure_index()
        await rpc_client.start()
        # Start first: each subscriber declares its queue on its own channel (prefetch);
        # then the rest of the topology, which producers need before the first publish.
        await broker.start()
        await declare_topology(broker)
        try:
            yield
        finally:
            await broker.stop()
            await index.close()
            await rpc_client.stop()
            await extraction.close()
            await client.close()

    async def broker_ready() -> bool:
        return await broker.ping(timeout=2.0)

    app = FastAPI(title="Guichet search", lifespan=lifespan)
    app.include_router(ops_router({"broker": broker_ready, "opensearch": index.ping}))
    return app
