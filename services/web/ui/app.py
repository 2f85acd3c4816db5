"""The interface as a sub-application: its routes, static files, error pages, headers."""

from __future__ import annotations

import logging
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.web.ui import admin, finding, pages
from services.web.ui.live import LiveHub, Subscriber
from services.web.ui.web import (
    SECURITY_HEADERS,
    STATIC,
    CsrfRefused,
    LoginRequired,
    Page,
    Ui,
    live_user,
    login_redirect,
    page,
    render,
    visitor_session,
)
from shared.errors import (
    AuthenticationFailedError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    ServiceUnavailableError,
    UserError,
)
from shared.rpc import tickets as tickets_rpc

log = logging.getLogger(__name__)


class PageHeaders:
    """Adds the security headers to every answer of the interface (a file download keeps
    the stricter policy it sets itself), and the server's time to answer
    (``Server-Timing: app;dur=<ms>``, read by the benchmark)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [
                    (name.lower().encode(), value.encode())
                    for name, value in SECURITY_HEADERS.items()
                    if name.lower().encode() not in present
                ]
                elapsed = (time.perf_counter() - started) * 1000
                extra.append((b"server-timing", f"app;dur={elapsed:.1f}".encode()))
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)


def build_ui(ui: Ui, hub: LiveHub) -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.state.ui = ui
    app.state.hub = hub
    app.add_middleware(PageHeaders)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(pages.router)
    app.include_router(finding.router)
    app.include_router(admin.router)

    @app.get("/events")
    async def events(request: Request, ticket: int | None = None) -> StreamingResponse:
        viewer: Page = await page(request)
        if ticket is not None:  # only a ticket one may see (else a 404, as its page)
            await viewer.call(tickets_rpc.GET_TICKET, {"actor": viewer.email, "id": ticket})
        subscriber = Subscriber(viewer.email, viewer.agent, ticket)

        async def still_open() -> bool:
            return await live_user(ui, viewer.session) is not None

        return StreamingResponse(
            hub.stream(subscriber, still_open),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    def error_page(request: Request, status: int, key: str, **values: Any) -> HTMLResponse:
        return render(
            request, ui, visitor_session(request), "error.html", status, key=key, values=values
        )

    @app.exception_handler(LoginRequired)
    async def login_required(_: Request, exc: LoginRequired) -> Any:
        return login_redirect(exc.target)

    @app.exception_handler(CsrfRefused)
    async def csrf(request: Request, _: CsrfRefused) -> HTMLResponse:
        return error_page(request, 403, "error.csrf")

    @app.exception_handler(UserError)
    async def user_error(request: Request, exc: UserError) -> Any:
        if isinstance(exc, AuthenticationFailedError):
            return login_redirect(request.url.path)
        if isinstance(exc, NotFoundError) or exc.extra.get("right") == "ShowTicket":
            return error_page(request, 404, "error.not_found")
        if isinstance(exc, PermissionDeniedError):
            return error_page(request, 403, "error.forbidden")
        status = 422 if isinstance(exc, InvalidInputError) else exc.status
        return error_page(request, status, "error.invalid", detail=exc.detail)

    @app.exception_handler(RequestValidationError)  # a bad path or query parameter
    @app.exception_handler(ValidationError)
    async def invalid(
        request: Request, exc: ValidationError | RequestValidationError
    ) -> HTMLResponse:
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return error_page(request, 422, "error.invalid", detail=detail[:500])

    @app.exception_handler(ServiceUnavailableError)
    async def unavailable(request: Request, _: ServiceUnavailableError) -> HTMLResponse:
        return error_page(request, 503, "error.unavailable")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> HTMLResponse:
        key = "error.not_found" if exc.status_code == 404 else "error.invalid"
        return error_page(request, exc.status_code, key, detail=str(exc.detail))

    return app
