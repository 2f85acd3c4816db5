from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Header, Path, Query, Response
from pydantic import BaseModel, Field

from services.web.api.deps import CurrentUser, Rpc
from services.web.files import file_response
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
async def get_history(
    user: CurrentUser,
    client: Rpc,
    ticket_id: int = TicketId,
    limit: int = Query(500, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> Any:
    """The ticket's transactions, oldest first; ``count`` is how many there are in all."""
    items = await client.call(rpc.GET_HISTORY, {"actor": user.email, "id": ticket_id})
    return {"data": items[offset : offset + limit], "count": len(items)}


class NewTicket(BaseModel):
    queue: str = Field(min_length=1, max_length=64)
    subject: str = Field(min_length=1, max_length=500)
    text: str = Field(default="", max_length=1_000_000)
    requestors: list[str] = Field(default_factory=list, max_length=50)
    ccs: list[str] = Field(default_factory=list, max_length=50)
    admin_ccs: list[str] = Field(default_factory=list, max_length=50)
    custom_fields: dict[str, str] = Field(default_factory=dict, max_length=50)
    attachments: list[rpc.NewAttachment] = Field(
        default_factory=list,
        max_length=rpc.MAX_NEW_ATTACHMENTS,
        description="Files of the first message, each in base64 (25 MB in all).",
    )


class TicketAction(BaseModel):
    """One action of the tickets service; which parameters it needs depends on it (a reply
    needs ``text``, ``set_status`` a ``status``, ``add_watcher`` a ``role`` and an
    ``email``…). A missing one is a 422 naming it."""

    action: rpc.TicketAction
    text: str | None = Field(default=None, max_length=1_000_000)
    status: str | None = Field(default=None, max_length=20)
    owner: str | None = Field(default=None, max_length=320)
    role: Literal["Requestor", "Cc", "AdminCc"] | None = None
    email: str | None = Field(default=None, max_length=320)
    priority: int | None = Field(default=None, ge=0, le=99)
    subject: str | None = Field(default=None, max_length=500)
    link: Literal["DependsOn", "MemberOf", "RefersTo"] | None = None
    target: int | None = Field(default=None, ge=1, le=2**53)
    field: str | None = Field(default=None, max_length=64)
    value: str | None = Field(default=None, max_length=255)
    to: list[str] | None = Field(default=None, max_length=50)
    queue: str | None = Field(default=None, max_length=64)
    due: str | None = Field(default=None, max_length=10)
    starts: str | None = Field(default=None, max_length=10)
    attachments: list[rpc.NewAttachment] = Field(
        default_factory=list,
        max_length=rpc.MAX_NEW_ATTACHMENTS,
        description="Files sent with a reply, a comment or a forward, each in base64 "
        "(25 MB in all); a reply or a comment with files may have no text.",
    )


class ActionResult(BaseModel):
    ticket: TicketPublic
    transaction: str


IdempotencyKey = Header(
    None,
    alias="Idempotency-Key",
    pattern=r"^[A-Za-z0-9._:-]{8,100}$",
    description="Send the same key again (a retry): the action happens once.",
)


@router.post("", response_model=ActionResult, status_code=201)
async def create_ticket(
    body: NewTicket, user: CurrentUser, client: Rpc, key: str | None = IdempotencyKey
) -> Any:
    return await client.call(
        rpc.CREATE_TICKET,
        {"command_id": key or f"api-{uuid.uuid4()}", "actor": user.email, **body.model_dump()},
    )


@router.post("/{ticket_id}/actions", response_model=ActionResult)
async def act(
    body: TicketAction,
    user: CurrentUser,
    client: Rpc,
    ticket_id: int = TicketId,
    key: str | None = IdempotencyKey,
) -> Any:
    command = {
        "command_id": key or f"api-{uuid.uuid4()}",
        "actor": user.email,
        "ticket": ticket_id,
        **body.model_dump(exclude_none=True),
    }
    return await client.call(rpc.TICKET_COMMAND, command)


@router.get(
    "/{ticket_id}/attachments/{sha256}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
async def download(
    user: CurrentUser,
    client: Rpc,
    ticket_id: int = TicketId,
    sha256: str = Path(pattern=r"^[0-9a-f]{64}$"),
) -> Response:
    """A file of the ticket, with its own type; shown inline only when that is safe."""
    return await file_response(client, user.email, ticket_id, sha256)
