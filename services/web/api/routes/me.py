"""The signed-in user's own things: home counts, bookmarks, reminders, API tokens."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field

from services.web.api.deps import Authenticator, CurrentUser, Rpc, principal_of
from shared.rpc import search
from shared.rpc import tickets as rpc

router = APIRouter(prefix="/me", tags=["me"])
TicketNumber = Path(ge=1, le=2**53, description="The ticket number")


@router.get("", response_model=rpc.UserPublic)
async def me(user: CurrentUser) -> Any:
    return user


# The home page's counts, each a quick search: what the user may see only, and quick at
# any size (the search index counts; the tickets store would read every ticket).
HOME_COUNTS = {
    "owned_by_me": "owner:me status:active",
    "unowned": "owner:nobody status:active",
    "new": "status:new",
    "requested_by_me": "requestor:me status:active",
}


@router.get("/home", response_model=dict[str, int])
async def home(user: CurrentUser, client: Rpc) -> Any:
    """Counts for the home page: my tickets, the unowned ones I may see, the new ones, those
    I asked for."""
    principal = principal_of(user).model_dump()
    answers = await asyncio.gather(
        *(
            client.call(search.SEARCH_TICKETS, {"principal": principal, "q": q, "limit": 1})
            for q in HOME_COUNTS.values()
        )
    )
    return {name: answer["total"] for name, answer in zip(HOME_COUNTS, answers, strict=True)}


class Bookmarks(BaseModel):
    tickets: list[int]


@router.get("/bookmarks", response_model=Bookmarks)
async def bookmarks(user: CurrentUser, client: Rpc) -> Any:
    found = await client.call(rpc.BOOKMARKS, {"actor": user.email, "action": "list"})
    return {"tickets": found}


@router.put("/bookmarks/{ticket_id}", response_model=Bookmarks)
async def bookmark(user: CurrentUser, client: Rpc, ticket_id: int = TicketNumber) -> Any:
    found = await client.call(
        rpc.BOOKMARKS, {"actor": user.email, "action": "add", "ticket": ticket_id}
    )
    return {"tickets": found}


@router.delete("/bookmarks/{ticket_id}", response_model=Bookmarks)
async def unbookmark(user: CurrentUser, client: Rpc, ticket_id: int = TicketNumber) -> Any:
    found = await client.call(
        rpc.BOOKMARKS, {"actor": user.email, "action": "remove", "ticket": ticket_id}
    )
    return {"tickets": found}


class NewReminder(BaseModel):
    ticket: int = Field(ge=1, le=2**53)
    subject: str = Field(min_length=1, max_length=200)
    due: date
    owner: str | None = Field(default=None, max_length=320)


@router.get("/reminders", response_model=list[dict[str, Any]])
async def reminders(user: CurrentUser, client: Rpc) -> Any:
    """My open reminders, soonest first."""
    return await client.call(rpc.REMINDERS, {"actor": user.email, "action": "list"})


@router.post("/reminders", response_model=list[dict[str, Any]], status_code=201)
async def add_reminder(body: NewReminder, user: CurrentUser, client: Rpc) -> Any:
    return await client.call(
        rpc.REMINDERS,
        {"actor": user.email, "action": "add", **body.model_dump(mode="json", exclude_none=True)},
    )


@router.post("/reminders/{reminder_id}/done", response_model=list[dict[str, Any]])
async def reminder_done(
    user: CurrentUser, client: Rpc, reminder_id: str = Path(min_length=1, max_length=64)
) -> Any:
    return await client.call(
        rpc.REMINDERS, {"actor": user.email, "action": "done", "reminder": reminder_id}
    )


class NewToken(BaseModel):
    name: str = Field(min_length=1, max_length=100)


@router.get("/tokens", response_model=list[rpc.TokenPublic])
async def tokens(user: CurrentUser, client: Rpc) -> Any:
    """My API tokens (never their secrets)."""
    return await client.call(rpc.API_TOKENS, {"actor": user.email, "action": "list"})


@router.post("/tokens", response_model=rpc.TokenPublic, status_code=201)
async def create_token(body: NewToken, user: CurrentUser, client: Rpc) -> Any:
    """A new token: its ``secret`` is in this answer only. Use it as
    ``Authorization: Bearer <secret>``."""
    [token] = await client.call(
        rpc.API_TOKENS, {"actor": user.email, "action": "create", "name": body.name}
    )
    return token


@router.delete("/tokens/{token_id}", status_code=204, response_class=Response)
async def revoke_token(
    request: Request,
    user: CurrentUser,
    client: Rpc,
    token_id: str = Path(pattern=r"^[0-9a-f]{16}$"),
) -> Response:
    await client.call(
        rpc.API_TOKENS, {"actor": user.email, "action": "revoke", "token_id": token_id}
    )
    authenticator: Authenticator = request.app.state.authenticator
    authenticator.forget()
    return Response(status_code=204)
