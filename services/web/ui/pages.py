"""The pages of the agent's day: login, home, a ticket and its actions, a new ticket."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from starlette.datastructures import FormData, UploadFile

from services.web.files import file_response
from services.web.ui import display
from services.web.ui.session import LANGUAGES, new_session
from services.web.ui.web import (
    Page,
    checked_form,
    live_user,
    page,
    render,
    safe_target,
    see_other,
    set_session,
    ui_of,
    visitor_session,
)
from shared.errors import AuthenticationFailedError, InvalidInputError
from shared.rpc import search
from shared.rpc import tickets as rpc

log = logging.getLogger(__name__)
router = APIRouter()
Viewer = Annotated[Page, Depends(page)]
Form_ = Annotated[FormData, Depends(checked_form)]
TicketNumber = Path(ge=1, le=2**53)

HOME_WIDGETS = ("mine", "unowned", "reminders", "bookmarks", "saved_searches", "dashboard")
REQUESTOR_WIDGETS = ("requests",)
WIDGET_QUERIES = {
    "mine": "owner:me status:active",
    "unowned": "owner:nobody status:active",
    "requests": "requestor:me",
}
MAX_UPLOAD_BYTES = 25 * 1024 * 1024


# --- login, logout, language -------------------------------------------------------------
@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str = "/") -> Response:
    ui = ui_of(request)
    session = visitor_session(request)
    return render(request, ui, session, "login.html", target=safe_target(next), error="")


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, form: Form_) -> Response:
    ui = ui_of(request)
    session = visitor_session(request)
    email = str(form.get("email", "")).strip().lower()[:320]
    password = str(form.get("password", ""))[:1024]
    target = safe_target(str(form.get("next", "/")))
    client = request.client.host if request.client else "?"
    by_address, by_client = [f"email:{email}"], [f"client:{client}"]
    now = time.monotonic()
    wait = max(
        ui.throttle.retry_after(by_address, now), ui.client_throttle.retry_after(by_client, now)
    )
    if wait > 0:
        seconds = int(wait) + 1
        refused = render(
            request,
            ui,
            session,
            "login.html",
            429,
            target=target,
            error="login.throttled",
            seconds=seconds,
            email=email,
        )
        refused.headers["Retry-After"] = str(seconds)
        return refused
    try:
        user = rpc.UserPublic.model_validate(
            await ui.rpc.call(rpc.AUTHENTICATE, {"email": email, "password": password})
        )
    except (AuthenticationFailedError, InvalidInputError):
        ui.throttle.failed(by_address, now)
        ui.client_throttle.failed(by_client, now)
        return render(
            request,
            ui,
            session,
            "login.html",
            401,
            target=target,
            error="login.failed",
            email=email,
        )
    ui.throttle.succeeded(by_address)
    ui.forget_user(user.email)  # details kept from before a sign-out would refuse the session
    fresh = new_session(
        user.email, user.language or session.language, time.time(), epoch=user.session_epoch
    )
    response = see_other(target)
    set_session(response, ui, fresh, request)
    return response


@router.post("/logout")
async def logout(request: Request, _: Form_) -> Response:
    """End the session here and everywhere: every session of the user opened until now
    is refused from now on (a copied cookie too), not only this cookie forgotten."""
    ui = ui_of(request)
    session = visitor_session(request)
    if session.logged_in:
        try:
            await ui.rpc.call(rpc.USER_PREFERENCES, {"actor": session.email, "sign_out": True})
        except Exception:  # the cookie still goes: one can always log out here
            log.warning("could not end %s's other sessions", session.email, exc_info=True)
        ui.forget_user(session.email)
    response = see_other("/login")
    response.delete_cookie("guichet_session", path="/")
    return response


@router.post("/language")
async def language(request: Request, form: Form_) -> Response:
    """Switch the interface's language (and the user's, for their notifications too)."""
    ui = ui_of(request)
    session = visitor_session(request)
    chosen = str(form.get("language", "fr"))
    if chosen not in LANGUAGES:
        chosen = "fr"
    if session.logged_in and await live_user(ui, session) is not None:
        with contextlib.suppress(InvalidInputError):  # the cookie keeps it anyway
            await ui.rpc.call(rpc.USER_PREFERENCES, {"actor": session.email, "language": chosen})
        ui.forget_user(session.email)
    response = see_other(safe_target(str(form.get("next", "/"))))
    set_session(response, ui, session.with_language(chosen), request)
    response.set_cookie("guichet_lang", chosen, max_age=31_536_000, samesite="lax", httponly=True)
    return response


# --- home -------------------------------------------------------------------------------
async def _widgets(p: Page, names: tuple[str, ...]) -> dict[str, Any]:
    """The boxes' contents: the searches and counts in one call to the search service,
    the viewer's own lists from the tickets service, all at once."""
    searched = [n for n in names if n in WIDGET_QUERIES]
    counted = [n for n in names if n == "dashboard"]

    async def searches() -> dict[str, Any]:
        if not searched and not counted:
            return {}
        found = await p.call(
            search.SEARCH_MANY,
            {
                "principal": {"email": p.email},
                "tickets": [{"q": WIDGET_QUERIES[n], "limit": 15} for n in searched],
                "counts": [{"q": "status:active", "weeks": 4} for _ in counted],
            },
        )
        return dict(zip([*searched, *counted], [*found["tickets"], *found["counts"]], strict=True))

    async def load(name: str) -> Any:
        if name == "reminders":
            return await p.call(rpc.REMINDERS, {"actor": p.email, "action": "list"})
        if name == "bookmarks":
            return await p.call(rpc.BOOKMARKS, {"actor": p.email, "action": "list"})
        if name == "saved_searches":
            return await p.owned(rpc.SAVED_SEARCHES, "list")
        return None

    own = [n for n in names if n not in searched and n not in counted]
    found, *lists = await asyncio.gather(searches(), *(load(n) for n in own))
    return {**dict(zip(own, lists, strict=True)), **found}


