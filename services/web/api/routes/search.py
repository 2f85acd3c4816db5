"""Search over the REST API: quick and advanced search, the archive of attachments and the
counts of dashboards — each a call to the search service, which applies the asker's
rights inside its query."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from services.web.api.deps import CurrentUser, Rpc, principal_of
from shared.rpc import search as rpc

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
    request = rpc.SearchTickets.model_validate(
        {
            "principal": principal_of(user).model_dump(),
            "q": q,
            "limit": limit,
            "offset": offset,
            "sort": _sort(sort),
        }
    )
    return await client.call(rpc.SEARCH_TICKETS, request.model_dump(mode="json"))


class AdvancedQuery(BaseModel):
    """A structured search; page on with the ``sort`` of the last hit as ``search_after``."""

    query: rpc.Condition | None = None
    sort: list[rpc.SortKey] = Field(default_factory=list, max_length=4)
    limit: int = Field(default=25, ge=1, le=200)
    search_after: list[rpc.SortValue] | None = Field(default=None, max_length=5)
    highlight: bool = True


@router.post("/advanced", response_model=rpc.SearchResult)
async def advanced(body: AdvancedQuery, user: CurrentUser, client: Rpc) -> Any:
    request = rpc.AdvancedSearch.model_validate(
        {"principal": principal_of(user).model_dump(), **body.model_dump(mode="json")}
    )
    return await client.call(rpc.SEARCH_ADVANCED, request.model_dump(mode="json"))


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
    request = rpc.SearchAttachments.model_validate(
        {
            "principal": principal_of(user).model_dump(),
            "text": text,
            "sender": sender,
            "queue": queue,
            "file_type": file_type,
            "sent_after": sent_after,
            "sent_before": sent_before,
            "limit": limit,
        }
    )
    return await client.call(rpc.SEARCH_ATTACHMENTS, request.model_dump(mode="json"))


@router.get("/dashboard", response_model=rpc.Aggregation)
async def dashboard(
    user: CurrentUser,
    client: Rpc,
    q: str | None = Query(None, max_length=1000, description="Narrow with a quick search"),
    weeks: int = Query(26, ge=1, le=260),
    time_zone: str = Query("Europe/Paris", max_length=64),
) -> Any:
    request = rpc.Aggregate.model_validate(
        {
            "principal": principal_of(user).model_dump(),
            "q": q,
            "weeks": weeks,
            "time_zone": time_zone,
        }
    )
    return await client.call(rpc.SEARCH_AGGREGATE, request.model_dump(mode="json"))
