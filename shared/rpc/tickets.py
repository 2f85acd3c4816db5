"""RPC contracts of the tickets service."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.events.ticket import TicketSnapshot, TransactionInfo

MAIL_ROUTES = "tickets.mail_routes"
GET_TICKET = "tickets.get"
GET_HISTORY = "tickets.history"
TICKET_VIEW = "tickets.view"
LIST_TICKETS = "tickets.list"
TICKET_COMMAND = "tickets.command"
CREATE_TICKET = "tickets.create"
BOOKMARKS = "tickets.bookmarks"
REMINDERS = "tickets.reminders"
GET_ATTACHMENT = "tickets.attachment"
AUTHENTICATE = "tickets.users.authenticate"
API_TOKENS = "tickets.users.tokens"
GET_USER = "tickets.users.get"
LIST_USERS = "tickets.users.list"
GROUPS = "tickets.groups"
SAVED_SEARCHES = "tickets.saved_searches"
DASHBOARDS = "tickets.dashboards"
RESPONSES = "tickets.responses"
USER_PREFERENCES = "tickets.users.preferences"
LIST_QUEUES = "tickets.queues"
AUTHENTICATE_TOKEN = "tickets.users.authenticate_token"  # noqa: S105 - a queue name
ADMIN_SET_INSTANCE = "tickets.admin.set_instance"
ADMIN_UPSERT_QUEUE = "tickets.admin.upsert_queue"
ADMIN_UPSERT_USER = "tickets.admin.upsert_user"
ADMIN_GRANT = "tickets.admin.grant"
ADMIN_REVOKE = "tickets.admin.revoke"
ADMIN_LIST_GRANTS = "tickets.admin.grants"
VISIBILITY = "tickets.visibility"
EXPORT = "tickets.export"

SYSTEM_ACTOR = "system"  # the operator's CLI; the web gateway never sends it

# The rights a grant may name, and the roles a grant may go to (RT's): the tickets service
# checks them, the web interface offers them.
RIGHTS = (
    "SeeQueue",
    "CreateTicket",
    "ShowTicket",
    "ShowTicketComments",
    "ReplyToTicket",
    "CommentOnTicket",
    "ModifyTicket",
    "OwnTicket",
    "TakeTicket",
    "StealTicket",
    "Watch",
    "WatchAsAdminCc",
    "ForwardMessage",
    "DeleteTicket",
    "AdminQueue",
)
ROLES = ("Requestor", "Cc", "AdminCc", "Owner")


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


class TicketView(_Model):
    """A ticket as its page shows it. A caller that keeps the history it was sent names
    how much of it it has (``known`` transactions, ``known_digest`` of their ids): when
    that is still the start of the history, only what follows is sent again. ``desk``
    asks, for an agent, what the page's forms offer too: the queues they may see and their
    canned responses (one call for the whole page)."""

    actor: str = Field(min_length=1)
    id: int = Field(ge=1)
    known: int = Field(default=0, ge=0)
    known_digest: str = Field(default="", max_length=64)
    desk: bool = False


class TicketViewAnswer(_Model):
    ticket: dict[str, Any]
    history: list[dict[str, Any]]  # the transactions from ``history_from`` on
    history_from: int = Field(ge=0)
    history_digest: str  # of every transaction id the actor sees, in order
    bookmarked: bool
    queues: list[dict[str, Any]] = Field(default_factory=list)  # QueuePublic, with ``desk``
    responses: list[dict[str, Any]] = Field(default_factory=list)  # OwnedItem, with ``desk``


def history_digest(ids: Iterable[str]) -> str:
    """A short fingerprint of a history's transaction ids, in order (see TicketView)."""
    return hashlib.blake2b("\n".join(ids).encode(), digest_size=16).hexdigest()


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


# Files sent with one message from the web or the API (mail brings its own, unbounded
# here: the MTA limits a mail's size).
MAX_NEW_ATTACHMENTS = 20
MAX_NEW_ATTACHMENTS_BYTES = 25 * 1024 * 1024  # decoded, all files together (25 MB)


class NewAttachment(_Model):
    """A file sent with a message from the web or the API, its bytes in base64. Only the
    name's last part is kept (``C:\\tmp\\devis.pdf`` is ``devis.pdf``); a type that is not
    ``type/subtype`` is ``application/octet-stream``."""

    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(default="application/octet-stream", max_length=255)
    # Bounded a little above the whole message's limit; the sum is checked by the service.
    content_b64: str = Field(max_length=36_000_000)