def home_layout(p: Page) -> tuple[str, ...]:
    allowed = HOME_WIDGETS + REQUESTOR_WIDGETS if p.agent else REQUESTOR_WIDGETS
    chosen = tuple(w for w in p.user.home_layout if w in allowed)
    return chosen or (HOME_WIDGETS if p.agent else REQUESTOR_WIDGETS)


@router.get("/", response_class=HTMLResponse)
async def home(p: Viewer) -> Response:
    layout = home_layout(p)
    return p.render("home.html", layout=layout, widgets=await _widgets(p, layout))


@router.get("/home/widgets", response_class=HTMLResponse)
async def home_widgets(p: Viewer) -> Response:
    """The widgets alone, fetched again by the page when something changes (live)."""
    layout = home_layout(p)
    return p.render("home_widgets.html", layout=layout, widgets=await _widgets(p, layout))


@router.post("/home/layout")
async def save_layout(p: Viewer, form: Form_) -> Response:
    allowed = HOME_WIDGETS + REQUESTOR_WIDGETS
    chosen = [w for w in form.getlist("widget") if isinstance(w, str) and w in allowed]
    chosen.sort(key=lambda w: _position(form.get(f"position_{w}"), allowed.index(w)))
    await p.call(
        rpc.USER_PREFERENCES, {"actor": p.email, "home_layout": list(dict.fromkeys(chosen))}
    )
    p.ui.forget_user(p.email)
    return see_other("/")


def _position(value: object, default: int) -> int:
    text = str(value or "").strip()
    return int(text) if text.isdigit() else 100 + default


# --- a ticket ---------------------------------------------------------------------------
async def _ticket_context(p: Page, ticket_id: int, *, desk: bool = False) -> dict[str, Any]:
    """The ticket, its history rendered (only transactions not rendered yet are asked
    for and rendered), whether the viewer bookmarked it; with ``desk``, for an agent, the
    queues and canned responses the page's forms offer."""
    language = p.session.language
    known_ids, known_digest = p.ui.histories.get((ticket_id, p.email)) or ((), "")
    known = [p.ui.rendered.get((i, ticket_id, language)) for i in known_ids]
    if any(article is None for article in known):  # some forgotten: ask for everything
        known_ids, known_digest, known = (), "", []
    view = rpc.TicketViewAnswer.model_validate(
        await p.call(
            rpc.TICKET_VIEW,
            {
                "actor": p.email,
                "id": ticket_id,
                "known": len(known_ids),
                "known_digest": known_digest,
                "desk": desk,
            },
        )
    )
    fresh = [_rendered(txn, ticket_id, p) for txn in view.history]
    ids = (*known_ids[: view.history_from], *(str(txn["id"]) for txn in view.history))
    p.ui.histories.put((ticket_id, p.email), (ids, view.history_digest))
    return {
        "ticket": view.ticket,
        "history": [*known[: view.history_from], *fresh],
        "bookmarked": view.bookmarked,
        "queues": view.queues,
        "responses": view.responses,
    }


