"""Events about tickets: one ``ticket.txn.<kind>`` per transaction of a ticket's history.

Each carries the ticket as it stands after the transaction (with its ``version``) so that
consumers never need to read the tickets service's collections, and can order updates.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.events.envelope import EventPayload
from shared.events.mail import LoopFacts

Status = Literal["new", "open", "stalled", "resolved", "rejected", "deleted"]
NOBODY = "Nobody"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class QueueInfo(_Frozen):
    name: str
    correspond_address: str
    comment_address: str
    rtname: str
    language: str = "fr"
    # Queue-level watchers: on every ticket of the queue (RT's queue Cc and AdminCc).
    ccs: tuple[str, ...] = ()
    admin_ccs: tuple[str, ...] = ()


class TicketSnapshot(_Frozen):
    id: int = Field(ge=1)
    queue: str
    subject: str
    status: Status
    owner: str = NOBODY
    requestors: tuple[str, ...] = ()
    ccs: tuple[str, ...] = ()
    admin_ccs: tuple[str, ...] = ()
    priority: int = 0
    created: AwareDatetime
    updated: AwareDatetime
    resolved: AwareDatetime | None = None
    # Links from this ticket, by kind: DependsOn, MemberOf (its parents), RefersTo.
    links: dict[str, list[int]] = Field(default_factory=dict)
    custom_fields: dict[str, str] = Field(default_factory=dict)
    due: str | None = None
    starts: str | None = None
    merged_into: int | None = None
    version: int = Field(ge=1)


class AttachmentInfo(_Frozen):
    filename: str
    content_type: str
    size: int
    sha256: str
    # The part's Content-ID, without its angle brackets: what the HTML body's ``cid:``
    # URLs name when it shows the file inline (an image in a signature, a screenshot).
    content_id: str | None = None


class TextFold(_Frozen):
    """A part of a message's text a reader may fold away: ``text[start:end]``."""

    kind: Literal["quote", "signature"]
    start: int = Field(ge=0)
    end: int = Field(ge=0)


class MessageInfo(_Frozen):
    message_id: str | None = None
    subject: str = ""
    from_address: str = ""
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    text: str = ""
    html: str | None = None  # sanitised
    # The headers that matter to people and to threading (Date, In-Reply-To…).
    headers: dict[str, str] = Field(default_factory=dict)
    attachments: tuple[AttachmentInfo, ...] = ()
    # Quoted text and signatures found in ``text``, for folding them when shown.
    folds: tuple[TextFold, ...] = ()


CommandOutcomeKind = Literal["applied", "unchanged", "refused", "invalid", "unknown"]


class MailCommandOutcome(_Frozen):
    """What became of one command line of a mail (``AddCc: …``)."""

    line: str  # as written
    command: str = ""  # its canonical name (AddCc…); empty when unknown
    outcome: CommandOutcomeKind
    reason: str = ""

    @property
    def failed(self) -> bool:
        return self.outcome in ("refused", "invalid", "unknown")


class AuthenticationInfo(_Frozen):
    """The verdict of the site's trusted MTA (its ``Authentication-Results`` header)."""

    verdict: Literal["pass", "fail", "none"] = "none"
    authserv_id: str = ""
    spf: str = ""
    dkim: str = ""
    dmarc: str = ""


class MailFacts(_Frozen):
    """What the tickets service made of a mail, beyond its message: who sent it, whether
    the site's MTA authenticated it, the commands it carried, the watchers it added."""

    sender: str
    authentication: AuthenticationInfo = AuthenticationInfo()
    # False when the sender is neither a watcher of the ticket nor an agent.
    sender_on_ticket: bool = True
    commands: tuple[MailCommandOutcome, ...] = ()
    ccs_added: tuple[str, ...] = ()
    # For a delivery report (DSN): the addresses our mail could not reach.
    failed_recipients: tuple[str, ...] = ()
    defects: tuple[str, ...] = ()

    @property
    def failed_commands(self) -> tuple[MailCommandOutcome, ...]:
        return tuple(c for c in self.commands if c.failed)


class TransactionInfo(_Frozen):
    id: str
    seq: int = Field(ge=1)
    type: str
    creator: str
    created: AwareDatetime
    message: MessageInfo | None = None
    old_value: str | None = None
    new_value: str | None = None
    note: str | None = None
    mail: MailFacts | None = None


class TicketTxnEvent(EventPayload):
    """Common shape of every ``ticket.txn.*`` event."""

    ticket: TicketSnapshot
    transaction: TransactionInfo
    queue: QueueInfo
    # Set when the transaction came from a mail: what ingest found about its nature.
    loop: LoopFacts | None = None
    source_mail_key: str | None = None


class TicketCreated(TicketTxnEvent):
    event_type: ClassVar[str] = "ticket.txn.create"


class TicketCorresponded(TicketTxnEvent):
    event_type: ClassVar[str] = "ticket.txn.correspond"


class TicketCommented(TicketTxnEvent):
    event_type: ClassVar[str] = "ticket.txn.comment"


class TicketStatusChanged(TicketTxnEvent):
    """old_value → new_value; a message, if any, is the one given with the change."""

    event_type: ClassVar[str] = "ticket.txn.status"


class TicketOwnerChanged(TicketTxnEvent):
    """note says how: take, steal, give or untake."""

    event_type: ClassVar[str] = "ticket.txn.owner"


class TicketWatcherAdded(TicketTxnEvent):
    """note is the role (Requestor, Cc, AdminCc); new_value the address."""

    event_type: ClassVar[str] = "ticket.txn.add_watcher"


class TicketWatcherRemoved(TicketTxnEvent):
    """note is the role; old_value the address."""

    event_type: ClassVar[str] = "ticket.txn.del_watcher"


class TicketFieldSet(TicketTxnEvent):
    """note names the field (subject, priority…); old_value → new_value."""

    event_type: ClassVar[str] = "ticket.txn.set"


class TicketForwarded(TicketTxnEvent):
    """The ticket was sent by mail to new_value (addresses); the message is the note."""

    event_type: ClassVar[str] = "ticket.txn.forward"


class TicketMergedIn(TicketTxnEvent):
    """Another ticket (new_value) was merged into this one: its watchers came along."""

    event_type: ClassVar[str] = "ticket.txn.merge"


class TicketMergedAway(TicketTxnEvent):
    """This ticket was merged into new_value; its number now leads there."""

    event_type: ClassVar[str] = "ticket.txn.merged"


class TicketLinked(TicketTxnEvent):
    """note is the link kind (DependsOn, MemberOf, RefersTo); new_value the target ticket."""

    event_type: ClassVar[str] = "ticket.txn.link"


class TicketUnlinked(TicketTxnEvent):
    """note is the link kind; old_value the target ticket."""

    event_type: ClassVar[str] = "ticket.txn.unlink"


class TicketBounced(TicketTxnEvent):
    """A delivery report (DSN) says one of our mails about this ticket did not arrive:
    new_value the failing addresses; the report itself is the message."""

    event_type: ClassVar[str] = "ticket.txn.bounce"


TICKET_TXN_EVENTS: dict[str, type[TicketTxnEvent]] = {
    cls.event_type: cls
    for cls in (
        TicketCreated,
        TicketCorresponded,
        TicketCommented,
        TicketStatusChanged,
        TicketOwnerChanged,
        TicketWatcherAdded,
        TicketWatcherRemoved,
        TicketFieldSet,
        TicketLinked,
        TicketUnlinked,
        TicketForwarded,
        TicketMergedIn,
        TicketMergedAway,
        TicketBounced,
    )
}