class TicketCommand(_Model):
    """One action on one ticket. ``command_id`` makes it idempotent: the same id sent twice
    acts once, and the second answer is the first one's. ``attachments`` go with a reply, a
    comment or a forward: at most MAX_NEW_ATTACHMENTS files, MAX_NEW_ATTACHMENTS_BYTES
    decoded in all."""

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
    attachments: tuple[NewAttachment, ...] = ()


class CreateTicket(_Model):
    """Open a ticket from the web or the API; ``command_id`` makes it idempotent. Its
    ``attachments`` are bounded as a command's."""

    command_id: str = Field(min_length=8, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")
    actor: str = Field(min_length=1)
    queue: str
    subject: str = Field(min_length=1, max_length=500)
    text: str = Field(default="", max_length=1_000_000)
    requestors: tuple[str, ...] = ()
    ccs: tuple[str, ...] = ()
    admin_ccs: tuple[str, ...] = ()
    custom_fields: dict[str, str] = Field(default_factory=dict)
    attachments: tuple[NewAttachment, ...] = ()


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
    session_epoch: int = 0  # see UserDetails


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


class QueuePublic(_Model):
    """A queue as an agent sees it (``tickets.queues``: those they have SeeQueue on)."""

    name: str
    correspond_address: str
    comment_address: str
    language: Literal["fr", "en"] = "fr"
    description: str = ""
    custom_fields: tuple[CustomFieldSpec, ...] = ()
    ccs: tuple[str, ...] = ()
    admin_ccs: tuple[str, ...] = ()
    ccs_from_create: bool = True
    ccs_from_replies: bool = False
    unknown_sender: Literal["accept", "comment"] = "accept"
    commands_need_authentication: bool = False


class UserRef(_Model):
    """A user, for an administrator or for themselves."""

    actor: str
    email: str = Field(min_length=3, max_length=320)


Language = Literal["fr", "en"]


class UserDetails(_Model):
    email: str
    name: str = ""
    privileged: bool = False
    is_admin: bool = False
    language: Language = "fr"
    groups: tuple[str, ...] = ()
    has_password: bool = False
    signature: str = ""  # put under one's messages by the web interface
    home_layout: tuple[str, ...] = ()  # the home page's boxes, in order; empty: the default
    # Counts the user's sign-outs (a logout, a new password): a web session holds the
    # value it was opened under and ends when the value changes.
    session_epoch: int = 0


class ListUsers(_Model):
    """A page of users, by address (administrators): those whose address or name holds
    ``q`` (case and accents aside), or all."""

    actor: str = Field(min_length=1)
    q: str | None = Field(default=None, max_length=320)
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0)


class UserList(_Model):
    """``total`` users match; ``items`` are those of the page asked."""

    total: int
    items: tuple[UserDetails, ...]


class GroupPublic(_Model):
    """A group, as its members name it (groups live on the users: ``UserDetails.groups``)."""

    name: str
    members: tuple[str, ...]


HomeWidget = Literal[
    "mine", "unowned", "reminders", "bookmarks", "saved_searches", "dashboard", "requests"
]
MAX_SIGNATURE = 2000
MAX_HOME_WIDGETS = 10


class PreferencesChange(_Model):
    """A user changes their own preferences; a field left out (None) stays as it is. The
    home layout names each box once. Answered with the user's :class:`UserDetails`."""

    actor: str
    language: Language | None = None
    signature: str | None = Field(default=None, max_length=MAX_SIGNATURE)
    home_layout: tuple[HomeWidget, ...] | None = Field(default=None, max_length=MAX_HOME_WIDGETS)
    # A logout: every web session of the user opened until then ends (a copied cookie too).
    sign_out: bool = False


class AttachmentRef(_Model):
    """One stored attachment, by the SHA-256 its transactions list; the actor must see a
    ticket that carries it (the system actor — notify — sees all). Naming ``ticket`` (the
    page it is downloaded from) makes the check one ticket's history, not a search."""

    actor: str = Field(min_length=1)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    ticket: int | None = Field(default=None, ge=1)


class AttachmentContent(_Model):
    sha256: str
    filename: str
    content_type: str
    content_b64: str


class SavedSearchBody(_Model):
    """A search kept under a name: the search bar's text, or an advanced condition (as the
    search service takes it), with its sort — and whether the actor's groups see it too."""

    name: str = Field(min_length=1, max_length=100)
    q: str | None = Field(default=None, min_length=1, max_length=1000)
    condition: dict[str, Any] | None = None
    sort: tuple[dict[str, str], ...] = Field(default=(), max_length=4)
    shared_with_groups: bool = False


WidgetKind = Literal["search", "counts", "by_status", "created_resolved", "resolution"]