def _rendered(txn: dict[str, Any], ticket_id: int, p: Page) -> Markup:
    """A transaction as the history shows it: its text in folds, its HTML made inert,
    rendered once per language and kept (a recorded transaction never changes)."""
    key = (str(txn["id"]), ticket_id, p.session.language)
    article = p.ui.rendered.get(key)
    if article is None:
        message = txn.get("message") or {}
        text = message.get("text") or txn.get("text") or ""
        html = message.get("html")
        segments = display.text_segments(text, message.get("folds") or ())
        shown = {
            **txn,
            "segments": segments,
            "has_text": any(segment.text.strip() for segment in segments),
            "safe_html": display.safe_html(
                html,
                p.t("ticket.image_blocked"),
                display.inline_images(message.get("attachments") or (), ticket_id),
            )
            if html
            else "",
            "line": display.history_line(txn, p.t),
            "attachments": message.get("attachments") or (),
            "private": txn["type"] == "comment",
        }
        article = Markup(  # noqa: S704 - the template escapes; safe_html is sanitised
            p.ui.env.get_template("transaction.html").render(txn=shown, ticket_id=ticket_id, t=p.t)
        )
        p.ui.rendered.put(key, article)
    return article


@router.get("/t/{ticket_id}", response_class=HTMLResponse)
async def ticket_page(p: Viewer, ticket_id: int = TicketNumber) -> Response:
    context = await _ticket_context(p, ticket_id, desk=p.agent)
    queue = next((q for q in context["queues"] if q["name"] == context["ticket"]["queue"]), None)
    return p.render(
        "ticket.html",
        custom_fields=queue["custom_fields"] if queue else [],
        compose_id=uuid.uuid4().hex,
        **context,
    )


@router.get("/t/{ticket_id}/history", response_class=HTMLResponse)
async def ticket_history(p: Viewer, ticket_id: int = TicketNumber) -> Response:
    """The history alone, fetched again by the page when the ticket changes (live)."""
    return p.render("ticket_history.html", **await _ticket_context(p, ticket_id))


async def _uploads(form: FormData) -> list[dict[str, str]]:
    files, total = [], 0
    for item in form.getlist("files"):
        if not isinstance(item, UploadFile) or not item.filename:
            continue
        content = await item.read(MAX_UPLOAD_BYTES + 1)
        total += len(content)
        if total > MAX_UPLOAD_BYTES:
            raise InvalidInputError("attachments larger than 25 MB in all")
        files.append(
            {
                "filename": item.filename,
                "content_type": item.content_type or "application/octet-stream",
                "content_b64": base64.b64encode(content).decode(),
            }
        )
    return files


def _addresses(value: str) -> list[str]:
    return [a.strip() for a in value.replace(";", ",").split(",") if a.strip()]


STATUS_ACTIONS = {
    "resolve": "resolved",
    "reject": "rejected",
    "stall": "stalled",
    "open": "open",
    "delete": "deleted",
}


