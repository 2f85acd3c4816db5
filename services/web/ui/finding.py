"""Finding tickets: the search page (quick search, sortable results, bulk update, saving a
search), the quote archive, dashboards with their charts, reminders."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, get_args
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query
from fastapi import Path as FastPath
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from services.web.ui import advanced, charts
from services.web.ui.web import Page, checked_form, page, see_other
from shared.errors import InvalidInputError
from shared.rpc import search
from shared.rpc import tickets as rpc

router = APIRouter()
Viewer = Annotated[Page, Depends(page)]
Form_ = Annotated[FormData, Depends(checked_form)]
SORTABLE = set(get_args(search.SortField))
PAGE_SIZE = 50
BULK_STATUSES = ("new", "open", "stalled", "resolved", "rejected")


@router.get("/search", response_class=HTMLResponse)
async def search_page(
    p: Viewer,
    q: str = Query("", max_length=1000),
    sort: str = Query("", max_length=20),
    order: str = Query("desc", pattern="^(asc|desc)$"),
    offset: int = Query(0, ge=0, le=10_000),
) -> Response:
    result: dict[str, Any] | None = None
    if q.strip():
        keys = [{"field": sort, "order": order}] if sort in SORTABLE else []
        result = await p.call(
            search.SEARCH_TICKETS,
            {
                "principal": {"email": p.email},
                "q": q,
                "limit": PAGE_SIZE,
                "offset": offset,
                "sort": keys,
            },
        )
        if result.get("ticket") and result["total"] == 1 and not offset:
            return see_other(f"/t/{result['ticket']}")
    queues = await p.call(rpc.LIST_QUEUES, {"actor": p.email}) if p.agent else []
    return p.render(
        "search.html",
        q=q,
        sort=sort,
        order=order,
        offset=offset,
        page_size=PAGE_SIZE,
        result=result,
        queues=queues,
        statuses=BULK_STATUSES,
    )


@router.get("/search/advanced", response_class=HTMLResponse)
async def advanced_search(
    p: Viewer,
    sort: str = Query("", max_length=20),
    order: str = Query("desc", pattern="^(asc|desc)$"),
) -> Response:
    """The search builder: rows of field, operator and value, all or any of them."""
    rows, combine = advanced.rows_of_form(p.request.query_params)
    condition = advanced.condition_of(rows, combine)
    result = None
    if condition is not None:
        result = await p.call(
            search.SEARCH_ADVANCED,
            {
                "principal": {"email": p.email},
                "query": condition,
                "limit": 100,
                "sort": [{"field": sort, "order": order}] if sort in SORTABLE else [],
            },
        )
    queues = await p.call(rpc.LIST_QUEUES, {"actor": p.email}) if p.agent else []
    shown = rows + [advanced.Row("", "", "")] * (advanced.MAX_ROWS - len(rows))
    return p.render(
        "advanced.html",
        rows=shown[: max(len(rows) + 2, 4)],
        combine=combine,
        sort=sort,
        order=order,
        result=result,
        queues=queues,
        operators=advanced.OPERATORS,
        kinds={
            f: advanced.field_kind(f)
            for f in [*advanced.TEXT_FIELDS, *advanced.EXACT_FIELDS, *advanced.DATE_FIELDS]
        }
        | {"priority": "number", "has": "has"},
        statuses=BULK_STATUSES,
        asked=str(p.request.query_params),
    )


@router.get("/search/saved/{item_id}", response_class=HTMLResponse)
async def saved_search(p: Viewer, item_id: str = FastPath(pattern=r"^[0-9a-f]{32}$")) -> Response:
    """A saved search, run: a quick one goes to the search page, an advanced one is shown."""
    item = await p.owned(rpc.SAVED_SEARCHES, "get", item_id)
    body = item["body"]
    if body.get("q"):
        return see_other(f"/search?q={_quoted(body['q'])}")
    result = await p.call(
        search.SEARCH_ADVANCED,
        {"principal": {"email": p.email}, "query": body.get("condition"), "limit": 100},
    )
    return p.render("saved.html", name=body.get("name", ""), result=result)


@router.post("/search/bulk")
async def bulk_update(p: Viewer, form: Form_) -> Response:
    """The same change on every selected ticket: status, owner, queue (each one checked by
    the tickets service like any other command)."""
    ids = [int(v) for v in form.getlist("ticket") if isinstance(v, str) and v.isdigit()][:200]
    status, owner, queue = (str(form.get(k, "")).strip() for k in ("status", "owner", "queue"))
    batch = str(form.get("command_id") or uuid.uuid4().hex)[:60]
    changes: list[dict[str, Any]] = []
    if status:
        changes.append({"action": "set_status", "status": status})
    if owner:
        changes.append({"action": "assign", "owner": owner})
    if queue:
        changes.append({"action": "move", "queue": queue})
    for ticket_id in ids:
        for n, change in enumerate(changes):
            await p.call(
                rpc.TICKET_COMMAND,
                {
                    "command_id": f"web-bulk-{batch}.{ticket_id}.{n}",
                    "actor": p.email,
                    "ticket": ticket_id,
                    **change,
                },
            )
    return see_other(f"/search?q={_quoted(str(form.get('q', '')))}")


def _quoted(text: str) -> str:
    return quote(text[:1000], safe="")


@router.post("/search/save")
async def save_search(p: Viewer, form: Form_) -> Response:
    """Keep a quick search (its text) or an advanced one (its condition) under a name."""
    name = str(form.get("name", "")).strip()[:100]
    q = str(form.get("q", "")).strip()[:1000]
    rows, combine = advanced.rows_of_form(form)
    condition = advanced.condition_of(rows, combine)
    if not name or not (q or condition):
        raise InvalidInputError("a saved search needs a name and a query")
    body: dict[str, Any] = {"name": name}
    if condition is not None:
        body["condition"] = condition
    else:
        body["q"] = q
    await p.owned(rpc.SAVED_SEARCHES, "put", body=body)
    return see_other(f"/search?q={_quoted(q)}" if q else "/")


@router.get("/archive", response_class=HTMLResponse)
async def archive(
    p: Viewer,
    text: str = Query("", max_length=500),
    sender: str = Query("", max_length=320),
    file_type: str = Query("", max_length=100),
    sent_after: str = Query("", max_length=40),
) -> Response:
    """The quote archive: every file of every ticket one may see, searched inside."""
    asked = {"text": text, "sender": sender, "file_type": file_type, "sent_after": sent_after}
    result = await p.call(
        search.SEARCH_ATTACHMENTS,
        {"principal": {"email": p.email}, "limit": 50, **{k: v for k, v in asked.items() if v}},
    )
    return p.render("archive.html", asked=asked, result=result)


def _charts(p: Page, found: search.Aggregation) -> dict[str, Any]:
    """The charts of one aggregation, as SVG, in the viewer's language."""
    status_bars = [
        charts.Bar(p.t(f"status.{b.key}") if b.key else "—", b.count) for b in found.by_status
    ]
    created = {b.key: b.count for b in found.created_per_week}
    resolved = {b.key: b.count for b in found.resolved_per_week}
    weeks = sorted(created.keys() | resolved.keys())
    return {
        "total": found.total,
        "by_status": charts.bar_chart(status_bars, p.t("dash.by_status")),
        "by_queue": charts.bar_chart(
            [charts.Bar(b.key, b.count) for b in found.by_queue], p.t("col.queue")
        ),
        "created_resolved": charts.weekly_chart(
            weeks,
            [
                (p.t("dash.created"), [created.get(w, 0) for w in weeks]),
                (p.t("dash.resolved"), [resolved.get(w, 0) for w in weeks]),
            ],
            p.t("dash.created_resolved"),
        ),
        "resolution": [
            (name, charts.duration(value, p.session.language))
            for name, value in found.resolution_seconds.items()
        ],
    }


