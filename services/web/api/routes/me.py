"""The signed-in user's own things: home counts, bookmarks, reminders, API tokens,
preferences, and what they keep under a name (saved searches, dashboards, canned
responses)."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from services.web.api.deps import Authenticator, CurrentUser, Rpc, principal_of
from services.web.owned import owned
from shared.messaging import RpcClient
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


class PreferencesUpdate(BaseModel):
    """What to change; a field left out stays as it is."""

    model_config = ConfigDict(extra="forbid")

    language: rpc.Language | None = None
    signature: str | None = Field(default=None, max_length=rpc.MAX_SIGNATURE)
    home_layout: list[rpc.HomeWidget] | None = Field(default=None, max_length=rpc.MAX_HOME_WIDGETS)


@router.get("/preferences", response_model=rpc.UserDetails)
async def preferences(user: CurrentUser, client: Rpc) -> Any:
    """Who I am, with my preferences: language, signature, home page layout."""
    return await client.call(rpc.GET_USER, {"actor": user.email, "email": user.email})


@router.put("/preferences", response_model=rpc.UserDetails)
async def change_preferences(
    body: PreferencesUpdate, request: Request, user: CurrentUser, client: Rpc
) -> Any:
    """Change my language (``fr`` or ``en``), my signature, the boxes of my home page in
    order (each once); a field left out stays as it is."""
    changed = await client.call(
        rpc.USER_PREFERENCES, {"actor": user.email, **body.model_dump(exclude_none=True)}
    )
    authenticator: Authenticator = request.app.state.authenticator
    authenticator.forget_user(user.email)  # the next request reads the new language
    return changed


ItemId = Path(pattern=r"^[0-9a-f]{32}$")


async def _owned(
    client: RpcClient,
    rpc_name: str,
    user: rpc.UserPublic,
    action: str,
    item_id: str | None = None,
    body: BaseModel | None = None,
) -> Any:
    """Saved searches, dashboards and canned responses alike: the tickets service keeps
    them, says who may."""
    dumped = body.model_dump(mode="json") if body is not None else None
    return await owned(client, rpc_name, user.email, action, item_id, dumped)


def _owned_routes(
    path: str,
    rpc_name: str,
    body_model: type[BaseModel],
    *,
    many: str,
    one: str,
    create: str,
    list_doc: str,
    create_doc: str,
) -> None:
    """The five routes of a kind of owned item: list, create, get, replace, delete (named
    ``many``, ``create``, ``one``, ``replace_<one>``, ``delete_<one>``)."""

    async def list_items(user: CurrentUser, client: Rpc) -> Any:
        return await _owned(client, rpc_name, user, "list")

    async def create_item(body: BaseModel, user: CurrentUser, client: Rpc) -> Any:
        return await _owned(client, rpc_name, user, "put", body=body)

    async def get_item(user: CurrentUser, client: Rpc, item_id: str = ItemId) -> Any:
        return await _owned(client, rpc_name, user, "get", item_id)

    async def replace_item(
        body: BaseModel, user: CurrentUser, client: Rpc, item_id: str = ItemId
    ) -> Any:
        return await _owned(client, rpc_name, user, "put", item_id, body)

    async def delete_item(user: CurrentUser, client: Rpc, item_id: str = ItemId) -> Response:
        await _owned(client, rpc_name, user, "delete", item_id)
        return Response(status_code=204)

    # FastAPI reads the body's model from the annotation: this kind's.
    create_item.__annotations__["body"] = replace_item.__annotations__["body"] = body_model
    item = f"{path}/{{item_id}}"
    add = router.add_api_route
    add(
        path,
        list_items,
        methods=["GET"],
        name=many,
        description=list_doc,
        response_model=list[rpc.OwnedItem],
    )
    add(
        path,
        create_item,
        methods=["POST"],
        name=create,
        description=create_doc,
        response_model=rpc.OwnedItem,
        status_code=201,
    )
    add(item, get_item, methods=["GET"], name=one, response_model=rpc.OwnedItem)
    add(item, replace_item, methods=["PUT"], name=f"replace_{one}", response_model=rpc.OwnedItem)
    add(
        item,
        delete_item,
        methods=["DELETE"],
        name=f"delete_{one}",
        status_code=204,
        response_class=Response,
    )


_owned_routes(
    "/saved-searches",
    rpc.SAVED_SEARCHES,
    rpc.SavedSearchBody,
    many="saved_searches",
    one="saved_search",
    create="save_search",
    list_doc="My saved searches, and those shared with my groups.",
    create_doc="Keep a search under a name: the search bar's ``q``, or an advanced ``condition``.",
)
_owned_routes(
    "/dashboards",
    rpc.DASHBOARDS,
    rpc.DashboardBody,
    many="dashboards",
    one="dashboard",
    create="create_dashboard",
    list_doc="My dashboards, and those shared with my groups.",
    create_doc="Boxes of saved searches and charts (by status, created and resolved per "
    "week, time to resolution).",
)
_owned_routes(
    "/responses",
    rpc.RESPONSES,
    rpc.ResponseBody,
    many="responses",
    one="response",
    create="create_response",
    list_doc="My canned responses, and those shared with my groups.",
    create_doc="Keep a text under a name, to put into a reply or a comment.",
)
