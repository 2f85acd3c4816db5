"""Search over the REST API: quick and advanced search, the archive of attachments and the
counts of dashboards — each a call to the search service, which applies the asker's
rights inside its query."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from services.web.api.deps import CurrentUser, Rpc, principal_of
from shared.messaging import RpcClient
from shared.rpc import search as rpc
from shared.rpc import tickets as rpc_tickets

router = APIRouter(prefix="/search", tags=["search"])


def _sort(sort: str | None) -> list[dict[str, str]]:
    """``-updated,ticket`` → updated descending, then ticket ascending."""
    keys = []
    for name in (sort or "").split(","):
        name = name.strip()
        if name:
            keys.append(
                {"field": name.lstrip("-+"), "order": "desc" if name.startswith("-") else "asc"}
            )
    return keys


async def _ask(
    client: RpcClient,
    name: str,
    model: type[BaseModel],
    user: rpc_tickets.UserPublic,
    fields: dict[str, Any],
) -> Any:
    """One search of the signed-in user: the request checked here (a 422 before any
    call), the user named as the principal whose reach the search service applies."""
    request = model.model_validate({"principal": principal_of(user).model_dump(), **fields})
    return await client.call(name, request.model_dump(mode="json"))


SORT_HELP = (
    "Comma-separated fields, `-` for descending: relevance, ticket, created, updated, "
    "resolved, due, priority, status, queue, owner, subject"
)


@router.get("", response_model=rpc.SearchResult)
async def search(
    user: CurrentUser,
    client: Rpc,
    q: str = Query(min_length=1, max_length=1000, description="Quick-search text"),
    limit: int = Query(25, ge=1, le=200),
    offset: int = Query(0, ge=0, le=10_000),
    sort: str | None = Query(None, max_length=200, description=SORT_HELP),
) -> Any:
    return await _ask(
        client,
        rpc.SEARCH_TICKETS,
        rpc.SearchTickets,
        user,
        {
            "q": q,
            "limit": limit,
            "offset": offset,
            "sort": _sort(sort),
        },
    )


class AdvancedQuery(BaseModel):
    """A structured search; page on with the ``sort`` of the last hit as ``search_after``."""

    query: rpc.Condition | None = None
    sort: list[rpc.SortKey] = Field(default_factory=list, max_length=4)
    limit: int = Field(default=25, ge=1, le=200)
    search_after: list[rpc.SortValue] | None = Field(default=None, max_length=5)
    highlight: bool = True


@router.post("/advanced", response_model=rpc.SearchResult)
async def advanced(body: AdvancedQuery, user: CurrentUser, client: Rpc) -> Any:
    return await _ask(
        client, rpc.SEARCH_ADVANCED, rpc.AdvancedSearch, user, (body.model_dump(mode="json"))
    )


@router.get("/attachments", response_model=rpc.AttachmentResult)
async def attachments(
    user: CurrentUser,
    client: Rpc,
    text: str | None = Query(None, max_length=500, description="Words inside the files"),
    sender: str | None = Query(None, max_length=320),
    queue: str | None = Query(None, max_length=200),
    file_type: str | None = Query(None, max_length=100, description="pdf, or application/pdf"),
    sent_after: str | None = Query(None, max_length=40),
    sent_before: str | None = Query(None, max_length=40),
    limit: int = Query(25, ge=1, le=200),
) -> Any:
    return await _ask(
        client,
        rpc.SEARCH_ATTACHMENTS,
        rpc.SearchAttachments,
        user,
        {
            "text": text,
            "sender": sender,
            "queue": queue,
            "file_type": file_type,
            "sent_after": sent_after,
            "sent_before": sent_before,
            "limit": limit,
        },
    )


@router.get("/dashboard", response_model=rpc.Aggregation)
async def dashboard(
    user: CurrentUser,
    client: Rpc,
    q: str | None = Query(None, max_length=1000, description="Narrow with a quick search"),
    weeks: int = Query(26, ge=1, le=260),
    time_zone: str = Query("Europe/Paris", max_length=64),
) -> Any:
    return await _ask(
        client,
        rpc.SEARCH_AGGREGATE,
        rpc.Aggregate,
        user,
        {
            "q": q,
            "weeks": weeks,
            "time_zone": time_zone,
        },
    )
