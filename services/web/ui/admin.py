"""Administration pages (system administrators): queues (addresses, language, custom
fields, watchers, mail policies, notification rules and templates), users, groups, rights.

Every change goes through the RPCs the REST routes of ``api/routes/admin.py`` use; the
tickets and notify services decide who may (each page also refuses a non-administrator
first). A form's fields become an RPC model here (the pure ``*_change`` helpers); a model
that does not validate is the interface's 422 page.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi import Path as FastPath
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from services.web.ui.web import Page, checked_form, page, see_other
from shared.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from shared.rpc import notify
from shared.rpc import tickets as rpc

router = APIRouter(prefix="/admin")
Viewer = Annotated[Page, Depends(page)]
Form_ = Annotated[FormData, Depends(checked_form)]
QueueName = FastPath(pattern=r"^[A-Za-z0-9._-]{1,64}$")
Email = FastPath(min_length=3, max_length=320)
# One Path() per parameter name: FastAPI keeps the name it was first given.
RuleName = FastPath(min_length=1, max_length=100)
TemplateName = FastPath(min_length=1, max_length=100)

PAGE_SIZE = 50
MAX_FIELD_ROWS = 100  # custom fields of one queue
BLANK_FIELD_ROWS = 3  # empty rows under a queue's fields, to add some
MAX_ADDRESSES = 100  # queue watchers of one role
MAX_GROUP_NAME = 100
MIN_PASSWORD = 8
PRINCIPAL_KINDS = (
    ("everyone", "admin.kind_everyone"),
    ("privileged", "admin.kind_privileged"),
    ("group", "admin.kind_group"),
    ("role", "admin.kind_role"),
    ("user", "admin.kind_user"),
)
FIELD_TYPES = (("text", "admin.cf_text"), ("select", "admin.cf_select"), ("date", "admin.cf_date"))
UNKNOWN_SENDER = (("accept", "admin.unknown_accept"), ("comment", "admin.unknown_comment"))
LANGUAGES = (("fr", "admin.lang_fr"), ("en", "admin.lang_en"))
_LIST_SEPARATORS = re.compile(r"[\s,;]+")
_FIELD_ROW = re.compile(r"^cf_name_(\d{1,3})$")


async def administrator(p: Viewer) -> Page:
    """The viewer, if a system administrator (the services check again on every call)."""
    if not p.user.is_admin:
        raise PermissionDeniedError(f"{p.email} is not a system administrator", right="SuperUser")
    return p


Admin = Annotated[Page, Depends(administrator)]


# --- forms to RPC models (pure) ---------------------------------------------------------
def _text(form: FormData, key: str, limit: int = 2000) -> str:
    value = form.get(key)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _checked(form: FormData, key: str) -> bool:
    return form.get(key) in ("on", "true", "1")


def addresses(text: str) -> tuple[str, ...]:
    """Addresses written one per line or separated by commas, each once, in order."""
    found = tuple(dict.fromkeys(a for a in _LIST_SEPARATORS.split(text) if a))
    if len(found) > MAX_ADDRESSES:
        raise InvalidInputError(f"at most {MAX_ADDRESSES} addresses")
    return found


def names(text: str) -> tuple[str, ...]:
    """Names separated by commas (groups, a select field's values), each once, in order."""
    found = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    if any(len(n) > MAX_GROUP_NAME for n in found):
        raise InvalidInputError(f"a name has at most {MAX_GROUP_NAME} characters")
    return found


def custom_fields(form: FormData) -> tuple[rpc.CustomFieldSpec, ...]:
    """The rows ``cf_name_<i>``, ``cf_type_<i>``, ``cf_values_<i>`` in the order of ``i``;
    a row without a name is left out (that is how a field is removed)."""
    rows = sorted(int(m.group(1)) for k in form if (m := _FIELD_ROW.match(k)))
    fields = []
    for i in rows[:MAX_FIELD_ROWS]:
        name = _text(form, f"cf_name_{i}", 64)
        if not name:
            continue
        kind = _text(form, f"cf_type_{i}") or "text"
        values = names(_text(form, f"cf_values_{i}", 10_000)) if kind == "select" else ()
        fields.append(
            rpc.CustomFieldSpec.model_validate({"name": name, "type": kind, "values": values})
        )
    return tuple(fields)


def queue_change(actor: str, name: str, form: FormData) -> rpc.UpsertQueue:
    """The whole queue as the form shows it (an unticked box is off)."""
    return rpc.UpsertQueue.model_validate(
        {
            "actor": actor,
            "name": name,
            "correspond_address": _text(form, "correspond_address", 320),
            "comment_address": _text(form, "comment_address", 320),
            "language": _text(form, "language") or "fr",
            "description": _text(form, "description"),
            "custom_fields": custom_fields(form),
            "ccs": addresses(_text(form, "ccs", 50_000)),
            "admin_ccs": addresses(_text(form, "admin_ccs", 50_000)),
            "ccs_from_create": _checked(form, "ccs_from_create"),
            "ccs_from_replies": _checked(form, "ccs_from_replies"),
            "unknown_sender": _text(form, "unknown_sender") or "accept",
            "commands_need_authentication": _checked(form, "commands_need_authentication"),
        }
    )


def user_change(actor: str, email: str, form: FormData) -> rpc.UpsertUser:
    """The whole user as the form shows it; a blank password keeps theirs. An
    administrator may not take their own administration right away (no one could give
    it back from here)."""
    password = form.get("password")
    password = password if isinstance(password, str) and password else None
    if password is not None and not MIN_PASSWORD <= len(password) <= 200:
        raise InvalidInputError(f"a password has {MIN_PASSWORD} to 200 characters")
    is_admin = _checked(form, "is_admin")
    if email.strip().lower() == actor.lower() and not is_admin:
        raise InvalidInputError("you may not take your own administration right away")
    return rpc.UpsertUser.model_validate(
        {
            "actor": actor,
            "email": email.strip(),
            "name": _text(form, "name", 200),
            "password": password,
            "privileged": _checked(form, "privileged") or is_admin,
            "is_admin": is_admin,
            "language": _text(form, "language") or "fr",
            "groups": names(_text(form, "groups", 10_000)),
        }
    )


def membership_change(
    actor: str, user: rpc.UserDetails, group: str, *, member: bool
) -> rpc.UpsertUser:
    """``user`` as they are, in ``group`` or out of it (their password kept)."""
    group = group.strip()
    if not group or len(group) > MAX_GROUP_NAME:
        raise InvalidInputError(f"a group's name has 1 to {MAX_GROUP_NAME} characters")
    groups = [g for g in user.groups if g != group] + ([group] if member else [])
    return rpc.UpsertUser(
        actor=actor,
        email=user.email,
        name=user.name,
        privileged=user.privileged,
        is_admin=user.is_admin,
        language=user.language,
        groups=tuple(groups),
    )


def grant_change(actor: str, form: FormData) -> rpc.GrantChange:
    """A right, to whom (``name``: the group, role or user; none for everyone and agents),
    on one queue or (none) every queue."""
    kind = _text(form, "kind")
    return rpc.GrantChange.model_validate(
        {
            "actor": actor,
            "right": _text(form, "right", 64),
            "kind": kind,
            "name": "" if kind in ("everyone", "privileged") else _text(form, "name", 320),
            "queue": _text(form, "queue", 64) or None,
        }
    )


# --- index ------------------------------------------------------------------------------
@router.get("", response_class=HTMLResponse)
async def index(p: Admin) -> Response:
    return p.render("admin.html")


# --- queues -----------------------------------------------------------------------------
async def _queue(p: Page, name: str) -> rpc.QueuePublic | None:
    for queue in await p.call(rpc.LIST_QUEUES, {"actor": p.email}):
        if queue["name"] == name:
            return rpc.QueuePublic.model_validate(queue)
    return None


def _queue_form(p: Page, queue: rpc.QueuePublic | None, **context: Any) -> dict[str, Any]:
    fields = list(queue.custom_fields) if queue else []
    return {
        "queue": queue,
        "field_rows": [*fields, *([None] * BLANK_FIELD_ROWS)],
        "field_types": FIELD_TYPES,
        "unknown_sender": UNKNOWN_SENDER,
        "languages": LANGUAGES,
        **context,
    }


@router.get("/queues", response_class=HTMLResponse)
async def queues(p: Admin) -> Response:
    found = [
        rpc.QueuePublic.model_validate(q) for q in await p.call(rpc.LIST_QUEUES, {"actor": p.email})
    ]
    return p.render("admin_queues.html", **_queue_form(p, None, queues=found))


@router.post("/queues")
async def create_queue(p: Admin, form: Form_) -> Response:
    name = _text(form, "name", 64)
    change = queue_change(p.email, name, form)
    if await _queue(p, change.name) is not None:
        raise ConflictError(f"queue {change.name} already exists")
    await p.call(rpc.ADMIN_UPSERT_QUEUE, change.model_dump())
    return see_other(f"/admin/queues/{change.name}")


@router.get("/queues/{name}", response_class=HTMLResponse)
async def queue_page(p: Admin, name: str = QueueName) -> Response:
    queue = await _queue(p, name)
    if queue is None:
        return p.render("error.html", 404, key="admin.no_queue", values={"name": name})
    notifications = notify.QueueNotifications.model_validate(
        await p.call(notify.QUEUE_SETTINGS, {"actor": p.email, "queue": name})
    )
    return p.render("admin_queue.html", **_queue_form(p, queue, notifications=notifications))


@router.post("/queues/{name}")
async def edit_queue(p: Admin, form: Form_, name: str = QueueName) -> Response:
    if await _queue(p, name) is None:
        raise NotFoundError(f"queue {name} does not exist")
    await p.call(rpc.ADMIN_UPSERT_QUEUE, queue_change(p.email, name, form).model_dump())
    return see_other(f"/admin/queues/{name}")


@router.post("/queues/{name}/rules/{rule}")
async def switch_rule(
    p: Admin, form: Form_, name: str = QueueName, rule: str = RuleName
) -> Response:
    await p.call(
        notify.SET_RULE,
        {"actor": p.email, "queue": name, "rule": rule, "enabled": _checked(form, "enabled")},
    )
    return see_other(f"/admin/queues/{name}#rules")


@router.post("/queues/{name}/options")
async def queue_options(p: Admin, form: Form_, name: str = QueueName) -> Response:
    await p.call(
        notify.SET_OPTIONS,
        {"actor": p.email, "queue": name, "notify_actor": _checked(form, "notify_actor")},
    )
    return see_other(f"/admin/queues/{name}#rules")


@router.post("/queues/{name}/templates/{template}/{language}")
async def edit_template(
    p: Admin,
    form: Form_,
    name: str = QueueName,
    template: str = TemplateName,
    language: Literal["fr", "en"] = FastPath(),
) -> Response:
    """A template's new text (Jinja2, sandboxed; notify refuses one that does not render)."""
    subject = form.get("subject")
    body = form.get("body")
    await p.call(
        notify.SET_TEMPLATE,
        notify.SetTemplate(
            actor=p.email,
            queue=name,
            template=template,
            language=language,
            subject=subject.strip() if isinstance(subject, str) else "",
            body=body.replace("\r\n", "\n") if isinstance(body, str) else "",
        ).model_dump(),
    )
    return see_other(f"/admin/queues/{name}#template-{template}-{language}")


@router.post("/queues/{name}/templates/{template}/{language}/reset")
async def reset_template(
    p: Admin,
    _: Form_,
    name: str = QueueName,
    template: str = TemplateName,
    language: Literal["fr", "en"] = FastPath(),
) -> Response:
    await p.call(
        notify.RESET_TEMPLATE,
        {"actor": p.email, "queue": name, "template": template, "language": language},
    )
    return see_other(f"/admin/queues/{name}#template-{template}-{language}")


# --- users ------------------------------------------------------------------------------
@router.get("/users", response_class=HTMLResponse)
async def users(
    p: Admin,
    q: str = Query("", max_length=320),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> Response:
    found = rpc.UserList.model_validate(
        await p.call(
            rpc.LIST_USERS,
            {"actor": p.email, "q": q.strip() or None, "limit": PAGE_SIZE, "offset": offset},
        )
    )
    return p.render(
        "admin_users.html",
        q=q,
        found=found,
        offset=offset,
        page_size=PAGE_SIZE,
        languages=LANGUAGES,
    )


async def _user(p: Page, email: str) -> rpc.UserDetails | None:
    try:
        found = await p.call(rpc.GET_USER, {"actor": p.email, "email": email})
    except NotFoundError:
        return None
    return rpc.UserDetails.model_validate(found)


@router.post("/users")
async def create_user(p: Admin, form: Form_) -> Response:
    change = user_change(p.email, _text(form, "email", 320), form)
    if await _user(p, change.email) is not None:
        raise ConflictError(f"{change.email} already exists: change them on their page")
    done = await p.call(rpc.ADMIN_UPSERT_USER, change.model_dump())
    return see_other(f"/admin/users/{done['email']}")


@router.get("/users/{email}", response_class=HTMLResponse)
async def user_page(p: Admin, email: str = Email) -> Response:
    found = await _user(p, email)
    if found is None:
        return p.render("error.html", 404, key="admin.no_user", values={"email": email})
    return p.render("admin_user.html", account=found, languages=LANGUAGES)


@router.post("/users/{email}")
async def edit_user(p: Admin, form: Form_, email: str = Email) -> Response:
    if await _user(p, email) is None:
        raise NotFoundError(f"no user {email}")
    done = await p.call(rpc.ADMIN_UPSERT_USER, user_change(p.email, email, form).model_dump())
    p.ui.forget_user(done["email"])  # their rights and language, at once
    return see_other(f"/admin/users/{done['email']}")


# --- groups -----------------------------------------------------------------------------
@router.get("/groups", response_class=HTMLResponse)
async def groups(p: Admin) -> Response:
    found = [
        rpc.GroupPublic.model_validate(g) for g in await p.call(rpc.GROUPS, {"actor": p.email})
    ]
    return p.render("admin_groups.html", groups=found)


async def _membership(p: Page, form: FormData, *, member: bool) -> Response:
    email = _text(form, "email", 320)
    group = _text(form, "group", MAX_GROUP_NAME + 1)
    found = await _user(p, email) if len(email) >= 3 else None
    if found is None:
        raise NotFoundError(f"no user {email}")
    await p.call(
        rpc.ADMIN_UPSERT_USER, membership_change(p.email, found, group, member=member).model_dump()
    )
    p.ui.forget_user(found.email)
    return see_other("/admin/groups")


@router.post("/groups/members")
async def add_member(p: Admin, form: Form_) -> Response:
    return await _membership(p, form, member=True)


@router.post("/groups/members/remove")
async def remove_member(p: Admin, form: Form_) -> Response:
    return await _membership(p, form, member=False)


# --- rights -----------------------------------------------------------------------------
@router.get("/rights", response_class=HTMLResponse)
async def rights(p: Admin) -> Response:
    grants = await p.call(rpc.ADMIN_LIST_GRANTS, {"actor": p.email})
    grants.sort(key=lambda g: (g.get("queue") or "", g["right"], g["kind"], g.get("name", "")))
    queues_ = await p.call(rpc.LIST_QUEUES, {"actor": p.email})
    found_groups = await p.call(rpc.GROUPS, {"actor": p.email})
    return p.render(
        "admin_rights.html",
        grants=grants,
        queues=[q["name"] for q in queues_],
        groups=[g["name"] for g in found_groups],
        rights=rpc.RIGHTS,
        roles=rpc.ROLES,
        kinds=PRINCIPAL_KINDS,
        kind_keys=dict(PRINCIPAL_KINDS),
    )


@router.post("/rights/grant")
async def grant(p: Admin, form: Form_) -> Response:
    await p.call(rpc.ADMIN_GRANT, grant_change(p.email, form).model_dump())
    return see_other("/admin/rights")


@router.post("/rights/revoke")
async def revoke(p: Admin, form: Form_) -> Response:
    await p.call(rpc.ADMIN_REVOKE, grant_change(p.email, form).model_dump())
    return see_other("/admin/rights")
