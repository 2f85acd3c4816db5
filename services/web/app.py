"""Composition root of the web gateway (REST API for now; the UI comes next)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse

from services.web.api import problems
from services.web.api.deps import Authenticator
from services.web.api.routes import admin, me, search, tickets
from services.web.settings import WebSettings
from shared.messaging import RpcClient
from shared.observability import ops_router


def build_app(settings: WebSettings) -> FastAPI:
    client = RpcClient(settings.broker_url, timeout=settings.rpc_timeout_seconds, name="web")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await client.start()
        app.state.rpc = client
        app.state.authenticator = Authenticator(client, settings.auth_cache_seconds)
        try:
            yield
        finally:
            await client.stop()

    async def broker_ready() -> bool:
        return client.connected

    app = FastAPI(
        title="Guichet",
        version="0.1.0",
        description="Email-first ticket tracker: REST API.",
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

    @app.get("/", include_in_schema=False, response_class=HTMLResponse)
    async def home() -> str:
        return (
            "<!doctype html><html lang=fr><meta charset=utf-8><title>Guichet</title>"
            "<h1>Guichet</h1><p>API : <a href=/docs>/docs</a> · "
            "<a href=/openapi.json>/openapi.json</a></p></html>"
        )

    return app
