"""Composition root of the notify service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from faststream.specification import AsyncAPI
from pymongo import AsyncMongoClient

from services.notify import handlers
from services.notify.adapters.mongo_deliveries import MongoDeliveryLog
from services.notify.adapters.mongo_queue_settings import MongoQueueSettings
from services.notify.adapters.mongo_rate_limits import MongoAutoreplyLimiter
from services.notify.adapters.smtp_sender import SmtpSender
from services.notify.adapters.tickets_rpc import TicketsClient
from services.notify.administration import NotifyAdministration
from services.notify.service import NotifyService
from services.notify.settings import NotifySettings
from shared.messaging import EventPublisher, RpcClient, build_broker, declare_topology
from shared.observability import ops_router
from shared.runtime import BackgroundTasks
from shared.slow_queries import SlowQueryLogger

HOUSEKEEPING_SECONDS = 600.0


def asyncapi(settings: NotifySettings) -> AsyncAPI:
    broker = build_broker(settings)
    handlers.register(broker, None, None, publish_timeout=settings.publish_timeout_seconds)
    return AsyncAPI(broker, title="Guichet notify", version="0.1.0")


def build_app(settings: NotifySettings) -> FastAPI:
    broker = build_broker(settings)
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        settings.mongo_url,
        tz_aware=True,
        serverSelectionTimeoutMS=5000,
        event_listeners=[SlowQueryLogger(settings.slow_query_ms)],
    )
    database = settings.database_name("notify")
    deliveries = MongoDeliveryLog(mongo, database)
    limiter = MongoAutoreplyLimiter(mongo, database, per_hour=settings.autoreply_limit_per_hour)
    queue_settings = MongoQueueSettings(mongo, database)
    rpc_client = RpcClient(
        settings.broker_url, timeout=settings.tickets_rpc_timeout_seconds, name="notify"
    )
    tickets = TicketsClient(rpc_client)
    sender = SmtpSender(
        settings.smtp_host,
        settings.smtp_port,
        starttls=settings.smtp_starttls,
        tls=settings.smtp_tls,
        validate_certs=settings.smtp_validate_certs,
        username=settings.smtp_username,
        password=settings.smtp_password,
        timeout=settings.smtp_timeout_seconds,
    )
    service = NotifyService(
        deliveries,
        sender,
        settings=queue_settings,
        limiter=limiter,
        tickets=tickets,
        publisher=EventPublisher(broker, timeout=settings.publish_timeout_seconds),
    )
    administration = NotifyAdministration(
        queue_settings, deliveries, tickets, on_change=service.forget_settings
    )
    handlers.register(
        broker, service, administration, publish_timeout=settings.publish_timeout_seconds
    )
    background = BackgroundTasks()

    async def housekeeping() -> None:
        """Rate-limit slots of past hours and old takeover marks go (no TTL indexes)."""
        before = datetime.now(UTC) - timedelta(hours=2)
        await limiter.forget_before(before)
        await deliveries.forget_takeovers(before)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await deliveries.ensure_indexes()
        await rpc_client.start()
        # Start first: each subscriber declares its queue on its own channel (prefetch);
        # then the rest of the topology, which producers need before the first publish.
        await broker.start()
        await declare_topology(broker)
        background.every(HOUSEKEEPING_SECONDS, "notify-housekeeping", housekeeping)
        try:
            yield
        finally:
            await background.stop()
            await broker.stop()
            await rpc_client.stop()
            await sender.aclose()
            await mongo.close()

    async def broker_ready() -> bool:
        return await broker.ping(timeout=2.0)

    app = FastAPI(title="Guichet notify", lifespan=lifespan)
    app.include_router(
        ops_router({"broker": broker_ready, "mongo": deliveries.ping, "smarthost": sender.ping})
    )
    return app
