"""Composition root of the notify service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from faststream.specification import AsyncAPI
from pymongo import AsyncMongoClient

from services.notify import handlers
from services.notify.adapters.mongo_deliveries import MongoDeliveryLog
from services.notify.adapters.smtp_sender import SmtpSender
from services.notify.service import NotifyService
from services.notify.settings import NotifySettings
from shared.messaging import build_broker, declare_topology
from shared.observability import ops_router


def asyncapi(settings: NotifySettings) -> AsyncAPI:
    broker = build_broker(settings)
    handlers.register(broker, None, publish_timeout=settings.publish_timeout_seconds)
    return AsyncAPI(broker, title="Guichet notify", version="0.1.0")


def build_app(settings: NotifySettings) -> FastAPI:
    broker = build_broker(settings)
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        settings.mongo_url, tz_aware=True, serverSelectionTimeoutMS=5000
    )
    deliveries = MongoDeliveryLog(mongo, settings.database_name("notify"))
    sender = SmtpSender(
        settings.smtp_host,
        settings.smtp_port,
        starttls=settings.smtp_starttls,
        username=settings.smtp_username,
        password=settings.smtp_password,
        timeout=settings.smtp_timeout_seconds,
    )
    handlers.register(
        broker, NotifyService(deliveries, sender), publish_timeout=settings.publish_timeout_seconds
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await deliveries.ensure_indexes()
        # Start first: each subscriber declares its queue on its own channel (prefetch);
        # then the rest of the topology, which producers need before the first publish.
        await broker.start()
        await declare_topology(broker)
        try:
            yield
        finally:
            await broker.stop()
            await mongo.close()

    async def broker_ready() -> bool:
        return await broker.ping(timeout=2.0)

    app = FastAPI(title="Guichet notify", lifespan=lifespan)
    app.include_router(
        ops_router({"broker": broker_ready, "mongo": deliveries.ping, "smarthost": sender.ping})
    )
    return app