@router.post("/t/{ticket_id}/act")
async def act(p: Viewer, form: Form_, ticket_id: int = TicketNumber) -> Response:
    """Every action of the ticket page, one form each; each posted form acts once (its
    hidden command id makes a double submission a no-op)."""
    action = str(form.get("action", ""))
    command_id = str(form.get("command_id") or f"web-{uuid.uuid4()}")[:100]
    base = {"actor": p.email, "ticket": ticket_id}
    commands: list[dict[str, Any]] = []
    if action in ("reply", "comment", "forward"):
        text = str(form.get("text", ""))
        command: dict[str, Any] = {**base, "action": action, "text": text}
        if files := await _uploads(form):
            command["attachments"] = files
        if action == "forward":
            command["to"] = _addresses(str(form.get("to", "")))
        commands.append(command)
        if action == "reply":
            for address in _addresses(str(form.get("also_cc", ""))):
                commands.append({**base, "action": "add_watcher", "role": "Cc", "email": address})
    elif action in STATUS_ACTIONS:
        commands.append({**base, "action": "set_status", "status": STATUS_ACTIONS[action]})
    elif action in ("take", "steal", "untake"):
        commands.append({**base, "action": action})
    elif action == "assign":
        commands.append({**base, "action": "assign", "owner": str(form.get("owner", ""))})
    elif action in ("add_watcher", "remove_watcher"):
        commands.append(
            {
                **base,
                "action": action,
                "role": str(form.get("role", "Cc")),
                "email": str(form.get("email", "")).strip(),
            }
        )
    elif action == "set_fields":
        commands.extend(_field_changes(base, form))
    elif action in ("link", "unlink"):
        target = str(form.get("target", "")).lstrip("#")
        if not target.isdigit():
            raise InvalidInputError("a link needs a ticket number")
        commands.append(
            {**base, "action": action, "link": str(form.get("link", "")), "target": int(target)}
        )
    elif action in ("bookmark", "unbookmark"):
        await p.call(
            rpc.BOOKMARKS,
            {
                "actor": p.email,
                "action": "add" if action == "bookmark" else "remove",
                "ticket": ticket_id,
            },
        )
    elif action == "reminder":
        await p.call(
            rpc.REMINDERS,
            {
                "actor": p.email,
                "action": "add",
                "ticket": ticket_id,
                "subject": str(form.get("subject", ""))[:200],
                "due": str(form.get("due", "")),
            },
        )
    else:
        raise InvalidInputError(f"unknown action {action[:40]!r}")
    for n, command in enumerate(commands):
        await p.call(rpc.TICKET_COMMAND, {**command, "command_id": f"{command_id}.{n}"})
    return see_other(f"/t/{ticket_id}#history")


def _field_changes(base: dict[str, Any], form: FormData) -> list[dict[str, Any]]:
    """The commands of the ticket's edit form: one for each field whose value changed
    (the form sends each field's value as shown, ``was_<field>``, beside the new one)."""
    changed = [
        name
        for name in ("subject", "priority", "due", "queue")
        if name in form and str(form.get(name, "")).strip() != str(form.get(f"was_{name}", ""))
    ]
    commands: list[dict[str, Any]] = []
    for name in changed:
        value = str(form.get(name, "")).strip()
        if name == "priority":
            if not value.lstrip("-").isdigit():
                raise InvalidInputError("the priority is a number")
            commands.append({**base, "action": "set_priority", "priority": int(value)})
        elif name == "queue":
            commands.append({**base, "action": "move", "queue": value})
        else:
            commands.append({**base, "action": f"set_{name}", name: value})
    for key in form:
        if key.startswith("cf:"):
            value = str(form.get(key, "")).strip()
            if value != str(form.get(f"was_{key}", "")):
                commands.append(
                    {**base, "action": "set_custom_field", "field": key[3:], "value": value}
                )
    return commands


@router.get("/t/{ticket_id}/files/{sha256}")
async def attachment(
    p: Viewer, ticket_id: int = TicketNumber, sha256: str = Path(pattern=r"^[0-9a-f]{64}$")
) -> Response:
    download = p.request.query_params.get("download") is not None
    return await file_response(p.ui.rpc, p.email, ticket_id, sha256, download=download)


# --- a new ticket -----------------------------------------------------------------------
@router.get("/new", response_class=HTMLResponse)
async def new_form(p: Viewer) -> Response:
    queues = await p.call(rpc.LIST_QUEUES, {"actor": p.email})
    return p.render("new.html", queues=queues, compose_id=uuid.uuid4().hex)


@router.post("/new")
async def create(p: Viewer, form: Form_) -> Response:
    payload: dict[str, Any] = {
        "command_id": str(form.get("command_id") or f"web-{uuid.uuid4()}")[:100],
        "actor": p.email,
        "queue": str(form.get("queue", "")),
        "subject": str(form.get("subject", "")).strip(),
        "text": str(form.get("text", "")),
        "requestors": _addresses(str(form.get("requestors", ""))) or [p.email],
    }
    if files := await _uploads(form):
        payload["attachments"] = files
    result = await p.call(rpc.CREATE_TICKET, payload)
    return see_other(f"/t/{result['ticket']['id']}")
