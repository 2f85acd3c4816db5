"""Composition root of the tickets service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from faststream.specification import AsyncAPI
from pymongo import AsyncMongoClient

from services.tickets import handlers
from services.tickets.adapters.amqp_export import AmqpExportQueues
from services.tickets.adapters.attachments import MongoAttachmentStore
from services.tickets.adapters.mongo_store import MongoTicketStore
from services.tickets.exports import TicketExporter
from services.tickets.service import TicketService
from services.tickets.settings import TicketsSettings
from shared.messaging import EventPublisher, build_broker, declare_topology
from shared.observability import ops_router
from shared.runtime import BackgroundTasks
from shared.slow_queries import SlowQueryLogger


def asyncapi(settings: TicketsSettings) -> AsyncAPI:
    broker = build_broker(settings)
    handlers.register(broker, None, publish_timeout=settings.publish_timeout_seconds)
    return AsyncAPI(broker, title="Guichet tickets", version="0.1.0")


def build_app(settings: TicketsSettings) -> FastAPI:
    broker = build_broker(settings)
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        settings.mongo_url,
        tz_aware=True,
        serverSelectionTimeoutMS=5000,
        event_listeners=[SlowQueryLogger(settings.slow_query_ms)],
    )
    store = MongoTicketStore(mongo, settings.database_name("tickets"))
    # Exports run in the background, each on a broker connection of its own.
    exporter = TicketExporter(
        store, AmqpExportQueues(settings.broker_url, timeout=settings.publish_timeout_seconds)
    )
    service = TicketService(
        store,
        EventPublisher(broker, timeout=settings.publish_timeout_seconds),
        relay_grace=timedelta(seconds=settings.relay_grace_seconds),
        attachments=MongoAttachmentStore(mongo, settings.database_name("tickets")),
        trusted_authserv_ids=settings.trusted_authserv_id_list(),
        exporter=exporter,
    )
    handlers.register(broker, service, publish_timeout=settings.publish_timeout_seconds)
    tasks = BackgroundTasks()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await store.ensure_indexes()
        # Start first: each subscriber declares its queue on its own channel (prefetch);
        # then the rest of the topology, which producers need before the first publish.
        await broker.start()
        await declare_topology(broker)
        tasks.every(
            settings.outbox_relay_interval_seconds, "outbox-relay", service.relay_unpublished
        )
        try:
            yield
        finally:
            await exporter.stop()
            await tasks.stop()
            await broker.stop()
            await mongo.close()

    async def broker_ready() -> bool:
        return await broker.ping(timeout=2.0)

    app = FastAPI(title="Guichet tickets", lifespan=lifespan)
    app.include_router(ops_router({"broker": broker_ready, "mongo": store.ping}))
    return app
