"""What every page needs: the session, the viewer, CSRF-checked forms, rendering, errors.

The interface is a sub-application mounted under the REST API's app, with its own error
pages (the API answers problem+json) and its own security headers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.datastructures import FormData

from services.web.files import IMAGE_TYPES, media_type
from services.web.owned import owned
from services.web.ui.i18n import translator
from services.web.ui.session import (
    COOKIE_NAME,
    Session,
    SessionCodec,
    anonymous,
    csrf_matches,
)
from services.web.ui.throttle import LoginThrottle
from shared.lru import Lru
from shared.messaging import RpcClient
from shared.rpc import tickets as tickets_rpc

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STATIC = Path(__file__).resolve().parent.parent / "static"

# Scripts, styles, images and connections from our origin only; no plugin, no frame of
# ours elsewhere. Files are previewed in a sandboxed frame of our origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
USER_CACHE_SECONDS = 5.0
# Transactions rendered as histories show them: about 64 MB of text at most (a few KB
# each usually; an HTML newsletter may be hundreds).
RENDERED_CACHE_CHARACTERS = 32_000_000
HISTORIES_CACHE_SIZE = 5_000  # (ticket, viewer): the transaction ids last sent


class LoginRequired(Exception):
    def __init__(self, target: str) -> None:
        self.target = target


class CsrfRefused(Exception):
    pass


@dataclass
class Ui:
    """The interface's shared parts, built once per app."""

    rpc: RpcClient
    codec: SessionCodec
    secure_cookies: bool
    # Failed logins per address tried, and (much looser: many people may share one
    # address behind a proxy) per client address.
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    client_throttle: LoginThrottle = field(default_factory=lambda: LoginThrottle(allowed=50))
    env: Environment = field(init=False)
    _users: dict[str, tuple[float, tickets_rpc.UserDetails]] = field(default_factory=dict)
    # A recorded transaction never changes: rendered once per (id, ticket shown under,
    # language), and what each viewer was last sent of a history, to ask only for the rest
    # (see pages._ticket_context).
    rendered: Lru[tuple[str, int, str], Markup] = field(
        default_factory=lambda: Lru(RENDERED_CACHE_CHARACTERS, weigh=len)
    )
    histories: Lru[tuple[int, str], tuple[tuple[str, ...], str]] = field(
        default_factory=lambda: Lru(HISTORIES_CACHE_SIZE)
    )

    def __post_init__(self) -> None:
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
        )
        self.env.filters["media_type"] = media_type
        self.env.globals["image_types"] = IMAGE_TYPES

    async def user(self, email: str, *, fresh: bool = False) -> tickets_rpc.UserDetails:
        """The viewer's details (rights flags, language, signature), kept a few seconds."""
        hit = self._users.get(email)
        if hit and hit[0] > time.monotonic() and not fresh:
            return hit[1]
        details = tickets_rpc.UserDetails.model_validate(
            await self.rpc.call(tickets_rpc.GET_USER, {"actor": email, "email": email})
        )
        if len(self._users) > 10_000:
            self._users.clear()
        self._users[email] = (time.monotonic() + USER_CACHE_SECONDS, details)
        return details

    def forget_user(self, email: str) -> None:
        self._users.pop(email, None)


@dataclass
class Page:
    """One request of a logged-in viewer."""

    request: Request
    ui: Ui
    session: Session
    user: tickets_rpc.UserDetails

    @property
    def email(self) -> str:
        return self.user.email

    @property
    def agent(self) -> bool:
        return self.user.privileged or self.user.is_admin

    def t(self, key: str, **values: object) -> str:
        return translator(self.session.language)(key, **values)

    async def call(self, name: str, payload: dict[str, Any]) -> Any:
        return await self.ui.rpc.call(name, payload)

    async def owned(
        self, name: str, action: str, item_id: str | None = None, body: Any = None
    ) -> Any:
        """One's saved searches, dashboards or canned responses (``list``, ``get``…)."""
        return await owned(self.ui.rpc, name, self.email, action, item_id, body)

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        return render(
            self.request, self.ui, self.session, template, status, user=self.user, **context
        )


def ui_of(request: Request) -> Ui:
    found: Ui = request.app.state.ui
    return found


def session_of(request: Request) -> Session | None:
    return ui_of(request).codec.decode(request.cookies.get(COOKIE_NAME), time.time())


async def page(request: Request) -> Page:
    """The logged-in viewer, or a redirection to the login page (and back here after)."""
    ui = ui_of(request)
    session = session_of(request)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    user = await live_user(ui, session) if session is not None and session.logged_in else None
    if session is None or user is None:
        raise LoginRequired(target)
    return Page(request, ui, session, user)


async def live_user(ui: Ui, session: Session) -> tickets_rpc.UserDetails | None:
    """The session's user, unless the session ended since it was opened: a logout (here or
    on another device) or a new password moved the user's session epoch on."""
    user = await ui.user(session.email)
    if user.session_epoch < session.epoch:  # kept from before a sign-out elsewhere
        user = await ui.user(session.email, fresh=True)
    return user if user.session_epoch == session.epoch else None


async def checked_form(request: Request) -> FormData:
    """The posted form, if it carries the session's CSRF token and, when the browser says
    where it comes from, comes from us."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if origin and origin != "null":
        host = urlsplit(origin).netloc
        if host and host != request.headers.get("host"):
            raise CsrfRefused()
    form = await request.form()
    session = session_of(request)
    submitted = form.get("csrf")
    if session is None or not csrf_matches(
        session, submitted if isinstance(submitted, str) else None
    ):
        raise CsrfRefused()
    return form


def render(
    request: Request,
    ui: Ui,
    session: Session,
    template: str,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    html = ui.env.get_template(template).render(
        t=translator(session.language),
        lang=session.language,
        csrf=session.csrf,
        path=request.url.path,
        query=request.query_params.get("q", ""),
        **context,
    )
    response = HTMLResponse(html, status_code=status)
    set_session(response, ui, session, request)
    return response


def set_session(response: Response, ui: Ui, session: Session, request: Request) -> None:
    """(Re)send the session cookie when it is new or changed."""
    value = ui.codec.encode(session)
    if request.cookies.get(COOKIE_NAME) != value:
        response.set_cookie(
            COOKIE_NAME,
            value,
            max_age=int(ui.codec.max_age),
            httponly=True,
            samesite="lax",
            secure=ui.secure_cookies,
            path="/",
        )


def visitor_session(request: Request) -> Session:
    """The current session, or a fresh anonymous one (for the login form's token)."""
    found = session_of(request)
    if found is not None:
        return found
    language = request.cookies.get("guichet_lang", "")
    if not language:
        accept = request.headers.get("accept-language", "")
        language = "en" if accept.lower().startswith("en") else "fr"
    return anonymous(language)


def safe_target(target: str | None) -> str:
    """Where to go after login: a path of ours only (never another site)."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(c <= " " for c in target)
    ):
        return "/"
    return target


def login_redirect(target: str) -> RedirectResponse:
    return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)
