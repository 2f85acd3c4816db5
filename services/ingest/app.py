"""Composition root of the ingest service."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from faststream.rabbit import RabbitBroker
from faststream.specification import AsyncAPI

from services.ingest.adapters.raw_store import FileRawStore
from services.ingest.adapters.routes import RouteCache
from services.ingest.listeners import (
    ListenerOptions,
    listen,
    lmtp_protocol,
    server_tls_context,
    smtp_protocol,
)
from services.ingest.settings import IngestSettings
from services.ingest.smtp_handler import IngestHandler
from shared.events.envelope import Envelope
from shared.events.mail import MailReceived
from shared.messaging import EventPublisher, RpcClient, build_broker, declare_topology
from shared.observability import ops_router
from shared.runtime import BackgroundTasks
from shared.topology import EVENTS_EXCHANGE

log = logging.getLogger(__name__)


def build_ingest_broker(settings: IngestSettings) -> RabbitBroker:
    broker = build_broker(settings)
    broker.publisher(
        exchange=EVENTS_EXCHANGE,
        routing_key=MailReceived.event_type,
        persist=True,
        title="mail.received",
        description="A mail accepted by SMTP, durable in the spool; one per queue address.",
        schema=Envelope[MailReceived],
    )
    return broker


def asyncapi(settings: IngestSettings) -> AsyncAPI:
    return AsyncAPI(build_ingest_broker(settings), title="Guichet ingest", version="0.1.0")


def build_app(settings: IngestSettings) -> FastAPI:
    broker = build_ingest_broker(settings)
    store = FileRawStore(settings.spool_dir)
    rpc = RpcClient(settings.broker_url, timeout=settings.rpc_timeout_seconds, name="ingest")
    routes = RouteCache(rpc, settings.spool_dir / "routes.json")
    publisher = EventPublisher(broker, timeout=settings.publish_timeout_seconds)
    handler = IngestHandler(
        store=store,
        routes=routes,
        publisher=publisher,
        max_recipients=settings.max_recipients,
        allowed_peers=settings.allowed_peers,
        require_tls=settings.require_tls,
    )
    options = ListenerOptions(
        hostname=settings.smtp_hostname,
        max_message_bytes=settings.max_message_bytes,
        tls=(
            server_tls_context(settings.tls_cert, settings.tls_key)
            if settings.tls_cert is not None and settings.tls_key is not None
            else None
        ),
    )
    tasks = BackgroundTasks()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await broker.start()
        await declare_topology(broker)
        await rpc.start()
        try:
            await routes.refresh()
        except Exception as exc:  # tickets may be down: the snapshot (if any) serves meanwhile
            log.warning("mail routes not refreshed at start: %r", exc)
        tasks.every(settings.routes_refresh_seconds, "refresh-routes", routes.refresh)
        servers = [
            await listen(
                lambda: smtp_protocol(handler, options),
                host=settings.smtp_host,
                port=settings.smtp_port,
            )
        ]
        log.info("SMTP listening on %s:%d", settings.smtp_host, settings.smtp_port)
        if settings.lmtp_port is not None:
            servers.append(
                await listen(
                    lambda: lmtp_protocol(handler, options),
                    host=settings.lmtp_host,
                    port=settings.lmtp_port,
                )
            )
            log.info("LMTP listening on %s:%d", settings.lmtp_host, settings.lmtp_port)
        try:
            yield
        finally:
            for server in servers:
                server.close()
            for server in servers:
                await server.wait_closed()
            await tasks.stop()
            await rpc.stop()
            await broker.stop()

    async def broker_ready() -> bool:
        return await broker.ping(timeout=2.0)

    async def routes_known() -> bool:
        return routes.current is not None

    async def spool_writable() -> bool:
        return store.writable()

    app = FastAPI(title="Guichet ingest", lifespan=lifespan)
    app.include_router(
        ops_router({"broker": broker_ready, "routes": routes_known, "spool": spool_writable})
    )
    return app