class Widget(_Model):
    """One box of a dashboard: a saved search's tickets, or a chart of its tickets."""

    kind: WidgetKind
    saved_search: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")
    title: str = Field(default="", max_length=100)


class DashboardBody(_Model):
    name: str = Field(min_length=1, max_length=100)
    widgets: tuple[Widget, ...] = Field(default=(), max_length=24)
    shared_with_groups: bool = False


class SavedSearchChange(_Model):
    """``list`` (one's own and those shared with one's groups), ``get``, ``put`` (create
    without ``id``), ``delete`` (one's own)."""

    actor: str
    action: Literal["list", "get", "put", "delete"]
    id: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")
    body: SavedSearchBody | None = None


class DashboardChange(_Model):
    actor: str
    action: Literal["list", "get", "put", "delete"]
    id: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")
    body: DashboardBody | None = None


class ResponseBody(_Model):
    """A canned response (RT's articles, Zammad's text modules): a text an agent puts into
    a reply or a comment, under a name — and whether the actor's groups see it too."""

    name: str = Field(min_length=1, max_length=100)
    text: str = Field(min_length=1, max_length=20_000)
    shared_with_groups: bool = False


class ResponseChange(_Model):
    actor: str
    action: Literal["list", "get", "put", "delete"]
    id: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")
    body: ResponseBody | None = None


class OwnedItem(_Model):
    """A saved search, a dashboard or a canned response, as stored."""

    id: str
    owner: str
    groups: tuple[str, ...] = ()  # the owner's groups when shared, else none
    updated: datetime
    body: dict[str, Any]


class TokenChange(_Model):
    """A user's API tokens: ``create`` (answered once with the secret), ``list``, ``revoke``."""

    actor: str
    action: Literal["create", "list", "revoke"]
    name: str | None = Field(default=None, min_length=1, max_length=100)  # for create
    token_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{16}$")  # for revoke


class TokenPublic(_Model):
    id: str
    name: str
    created: datetime
    last_used: datetime | None = None
    secret: str | None = None  # only in the answer to create


class TokenCredentials(_Model):
    token: str = Field(min_length=20, max_length=200)


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


class QueueScope(_Model):
    """Queues where something holds: every queue, or these (sorted)."""

    every_queue: bool = False
    queues: tuple[str, ...] = ()


class RightReach(_Model):
    """Where one right reaches for one user: on whole queues (grants to everyone, privileged,
    their groups, themselves, and roles they hold on every ticket of a queue as its
    queue-level Cc/AdminCc), and on the tickets where they hold a role."""

    direct: QueueScope
    # Keys among Requestor, Cc, AdminCc, Owner; a role reaching no further is omitted.
    roles: dict[str, QueueScope]


class Visibility(_Model):
    """What ``email`` may see (``tickets.visibility``), for a search filter: a ticket is
    visible when ``show_ticket.direct`` covers its queue, or when the user holds on it a
    role (Requestor, Cc, AdminCc, Owner) whose scope covers its queue; its comments
    likewise with ``show_comments``. Deleted tickets are for administrators only."""

    email: str
    is_admin: bool
    show_ticket: RightReach
    show_comments: RightReach  # ShowTicketComments


class ExportRequest(_Model):
    """Stream every ticket and every transaction carrying a message to the queue
    ``reply_to`` (``tickets.export``; for the system actor or an administrator). The
    queue receives :class:`ExportBatch` messages: every ``tickets`` batch, then every
    ``messages`` batch, then one ``end`` (or ``failed``).

    The queue must exist and must not be exclusive (RabbitMQ hides an exclusive queue
    from other connections, even its message count): declare a temporary one auto-delete,
    so that it goes, and the export stops, when its reader does. The export waits while
    more than a few batches wait in the queue: read it with a small prefetch."""

    actor: str
    reply_to: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,200}$")
    batch_size: int = Field(500, ge=1, le=2000)


class ExportStarted(_Model):
    """The export has begun; the counts are estimates (``transactions`` counts every
    transaction, whether or not it carries a message)."""

    export_id: str
    tickets: int
    transactions: int


class ExportedMessage(_Model):
    ticket: int
    transaction: TransactionInfo


ExportBatchKind = Literal["tickets", "messages", "end", "failed"]


class ExportBatch(_Model):
    """One message of an export; ``sent_*`` are running totals (in ``end``: the final
    counts); ``detail`` says why it ``failed``."""

    export_id: str
    kind: ExportBatchKind
    tickets: list[TicketSnapshot] = []
    messages: list[ExportedMessage] = []
    sent_tickets: int = 0
    sent_messages: int = 0
    detail: str = ""
