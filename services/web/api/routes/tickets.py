from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from services.web.api.deps import CurrentUser, Rpc
from shared.rpc import tickets as rpc

router = APIRouter(prefix="/tickets", tags=["tickets"])


class TicketPublic(BaseModel):
    id: int
    queue: str
    subject: str
    status: str
    owner: str
    requestors: list[str]
    ccs: list[str]
    admin_ccs: list[str]
    priority: int
    created: datetime
    updated: datetime
    resolved: datetime | None = None
    custom_fields: dict[str, str] = {}
    links: dict[str, list[int]] = {}
    due: str | None = None
    starts: str | None = None
    merged_into: int | None = None
    version: int


class TransactionPublic(BaseModel):
    id: str
    seq: int
    type: str
    creator: str
    created: datetime
    old_value: str | None = None
    new_value: str | None = None
    note: str | None = None
    text: str = ""
    message: dict[str, Any] | None = None
    # For a mail: its sender, whether it was authenticated, its commands and their outcomes.
    mail: dict[str, Any] | None = None


class HistoryPublic(BaseModel):
    data: list[TransactionPublic]
    count: int


class TicketsPublic(BaseModel):
    data: list[TicketPublic]
    count: int


@router.get("", response_model=TicketsPublic)
async def list_tickets(
    user: CurrentUser,
    client: Rpc,
    requestor: str | None = Query(None, max_length=320),
    queue: str | None = Query(None, max_length=64),
    status: str | None = Query(None, pattern="^(new|open|stalled|resolved|rejected|deleted)$"),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> Any:
    """Tickets the user may see, newest first; ``count`` is the total matching."""
    return await client.call(
        rpc.LIST_TICKETS,
        {
            "actor": user.email,
            "requestor": requestor,
            "queue": queue,
            "status": status,
            "limit": limit,
            "offset": offset,
        },
    )


TicketId = Path(ge=1, le=2**53, description="The ticket number")


@router.get("/{ticket_id}", response_model=TicketPublic)
async def get_ticket(user: CurrentUser, client: Rpc, ticket_id: int = TicketId) -> Any:
    return await client.call(rpc.GET_TICKET, {"actor": user.email, "id": ticket_id})


@router.get("/{ticket_id}/history", response_model=HistoryPublic)
async def get_history(user: CurrentUser, client: Rpc, ticket_id: int = TicketId) -> Any:
    items = await client.call(rpc.GET_HISTORY, {"actor": user.email, "id": ticket_id})
    return {"data": items, "count": len(items)}
