"""Administration over the REST API: queues (addresses, custom fields, watchers, mail
policies, notification rules and templates), users and groups, rights. The tickets and
notify services decide who may: a queue's AdminQueue holders its rights, the system
administrator the rest."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from services.web.api.deps import CurrentUser, Rpc
from shared.rpc import notify
from shared.rpc import tickets as rpc

router = APIRouter(tags=["administration"])
QueueName = Path(pattern=r"^[A-Za-z0-9._-]{1,64}$")
Email = Path(min_length=3, max_length=320)


@router.get("/queues", response_model=list[rpc.QueuePublic])
async def queues(user: CurrentUser, client: Rpc) -> Any:
    """The queues you may see."""
    return await client.call(rpc.LIST_QUEUES, {"actor": user.email})


class QueueSettings(BaseModel):
    correspond_address: str = Field(min_length=3, max_length=320)
    comment_address: str = Field(min_length=3, max_length=320)
    language: Literal["fr", "en"] = "fr"
    description: str = Field(default="", max_length=2000)
    custom_fields: list[rpc.CustomFieldSpec] = Field(default_factory=list, max_length=100)
    ccs: list[str] = Field(default_factory=list, max_length=100)
    admin_ccs: list[str] = Field(default_factory=list, max_length=100)
    ccs_from_create: bool = True
    ccs_from_replies: bool = False
    unknown_sender: Literal["accept", "comment"] = "accept"
    commands_need_authentication: bool = False


@router.put("/queues/{name}", response_model=dict[str, str])
async def put_queue(
    body: QueueSettings, user: CurrentUser, client: Rpc, name: str = QueueName
) -> Any:
    """Create or change a queue (system administrators)."""
    return await client.call(
        rpc.ADMIN_UPSERT_QUEUE, {"actor": user.email, "name": name, **body.model_dump()}
    )


@router.get("/queues/{name}/notifications", response_model=notify.QueueNotifications)
async def notifications(user: CurrentUser, client: Rpc, name: str = QueueName) -> Any:
    """The queue's notification rules and mail templates (French and English)."""
    return await client.call(notify.QUEUE_SETTINGS, {"actor": user.email, "queue": name})


class RuleSwitch(BaseModel):
    enabled: bool


@router.put("/queues/{name}/notifications/rules/{rule}", response_model=notify.QueueNotifications)
async def put_rule(
    body: RuleSwitch,
    user: CurrentUser,
    client: Rpc,
    name: str = QueueName,
    rule: str = Path(min_length=1, max_length=100),
) -> Any:
    return await client.call(
        notify.SET_RULE,
        {"actor": user.email, "queue": name, "rule": rule, "enabled": body.enabled},
    )


class TemplateText(BaseModel):
    subject: str = Field(min_length=1, max_length=500)
    body: str = Field(min_length=1, max_length=100_000)


@router.put(
    "/queues/{name}/notifications/templates/{template}/{language}",
    response_model=notify.QueueNotifications,
)
async def put_template(
    body: TemplateText,
    user: CurrentUser,
    client: Rpc,
    name: str = QueueName,
    template: str = Path(min_length=1, max_length=100),
    language: Literal["fr", "en"] = Path(),
) -> Any:
    """A template of the queue (Jinja2, sandboxed; checked against a sample first)."""
    return await client.call(
        notify.SET_TEMPLATE,
        {
            "actor": user.email,
            "queue": name,
            "template": template,
            "language": language,
            **body.model_dump(),
        },
    )


@router.delete(
    "/queues/{name}/notifications/templates/{template}/{language}",
    response_model=notify.QueueNotifications,
)
async def reset_template(
    user: CurrentUser,
    client: Rpc,
    name: str = QueueName,
    template: str = Path(min_length=1, max_length=100),
    language: Literal["fr", "en"] = Path(),
) -> Any:
    """Back to the default text."""
    return await client.call(
        notify.RESET_TEMPLATE,
        {"actor": user.email, "queue": name, "template": template, "language": language},
    )


class UsersPublic(BaseModel):
    data: list[rpc.UserDetails]
    count: int


@router.get("/users", response_model=UsersPublic)
async def users(
    user: CurrentUser,
    client: Rpc,
    q: str | None = Query(None, max_length=320),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> Any:
    """Users by address, those whose address or name holds ``q`` (case and accents aside);
    ``count`` is the total matching (system administrators)."""
    found = await client.call(
        rpc.LIST_USERS, {"actor": user.email, "q": q, "limit": limit, "offset": offset}
    )
    return {"data": found["items"], "count": found["total"]}


@router.get("/groups", response_model=list[rpc.GroupPublic])
async def groups(user: CurrentUser, client: Rpc) -> Any:
    """Every group users are in, with its members (system administrators). A group is
    named on its members (``groups`` of PUT /users/{email}): it exists while one has it."""
    return await client.call(rpc.GROUPS, {"actor": user.email})


@router.get("/users/{email}", response_model=rpc.UserDetails)
async def get_user(user: CurrentUser, client: Rpc, email: str = Email) -> Any:
    """A user: yourself, or anyone for a system administrator."""
    return await client.call(rpc.GET_USER, {"actor": user.email, "email": email})


class UserSettings(BaseModel):
    name: str = Field(default="", max_length=200)
    password: str | None = Field(default=None, min_length=8, max_length=200)
    privileged: bool = False
    is_admin: bool = False
    language: Literal["fr", "en"] = "fr"
    groups: list[str] = Field(default_factory=list, max_length=100)


@router.put("/users/{email}", response_model=dict[str, Any])
async def put_user(body: UserSettings, user: CurrentUser, client: Rpc, email: str = Email) -> Any:
    """Create or change a user; groups are named on the user (system administrators)."""
    return await client.call(
        rpc.ADMIN_UPSERT_USER, {"actor": user.email, "email": email, **body.model_dump()}
    )


class Grant(BaseModel):
    right: str = Field(min_length=1, max_length=64)
    kind: Literal["everyone", "privileged", "group", "role", "user"]
    name: str = Field(default="", max_length=320)
    queue: str | None = Field(default=None, max_length=64)


@router.get("/rights", response_model=list[Grant])
async def rights(user: CurrentUser, client: Rpc) -> Any:
    """Every right given, to whom, on which queue (none: every queue)."""
    return await client.call(rpc.ADMIN_LIST_GRANTS, {"actor": user.email})


@router.post("/rights", status_code=201, response_model=dict[str, int])
async def grant(body: Grant, user: CurrentUser, client: Rpc) -> Any:
    return await client.call(rpc.ADMIN_GRANT, {"actor": user.email, **body.model_dump()})


@router.post("/rights/revoke", status_code=204, response_class=Response)
async def revoke(body: Grant, user: CurrentUser, client: Rpc) -> Response:
    await client.call(rpc.ADMIN_REVOKE, {"actor": user.email, **body.model_dump()})
    return Response(status_code=204)
