"""What agents and users do to a ticket (pure): each command is checked against the
actor's rights, then turned into the ticket's next version and one transaction.

``decide`` takes everything as values (the ticket, the actor, the grants, the time, the
new transaction's id) and returns values; the service persists and publishes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from services.tickets.domain import lifecycle
from services.tickets.domain.custom_fields import CustomFieldDefinition, find_definition
from services.tickets.domain.model import LINK_KINDS, Ticket, Transaction
from services.tickets.domain.rights import Actor, Grant, has_right, require, roles_of
from shared.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from shared.events.ticket import NOBODY, AttachmentInfo, MessageInfo
from shared.mail.addresses import normalize_address

ROLE_FIELDS = {"Requestor": "requestors", "Cc": "ccs", "AdminCc": "admin_ccs"}


@dataclass(frozen=True)
class Reply:
    text: str
    attachments: tuple[AttachmentInfo, ...] = ()  # files stored already, by their hash


@dataclass(frozen=True)
class Comment:
    text: str
    attachments: tuple[AttachmentInfo, ...] = ()


@dataclass(frozen=True)
class SetStatus:
    status: str
    text: str | None = None  # a message recorded with the change (e.g. the resolution)


@dataclass(frozen=True)
class Take:
    pass


@dataclass(frozen=True)
class Steal:
    pass


@dataclass(frozen=True)
class Assign:
    owner: str


@dataclass(frozen=True)
class Untake:
    pass


@dataclass(frozen=True)
class AddWatcher:
    role: str
    email: str


@dataclass(frozen=True)
class RemoveWatcher:
    role: str
    email: str


@dataclass(frozen=True)
class SetPriority:
    priority: int


@dataclass(frozen=True)
class SetSubject:
    subject: str


@dataclass(frozen=True)
class Link:
    kind: str  # DependsOn, MemberOf (the target is the parent) or RefersTo
    target: int


@dataclass(frozen=True)
class Unlink:
    kind: str
    target: int


@dataclass(frozen=True)
class Forward:
    to: tuple[str, ...]
    text: str = ""  # a note for the recipients; the ticket's history goes with it
    attachments: tuple[AttachmentInfo, ...] = ()  # files of the note


@dataclass(frozen=True)
class Move:
    queue: str


@dataclass(frozen=True)
class SetDue:
    due: str  # YYYY-MM-DD, or empty to clear


@dataclass(frozen=True)
class SetStarts:
    starts: str  # YYYY-MM-DD, or empty to clear: when work on the ticket may begin


@dataclass(frozen=True)
class SetCustomField:
    name: str
    value: str  # empty clears the field


Command = (
    Reply
    | Comment
    | SetStatus
    | Take
    | Steal
    | Assign
    | Untake
    | AddWatcher
    | RemoveWatcher
    | SetPriority
    | SetSubject
    | Link
    | Unlink
    | SetCustomField
    | Forward
    | Move
    | SetDue
    | SetStarts
)


@dataclass(frozen=True)
class Context:
    """Facts ``decide`` needs besides the ticket: who acts, under which grants, when."""

    actor: Actor
    grants: Sequence[Grant]
    now: datetime
    txn_id: str
    # For Assign: the would-be owner as a principal (None if unknown).
    assignee: Actor | None = None
    # The queue's own watchers: they hold their role on every ticket of the queue.
    queue_ccs: tuple[str, ...] = ()
    queue_admin_ccs: tuple[str, ...] = ()
    # For Move: the queues that exist.
    queues: tuple[str, ...] = ()
    # The ticket's queue's custom field definitions (for SetCustomField).
    custom_fields: tuple[CustomFieldDefinition, ...] = ()
    # For resolving: the statuses of what the ticket depends on, and of its children.
    depends_on: Sequence[lifecycle.LinkedTicket] = field(default=())
    children: Sequence[lifecycle.LinkedTicket] = field(default=())


def _require(ctx: Context, ticket: Ticket, right: str) -> None:
    require(
        ctx.actor,
        right,
        queue=ticket.queue,
        grants=ctx.grants,
        roles=roles_of(ctx.actor, ticket, ctx.queue_ccs, ctx.queue_admin_ccs),
        what=f"ticket #{ticket.id}",
    )


def _can(ctx: Context, ticket: Ticket, right: str, actor: Actor | None = None) -> bool:
    who = actor or ctx.actor
    roles = roles_of(who, ticket, ctx.queue_ccs, ctx.queue_admin_ccs)
    return has_right(who, right, queue=ticket.queue, grants=ctx.grants, roles=roles)


def _txn(ticket: Ticket, after: Ticket, ctx: Context, kind: str, **values: object) -> Transaction:
    return Transaction(
        id=ctx.txn_id,
        ticket=ticket.id,
        seq=after.version,
        type=kind,
        creator=ctx.actor.email,
        created=ctx.now,
        **values,  # type: ignore[arg-type]
    )


def _message(
    ctx: Context, ticket: Ticket, text: str, attachments: tuple[AttachmentInfo, ...] = ()
) -> MessageInfo:
    if not text.strip() and not attachments:
        raise InvalidInputError("the message is empty")
    return MessageInfo(
        subject=ticket.subject, from_address=ctx.actor.email, text=text, attachments=attachments
    )


def decide(ticket: Ticket, command: Command, ctx: Context) -> tuple[Ticket, Transaction]:
    """The ticket after ``command``, and the transaction that records it."""
    _require(ctx, ticket, "ShowTicket")
    if ticket.status == "deleted" and not isinstance(command, SetStatus):
        raise ConflictError(f"ticket #{ticket.id} is deleted: restore it first")
    match command:
        case Reply(text=text, attachments=files):
            _require(ctx, ticket, "ReplyToTicket")
            is_agent = ctx.actor.privileged or ctx.actor.is_admin
            status = lifecycle.status_after_correspondence(ticket.status, by_agent=is_agent)
            after = ticket.with_changes(
                ctx.now, status=status, resolved=_resolved(ticket, status, ctx)
            )
            changed = status != ticket.status
            return after, _txn(
                ticket,
                after,
                ctx,
                "correspond",
                message=_message(ctx, ticket, text, files),
                old_value=ticket.status if changed else None,
                new_value=status if changed else None,
            )
        case Comment(text=text, attachments=files):
            _require(ctx, ticket, "CommentOnTicket")
            after = ticket.with_changes(ctx.now)
            note = _message(ctx, ticket, text, files)
            return after, _txn(ticket, after, ctx, "comment", message=note)
        case SetStatus(status=status, text=text):
            lifecycle.check_transition(ticket.status, status)
            _require(ctx, ticket, lifecycle.right_for_transition(ticket.status, status))
            if status == "resolved":
                lifecycle.check_can_resolve(ctx.depends_on, ctx.children)
            after = ticket.with_changes(
                ctx.now, status=status, resolved=_resolved(ticket, status, ctx)
            )
            message = _message(ctx, ticket, text) if text else None
            return after, _txn(
                ticket,
                after,
                ctx,
                "status",
                old_value=ticket.status,
                new_value=status,
                message=message,
            )
        case Take():
            if ticket.owner != NOBODY:
                raise ConflictError(
                    f"ticket #{ticket.id} is owned by {ticket.owner}: steal it instead"
                )
            _require(ctx, ticket, "OwnTicket")
            if not (_can(ctx, ticket, "TakeTicket") or _can(ctx, ticket, "ModifyTicket")):
                _require(ctx, ticket, "TakeTicket")
            return _set_owner(ticket, ctx, ctx.actor.email, "take")
        case Steal():
            if ticket.owner in (NOBODY, ctx.actor.email):
                raise ConflictError(f"ticket #{ticket.id} is not owned by someone else: take it")
            _require(ctx, ticket, "OwnTicket")
            if not _can(ctx, ticket, "ModifyTicket"):  # RT: either right lets one steal
                _require(ctx, ticket, "StealTicket")
            return _set_owner(ticket, ctx, ctx.actor.email, "steal")
        case Assign(owner=owner):
            owner = normalize_address(owner) if owner != NOBODY else NOBODY
            _require(ctx, ticket, "ModifyTicket")
            if owner == ticket.owner:
                raise ConflictError(f"{owner} already owns ticket #{ticket.id}")
            if owner != NOBODY and (
                ctx.assignee is None or not _can(ctx, ticket, "OwnTicket", ctx.assignee)
            ):
                raise PermissionDeniedError(
                    f"{owner} lacks the right OwnTicket on ticket #{ticket.id}", right="OwnTicket"
                )
            return _set_owner(ticket, ctx, owner, "give" if owner != NOBODY else "untake")
        case Untake():
            if ticket.owner == NOBODY:
                raise ConflictError(f"ticket #{ticket.id} has no owner")
            if ticket.owner != ctx.actor.email:
                _require(ctx, ticket, "ModifyTicket")
            return _set_owner(ticket, ctx, NOBODY, "untake")
        case AddWatcher(role=role, email=email) | RemoveWatcher(role=role, email=email):
            return _watchers(ticket, command, ctx, role, normalize_address(email))
        case SetPriority(priority=priority):
            _require(ctx, ticket, "ModifyTicket")
            if not 0 <= priority <= 99:
                raise InvalidInputError("priority is between 0 and 99")
            if priority == ticket.priority:
                raise ConflictError("that is already the current priority")
            after = ticket.with_changes(ctx.now, priority=priority)
            return after, _txn(
                ticket,
                after,
                ctx,
                "set",
                note="priority",
                old_value=str(ticket.priority),
                new_value=str(priority),
            )
        case SetSubject(subject=subject):
            _require(ctx, ticket, "ModifyTicket")
            subject = " ".join(subject.split())
            if not subject or len(subject) > 500:
                raise InvalidInputError("a subject has 1 to 500 characters")
            if subject == ticket.subject:
                raise ConflictError("that is already the current subject")
            after = ticket.with_changes(ctx.now, subject=subject)
            return after, _txn(
                ticket,
                after,
                ctx,
                "set",
                note="subject",
                old_value=ticket.subject,
                new_value=subject,
            )
        case SetCustomField(name=name, value=value):
            _require(ctx, ticket, "ModifyTicket")
            definition = find_definition(ctx.custom_fields, name, ticket.queue)
            new = definition.normalize(value) if value.strip() else ""
            values = dict(ticket.custom_fields)
            old = values.get(definition.name, "")
            if new == old:
                raise ConflictError(f"{definition.name} is already {old!r}")
            if new:
                values[definition.name] = new
            else:
                values.pop(definition.name, None)
            after = ticket.with_changes(ctx.now, custom_fields=tuple(values.items()))
            return after, _txn(
                ticket,
                after,
                ctx,
                "set",
                note=f"CF.{definition.name}",
                old_value=old or None,
                new_value=new or None,
            )
        case Link(kind=kind, target=target) | Unlink(kind=kind, target=target):
            return _link(ticket, command, ctx, kind, target)
        case Forward(to=to, text=text, attachments=files):
            _require(ctx, ticket, "ForwardMessage")
            recipients = tuple(dict.fromkeys(normalize_address(a) for a in to))
            if not recipients or any("@" not in a for a in recipients):
                raise InvalidInputError("forward needs one or more addresses")
            after = ticket.with_changes(ctx.now)
            message = MessageInfo(
                subject=ticket.subject,
                from_address=ctx.actor.email,
                to=recipients,
                text=text,
                attachments=files,
            )
            return after, _txn(
                ticket, after, ctx, "forward", new_value=", ".join(recipients), message=message
            )
        case Move(queue=queue):
            if queue == ticket.queue:
                raise ConflictError(f"ticket #{ticket.id} is already in {queue}")
            if queue not in ctx.queues:
                raise NotFoundError(f"queue {queue} does not exist")
            _require(ctx, ticket, "ModifyTicket")
            require(
                ctx.actor, "CreateTicket", queue=queue, grants=ctx.grants, what=f"queue {queue}"
            )
            after = ticket.with_changes(ctx.now, queue=queue, custom_fields=())
            return after, _txn(
                ticket, after, ctx, "set", note="queue", old_value=ticket.queue, new_value=queue
            )
        case SetDue(due=value):
            return _set_date(ticket, ctx, "due", value)
        case SetStarts(starts=value):
            return _set_date(ticket, ctx, "starts", value)
    raise InvalidInputError(f"unknown command {command!r}")  # pragma: no cover


def _set_date(ticket: Ticket, ctx: Context, name: str, value: str) -> tuple[Ticket, Transaction]:
    _require(ctx, ticket, "ModifyTicket")
    new = _iso_date(value) if value.strip() else None
    old = getattr(ticket, name)
    if new == old:
        raise ConflictError(f"that is already the {name} date")
    after = ticket.with_changes(ctx.now, **{name: new})
    return after, _txn(ticket, after, ctx, "set", note=name, old_value=old, new_value=new)


def _iso_date(value: str) -> str:
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise InvalidInputError(f"a date as YYYY-MM-DD, not {value!r}") from None


def _resolved(ticket: Ticket, status: str, ctx: Context) -> datetime | None:
    if status == ticket.status:
        return ticket.resolved
    if status == "resolved":
        return ctx.now
    return None if status in lifecycle.ACTIVE or status == "new" else ticket.resolved


def _set_owner(ticket: Ticket, ctx: Context, owner: str, how: str) -> tuple[Ticket, Transaction]:
    after = ticket.with_changes(ctx.now, owner=owner)
    return after, _txn(
        ticket, after, ctx, "owner", note=how, old_value=ticket.owner, new_value=owner
    )


def _watchers(
    ticket: Ticket, command: AddWatcher | RemoveWatcher, ctx: Context, role: str, email: str
) -> tuple[Ticket, Transaction]:
    if role not in ROLE_FIELDS:
        raise InvalidInputError(f"unknown watcher role {role!r}; one of {', '.join(ROLE_FIELDS)}")
    if "@" not in email:
        raise InvalidInputError(f"{email!r} is not an address")
    # Anyone with ModifyTicket manages watchers; a user may add or remove themselves with
    # Watch (Cc) or WatchAsAdminCc (AdminCc).
    self_right = {"Cc": "Watch", "AdminCc": "WatchAsAdminCc"}.get(role)
    if not (email == ctx.actor.email and self_right and _can(ctx, ticket, self_right)):
        _require(ctx, ticket, "ModifyTicket")
    name = ROLE_FIELDS[role]
    current: tuple[str, ...] = getattr(ticket, name)
    if isinstance(command, AddWatcher):
        if email in current:
            raise ConflictError(f"{email} is already {role} of ticket #{ticket.id}")
        updated, kind = (*current, email), "add_watcher"
    else:
        if email not in current:
            raise ConflictError(f"{email} is not {role} of ticket #{ticket.id}")
        updated, kind = tuple(a for a in current if a != email), "del_watcher"
    after = ticket.with_changes(ctx.now, **{name: updated})
    return after, _txn(
        ticket,
        after,
        ctx,
        kind,
        note=role,
        new_value=email if kind == "add_watcher" else None,
        old_value=email if kind == "del_watcher" else None,
    )


def _link(
    ticket: Ticket, command: Link | Unlink, ctx: Context, kind: str, target: int
) -> tuple[Ticket, Transaction]:
    """Links live on the ticket they start from; the target's existence is the service's
    to check (it is another aggregate)."""
    if kind not in LINK_KINDS:
        raise InvalidInputError(f"unknown link {kind!r}; one of {', '.join(LINK_KINDS)}")
    if target == ticket.id:
        raise InvalidInputError("a ticket cannot be linked to itself")
    _require(ctx, ticket, "ModifyTicket")
    link = (kind, target)
    if isinstance(command, Link):
        if link in ticket.links:
            raise ConflictError(f"ticket #{ticket.id} already {kind} #{target}")
        after = ticket.with_changes(ctx.now, links=(*ticket.links, link))
        return after, _txn(ticket, after, ctx, "link", note=kind, new_value=str(target))
    if link not in ticket.links:
        raise ConflictError(f"ticket #{ticket.id} has no {kind} link to #{target}")
    after = ticket.with_changes(ctx.now, links=tuple(x for x in ticket.links if x != link))
    return after, _txn(ticket, after, ctx, "unlink", note=kind, old_value=str(target))


@dataclass(frozen=True)
class Create:
    queue: str
    subject: str
    text: str
    requestors: tuple[str, ...] = ()
    ccs: tuple[str, ...] = ()
    admin_ccs: tuple[str, ...] = ()
    custom_fields: tuple[tuple[str, str], ...] = ()
    attachments: tuple[AttachmentInfo, ...] = ()  # files stored already, by their hash


def create(command: Create, ticket_id: int, ctx: Context) -> tuple[Ticket, Transaction]:
    """A ticket opened from the web or the API (mail has its own path): CreateTicket on the
    queue; the requestors default to the actor."""
    require(ctx.actor, "CreateTicket", queue=command.queue, grants=ctx.grants)
    subject = " ".join(command.subject.split())
    if not subject or len(subject) > 500:
        raise InvalidInputError("a subject has 1 to 500 characters")

    def addresses(values: tuple[str, ...]) -> tuple[str, ...]:
        found = tuple(dict.fromkeys(normalize_address(v) for v in values))
        bad = [a for a in found if "@" not in a]
        if bad:
            raise InvalidInputError(f"not an address: {', '.join(bad)}")
        return found

    fields = {}
    for name, value in command.custom_fields:
        definition = find_definition(ctx.custom_fields, name, command.queue)
        if value.strip():
            fields[definition.name] = definition.normalize(value)
    ticket = Ticket(
        id=ticket_id,
        queue=command.queue,
        subject=subject,
        status="new",
        created=ctx.now,
        updated=ctx.now,
        version=1,
        requestors=addresses(command.requestors) or (ctx.actor.email,),
        ccs=addresses(command.ccs),
        admin_ccs=addresses(command.admin_ccs),
        custom_fields=tuple(fields.items()),
    )
    message = MessageInfo(
        subject=subject,
        from_address=ctx.actor.email,
        text=command.text,
        attachments=command.attachments,
    )
    txn = Transaction(
        id=ctx.txn_id,
        ticket=ticket_id,
        seq=1,
        type="create",
        creator=ctx.actor.email,
        created=ctx.now,
        message=message if command.text.strip() or command.attachments else None,
    )
    return ticket, txn


def merge_in(target: Ticket, source: Ticket, ctx: Context) -> tuple[Ticket, Transaction]:
    """``target`` absorbs ``source``: its watchers and the Message-IDs it has seen (so the
    replies to either keep threading), recorded on ``target``."""
    _check_merge(target, source, ctx)

    def union(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*a, *b)))

    after = target.with_changes(
        ctx.now,
        requestors=union(target.requestors, source.requestors),
        ccs=union(target.ccs, source.ccs),
        admin_ccs=union(target.admin_ccs, source.admin_ccs),
        message_ids=union(target.message_ids, source.message_ids),
    )
    return after, _txn(target, after, ctx, "merge", new_value=str(source.id), note="merged in")


def merge_away(source: Ticket, target: Ticket, ctx: Context) -> tuple[Ticket, Transaction]:
    """``source`` now leads to ``target`` (recorded on ``source``)."""
    _check_merge(target, source, ctx)
    after = source.with_changes(ctx.now, merged_into=target.id)
    return after, _txn(source, after, ctx, "merged", new_value=str(target.id))


def _check_merge(target: Ticket, source: Ticket, ctx: Context) -> None:
    if target.id == source.id:
        raise InvalidInputError("a ticket cannot be merged into itself")
    if source.merged_into is not None or target.merged_into is not None:
        raise ConflictError("a merged ticket cannot be merged again")
    _require(ctx, source, "ModifyTicket")
    _require(ctx, target, "ModifyTicket")
