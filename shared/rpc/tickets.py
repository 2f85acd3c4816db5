"""RPC contracts of the tickets service."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MAIL_ROUTES = "tickets.mail_routes"
GET_TICKET = "tickets.get"
GET_HISTORY = "tickets.history"
LIST_TICKETS = "tickets.list"
TICKET_COMMAND = "tickets.command"
CREATE_TICKET = "tickets.create"
BOOKMARKS = "tickets.bookmarks"
REMINDERS = "tickets.reminders"
HOME_COUNTS = "tickets.home_counts"
GET_ATTACHMENT = "tickets.attachment"
AUTHENTICATE = "tickets.users.authenticate"
ADMIN_SET_INSTANCE = "tickets.admin.set_instance"
ADMIN_UPSERT_QUEUE = "tickets.admin.upsert_queue"
ADMIN_UPSERT_USER = "tickets.admin.upsert_user"
ADMIN_GRANT = "tickets.admin.grant"
ADMIN_REVOKE = "tickets.admin.revoke"
ADMIN_LIST_GRANTS = "tickets.admin.grants"

SYSTEM_ACTOR = "system"  # the operator's CLI; the web gateway never sends it


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MailRoute(_Model):
    queue: str
    kind: Literal["correspond", "comment"]


class MailRoutes(_Model):
    rtname: str
    extra_rtnames: tuple[str, ...] = ()
    routes: dict[str, MailRoute]


class TicketRef(_Model):
    actor: str = Field(min_length=1)
    id: int = Field(ge=1)


class ListTickets(_Model):
    actor: str = Field(min_length=1)
    requestor: str | None = None
    queue: str | None = None
    status: str | None = None
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0)


TicketAction = Literal[
    "reply",
    "comment",
    "set_status",
    "take",
    "steal",
    "assign",
    "untake",
    "add_watcher",
    "remove_watcher",
    "set_priority",
    "set_subject",
    "link",
    "unlink",
    "set_custom_field",
    "forward",
    "move",
    "set_due",
    "set_starts",
    "merge",
]


class TicketCommand(_Model):
    """One action on one ticket. ``command_id`` makes it idempotent: the same id sent twice
    acts once, and the second answer is the first one's."""

    command_id: str = Field(min_length=8, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")
    actor: str = Field(min_length=1)
    ticket: int = Field(ge=1)
    action: TicketAction
    text: str | None = Field(default=None, max_length=1_000_000)
    status: str | None = None
    owner: str | None = None
    role: Literal["Requestor", "Cc", "AdminCc"] | None = None
    email: str | None = None
    priority: int | None = None
    subject: str | None = None
    link: Literal["DependsOn", "MemberOf", "RefersTo"] | None = None
    target: int | None = Field(default=None, ge=1)
    field: str | None = Field(default=None, max_length=64)
    value: str | None = Field(default=None, max_length=255)
    to: tuple[str, ...] | None = None
    queue: str | None = None
    due: str | None = None
    starts: str | None = None


class CreateTicket(_Model):
    """Open a ticket from the web or the API; ``command_id`` makes it idempotent."""

    command_id: str = Field(min_length=8, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")
    actor: str = Field(min_length=1)
    queue: str
    subject: str = Field(min_length=1, max_length=500)
    text: str = Field(default="", max_length=1_000_000)
    requestors: tuple[str, ...] = ()
    ccs: tuple[str, ...] = ()
    admin_ccs: tuple[str, ...] = ()
    custom_fields: dict[str, str] = Field(default_factory=dict)


class CommandResult(_Model):
    ticket: dict[str, Any]
    transaction: str


class Credentials(_Model):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1024)


class UserPublic(_Model):
    email: str
    name: str = ""
    privileged: bool = False
    is_admin: bool = False
    language: str = "fr"


class SetInstance(_Model):
    actor: str
    rtname: str = Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")
    extra_rtnames: tuple[str, ...] = ()


class CustomFieldSpec(_Model):
    name: str = Field(min_length=1, max_length=64)
    type: Literal["text", "select", "date"] = "text"
    values: tuple[str, ...] = ()


class UpsertQueue(_Model):
    actor: str
    name: str = Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")
    correspond_address: str
    comment_address: str
    language: Literal["fr", "en"] = "fr"
    description: str = ""
    custom_fields: tuple[CustomFieldSpec, ...] = ()
    ccs: tuple[str, ...] = ()  # queue-level watchers, on every ticket of the queue
    admin_ccs: tuple[str, ...] = ()
    ccs_from_create: bool = True  # the Ccs of a ticket's first mail become its Ccs
    ccs_from_replies: bool = False  # … and those of later replies too
    unknown_sender: Literal["accept", "comment"] = "accept"  # a reply from someone not on it
    commands_need_authentication: bool = False  # commands by mail only from a DMARC/DKIM pass


class AttachmentRef(_Model):
    """One stored attachment, by the SHA-256 its transactions list; the actor must see a
    ticket that carries it (the system actor — notify — sees all)."""

    actor: str = Field(min_length=1)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class AttachmentContent(_Model):
    sha256: str
    filename: str
    content_type: str
    content_b64: str


class UpsertUser(_Model):
    actor: str
    email: str
    name: str = ""
    password: str | None = None
    privileged: bool = False
    is_admin: bool = False
    language: Literal["fr", "en"] = "fr"
    groups: tuple[str, ...] = ()


class GrantChange(_Model):
    """Give (or take back) ``right`` to a principal, on ``queue`` or on every queue."""

    actor: str
    right: str
    kind: Literal["everyone", "privileged", "group", "role", "user"]
    name: str = ""
    queue: str | None = None


class ActorOnly(_Model):
    actor: str


class BookmarkChange(_Model):
    """Bookmark or unbookmark a ticket for the actor; ``list`` returns their bookmarks."""

    actor: str
    action: Literal["add", "remove", "list"]
    ticket: int | None = Field(default=None, ge=1)


class ReminderChange(_Model):
    """A dated to-do on a ticket, owned by an agent (RT's reminders)."""

    actor: str
    action: Literal["add", "done", "list"]
    ticket: int | None = Field(default=None, ge=1)
    subject: str | None = Field(default=None, max_length=200)
    due: str | None = None  # YYYY-MM-DD
    owner: str | None = None  # defaults to the actor
    reminder: str | None = None  # its id, for done
