from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from services.web.api.deps import CurrentUser, Rpc, principal_of
from shared.rpc.search import SEARCH_TICKETS, SearchResult

router = APIRouter(prefix="/search", tags=["search"])


@router.get("", response_model=SearchResult)
async def search(
    user: CurrentUser,
    client: Rpc,
    q: str = Query(min_length=1, max_length=1000, description="Quick-search text"),
    limit: int = Query(25, ge=1, le=200),
    offset: int = Query(0, ge=0, le=10_000),
) -> Any:
    return await client.call(
        SEARCH_TICKETS,
        {"principal": principal_of(user).model_dump(), "q": q, "limit": limit, "offset": offset},
    )
