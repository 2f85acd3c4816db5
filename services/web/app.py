"""Composition root of the web gateway: the REST API under /api/v1, the interface at /."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from services.web.api import problems
from services.web.api.deps import Authenticator
from services.web.api.routes import admin, me, search, tickets
from services.web.settings import WebSettings
from services.web.ui.app import build_ui
from services.web.ui.live import LiveHub
from services.web.ui.session import SessionCodec
from services.web.ui.web import Ui
from shared.messaging import RpcClient
from shared.observability import ops_router


def build_app(settings: WebSettings) -> FastAPI:
    client = RpcClient(settings.broker_url, timeout=settings.rpc_timeout_seconds, name="web")
    hub = LiveHub(settings.broker_url)
    ui = Ui(
        rpc=client,
        codec=SessionCodec(settings.web_secret_key, settings.session_hours * 3600),
        secure_cookies=settings.secure_cookies,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await client.start()
        await hub.start()
        app.state.rpc = client
        app.state.authenticator = Authenticator(client, settings.auth_cache_seconds)
        try:
            yield
        finally:
            await hub.stop()
            await client.stop()

    async def broker_ready() -> bool:
        return client.connected

    app = FastAPI(
        title="Guichet",
        version="0.1.0",
        description="Email-first ticket tracker: REST API (the web interface is at /).",
        lifespan=lifespan,
    )
    problems.install(app)
    api = APIRouter(prefix="/api/v1")
    api.include_router(tickets.router)
    api.include_router(search.router)
    api.include_router(me.router)
    api.include_router(admin.router)
    app.include_router(api)
    app.include_router(ops_router({"broker": broker_ready}))
    # Last: everything the API and the probes did not match is the interface's.
    app.mount("/", build_ui(ui, hub))
    return app