async def _aggregate(p: Page, q: str = "", condition: Any = None) -> dict[str, Any]:
    payload: dict[str, Any] = {"principal": {"email": p.email}, "weeks": 12}
    if condition is not None:
        payload["query"] = condition
    elif q.strip():
        payload["q"] = q
    found = search.Aggregation.model_validate(await p.call(search.SEARCH_AGGREGATE, payload))
    return _charts(p, found)


@router.get("/dashboards", response_class=HTMLResponse)
async def dashboards(p: Viewer, q: str = Query("", max_length=1000)) -> Response:
    """Charts over every ticket one may see (or a search), the saved dashboards, and the
    form that makes a new one from saved searches."""
    saved = await p.owned(rpc.SAVED_SEARCHES, "list")
    boards = await p.owned(rpc.DASHBOARDS, "list")
    return p.render(
        "dashboards.html",
        q=q,
        charts=await _aggregate(p, q),
        saved=saved,
        boards=boards,
        widget_kinds=get_args(rpc.WidgetKind),
    )


@router.post("/dashboards")
async def create_dashboard(p: Viewer, form: Form_) -> Response:
    widgets = []
    for i in range(6):
        kind, saved = str(form.get(f"kind_{i}", "")), str(form.get(f"search_{i}", ""))
        if kind and saved:
            widgets.append({"kind": kind, "saved_search": saved})
    body = {
        "name": str(form.get("name", "")).strip()[:100],
        "widgets": widgets,
        "shared_with_groups": form.get("shared") == "on",
    }
    item = await p.owned(rpc.DASHBOARDS, "put", body=body)
    return see_other(f"/dashboards/{item['id']}")


@router.get("/dashboards/{item_id}", response_class=HTMLResponse)
async def dashboard(p: Viewer, item_id: str = FastPath(pattern=r"^[0-9a-f]{32}$")) -> Response:
    """A saved dashboard: each box a saved search's tickets, its count, or one of its charts."""
    board = await p.owned(rpc.DASHBOARDS, "get", item_id)
    boxes = []
    for widget in board["body"].get("widgets", []):
        found = await p.owned(rpc.SAVED_SEARCHES, "get", widget["saved_search"])
        body = found["body"]
        box: dict[str, Any] = {"kind": widget["kind"], "title": widget.get("title") or body["name"]}
        if widget["kind"] == "search":
            if body.get("q"):
                box["result"] = await p.call(
                    search.SEARCH_TICKETS, {"principal": {"email": p.email}, "q": body["q"]}
                )
            else:
                box["result"] = await p.call(
                    search.SEARCH_ADVANCED,
                    {"principal": {"email": p.email}, "query": body.get("condition")},
                )
        else:
            box["charts"] = await _aggregate(p, body.get("q") or "", body.get("condition"))
        boxes.append(box)
    return p.render("dashboard.html", board=board, boxes=boxes)


@router.get("/reminders", response_class=HTMLResponse)
async def reminders(p: Viewer) -> Response:
    items = await p.call(rpc.REMINDERS, {"actor": p.email, "action": "list"})
    return p.render("reminders.html", items=items)


@router.post("/reminders/{reminder}/done")
async def reminder_done(p: Viewer, _: Form_, reminder: str) -> Response:
    await p.call(rpc.REMINDERS, {"actor": p.email, "action": "done", "reminder": reminder[:64]})
    return see_other("/reminders")
