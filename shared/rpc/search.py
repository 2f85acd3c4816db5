"""RPC contracts of the search service."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

SEARCH_TICKETS = "search.tickets"


class Principal(BaseModel):
    """Who asks: the permission filter is built inside the OpenSearch query from this."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    email: str
    is_admin: bool = False
    privileged: bool = False


class SearchTickets(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    principal: Principal
    q: str = Field(min_length=1, max_length=1000)
    limit: int = Field(default=25, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=10_000)


class SearchHit(BaseModel):
    id: int
    subject: str
    status: str
    queue: str


class SearchResult(BaseModel):
    total: int
    items: list[SearchHit]
