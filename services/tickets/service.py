"""The imperative shell of the tickets service: load, decide (domain), persist, publish.

``publish_after_commit``: an event is published only once its transaction document is
durable; the relay publishes whatever a crash left unpublished, so every transaction gets
its event (at least once; consumers are idempotent).
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import logging
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ValidationError
from pymongo.errors import DuplicateKeyError

from services.tickets.adapters.attachments import MongoAttachmentStore
from services.tickets.adapters.mongo_store import MongoTicketStore, ticket_from_doc
from services.tickets.adapters.passwords import hash_password, verify_password
from services.tickets.domain import commands
from services.tickets.domain.custom_fields import CustomFieldDefinition
from services.tickets.domain.directory import members_by_group, user_matches
from services.tickets.domain.files import describe, read_new_attachments
from services.tickets.domain.lifecycle import LinkedTicket
from services.tickets.domain.mail_commands import (
    CommandBlock,
    command_outcome,
    error_outcome,
    extract_commands,
    line_outcome,
    plan_command,
)
from services.tickets.domain.mail_decisions import (
    add_mail_to_ticket,
    is_on_ticket,
    new_ccs_from_mail,
    open_ticket,
    record_bounce,
    record_delivery_failure,
    sender_of,
)
from services.tickets.domain.mail_threading import thread_mail, ticket_ids_in_our_message_ids
from services.tickets.domain.model import Queue, Ticket, Transaction
from services.tickets.domain.owned_items import check_access, owned_item
from services.tickets.domain.preferences import Preferences, change_preferences
from services.tickets.domain.rights import (
    DEFAULT_GRANTS,
    Actor,
    Grant,
    QueueScope,
    has_right,
    require,
    require_admin,
    require_show_ticket,
    right_reach,
    roles_of,
)
from services.tickets.exports import TicketExporter
from shared.errors import (
    AuthenticationFailedError,
    ConflictError,
    InvalidInputError,
    NotConfiguredError,
    NotFoundError,
    PermanentError,
    PermissionDeniedError,
    RetryableError,
    UserError,
)
from shared.events.envelope import AnyEnvelope, Envelope
from shared.events.mail import MailReceived
from shared.events.notify import DeliveryFailed
from shared.events.ticket import (
    NOBODY,
    TICKET_TXN_EVENTS,
    AttachmentInfo,
    CommandOutcomeKind,
    MailCommandOutcome,
    MailFacts,
)
from shared.mail.addresses import is_mailer_daemon, normalize_address
from shared.mail.authentication import authentication_of, header_values
from shared.mail.delivery_reports import DeliveryReport, read_delivery_report
from shared.mail.parsing import ParsedAttachment, ParsedMail, parse_mail
from shared.mail.subject_tag import find_ticket_ids
from shared.messaging import EventPublisher
from shared.observability import current_correlation_id
from shared.rpc import tickets as rpc
from shared.rpc.search import AdvancedSearch

log = logging.getLogger(__name__)

MAX_CONCURRENCY_RETRIES = 20
CONFIG_TTL_SECONDS = 2.0
ACTOR_CACHE_SIZE = 10_000


TOKEN_PREFIX = "gch_"  # noqa: S105 - marks a Guichet token in logs and secret scanners
TOKEN_USE_RESOLUTION = timedelta(minutes=10)  # how precisely a token's last use is noted


def _user_public(user: dict[str, Any]) -> dict[str, Any]:
    return rpc.UserPublic(
        email=user["_id"],
        name=user.get("name", ""),
        privileged=bool(user.get("privileged")),
        is_admin=bool(user.get("is_admin")),
        language=user.get("language", "fr"),
        session_epoch=int(user.get("session_epoch") or 0),
    ).model_dump()


async def _read_files(
    sent: tuple[rpc.NewAttachment, ...],
) -> tuple[tuple[ParsedAttachment, ...], tuple[AttachmentInfo, ...]]:
    """Files sent with a command, decoded and checked, and how its transaction lists them
    (off the event loop: up to 25 MB to decode and hash)."""
    if not sent:
        return (), ()

    def read() -> tuple[tuple[ParsedAttachment, ...], tuple[AttachmentInfo, ...]]:
        files = read_new_attachments(sent)
        return files, tuple(describe(f) for f in files)

    return await asyncio.to_thread(read)


def _preferences_of(user: dict[str, Any]) -> Preferences:
    return Preferences(
        language=user.get("language") or "fr",
        signature=user.get("signature") or "",
        home_layout=tuple(user.get("home_layout") or ()),
    )


def _user_details(user: dict[str, Any]) -> dict[str, Any]:
    preferences = _preferences_of(user)
    return rpc.UserDetails(
        email=user["_id"],
        name=user.get("name", ""),
        privileged=bool(user.get("privileged")),
        is_admin=bool(user.get("is_admin")),
        language=preferences.language,
        groups=tuple(user.get("groups", ())),
        has_password=bool(user.get("password_hash")),
        signature=preferences.signature,
        home_layout=preferences.home_layout,
        session_epoch=int(user.get("session_epoch") or 0),
    ).model_dump()


def _history_item(doc: dict[str, Any]) -> dict[str, Any]:
    """A recorded transaction as histories show it."""
    message = doc.get("message")
    return {
        "id": doc["_id"],
        "seq": doc["seq"],
        "type": doc["type"],
        "creator": doc["creator"],
        "created": doc["created"].isoformat(),
        "old_value": doc.get("old_value"),
        "new_value": doc.get("new_value"),
        "note": doc.get("note"),
        "message": message,
        "mail": doc.get("mail"),
        "text": (message or {}).get("text", ""),
    }


def _owned_public(doc: dict[str, Any]) -> dict[str, Any]:
    return rpc.OwnedItem(
        id=doc["_id"],
        owner=doc["owner"],
        groups=tuple(doc.get("groups", ())),
        updated=doc["updated"],
        body=doc["body"],
    ).model_dump(mode="json")


def _token_public(doc: dict[str, Any], *, secret: str | None = None) -> dict[str, Any]:
    return rpc.TokenPublic(
        id=doc["id"],
        name=doc["name"],
        created=doc["created"],
        last_used=doc.get("last_used"),
        secret=secret,
    ).model_dump(mode="json")


def utc_now_ms() -> datetime:
    """Now, to the millisecond: what MongoDB (and FerretDB) store, so values round-trip."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def ticket_event(
    ticket: Ticket,
    txn: Transaction,
    queue: Queue,
    rtname: str,
    *,
    correlation_id: str,
    causation_id: str | None = None,
    mail: MailReceived | None = None,
) -> Envelope[Any]:
    """The ``ticket.txn.<type>`` event of a transaction; its id is the transaction's, so a
    republished event is recognisably the same event."""
    payload_type = TICKET_TXN_EVENTS[f"ticket.txn.{txn.type}"]
    payload = payload_type(
        ticket=ticket.snapshot(),
        transaction=txn.info(),
        queue=queue.info(rtname),
        loop=mail.loop if mail else None,
        source_mail_key=mail.mail_key if mail else None,
    )
    return Envelope.wrap(
        payload,
        producer="tickets",
        correlation_id=correlation_id,
        causation_id=causation_id,
        event_id=uuid.UUID(txn.id),
        occurred_at=txn.created,
    )


def caused_event(
    after: Ticket,
    txn: Transaction,
    queue: Queue,
    instance: dict[str, Any],
    cause: Envelope[Any],
    *,
    mail: MailReceived | None = None,
) -> Envelope[Any]:
    """The event of a transaction that an incoming event (a mail, a failed delivery)
    caused: same correlation, caused by it."""
    return ticket_event(
        after,
        txn,
        queue,
        instance["rtname"],
        correlation_id=cause.correlation_id,
        causation_id=str(cause.id),
        mail=mail,
    )


# The actions whose message may carry files.
ACTIONS_WITH_FILES = frozenset({"reply", "comment", "forward"})


def to_domain_command(
    cmd: rpc.TicketCommand, files: tuple[AttachmentInfo, ...] = ()
) -> commands.Command:
    """The domain command an RPC request names, with the files it sends (stored by the
    caller); a missing parameter is the caller's error. A reply or a comment needs a text
    unless files go with it."""

    def need(name: str) -> Any:
        value = getattr(cmd, name)
        if value is None:
            raise InvalidInputError(f"{cmd.action} needs {name!r}")
        return value

    if files and cmd.action not in ACTIONS_WITH_FILES:
        raise InvalidInputError(
            f"{cmd.action} carries no files; a reply, a comment or a forward does"
        )
    match cmd.action:
        case "reply":
            return commands.Reply((cmd.text or "") if files else need("text"), files)
        case "comment":
            return commands.Comment((cmd.text or "") if files else need("text"), files)
        case "set_status":
            return commands.SetStatus(need("status"), cmd.text)
        case "take":
            return commands.Take()
        case "steal":
            return commands.Steal()
        case "assign":
            return commands.Assign(need("owner"))
        case "untake":
            return commands.Untake()
        case "add_watcher":
            return commands.AddWatcher(need("role"), need("email"))
        case "remove_watcher":
            return commands.RemoveWatcher(need("role"), need("email"))
        case "set_priority":
            return commands.SetPriority(need("priority"))
        case "set_subject":
            return commands.SetSubject(need("subject"))
        case "link":
            return commands.Link(need("link"), need("target"))
        case "unlink":
            return commands.Unlink(need("link"), need("target"))
        case "set_custom_field":
            return commands.SetCustomField(need("field"), need("value"))
        case "forward":
            return commands.Forward(need("to"), cmd.text or "", files)
        case "move":
            return commands.Move(need("queue"))
        case "set_due":
            return commands.SetDue(need("due"))
        case "set_starts":
            return commands.SetStarts(need("starts"))
        case "merge":  # two tickets: see TicketService._merge
            raise InvalidInputError("merge is not a single-ticket command")
    raise InvalidInputError(f"unknown action {cmd.action!r}")  # pragma: no cover


def actor_of(user: dict[str, Any]) -> Actor:
    return Actor(
        email=user["_id"],
        privileged=bool(user.get("privileged")),
        is_admin=bool(user.get("is_admin")),
        groups=frozenset(user.get("groups") or ()),
    )


def queue_for_address(queues: list[Queue], address: str) -> Queue:
    for queue in queues:
        if address in (queue.correspond_address, queue.comment_address):
            return queue
    raise PermanentError(f"no queue serves {address} any more")


@dataclasses.dataclass
class _MailIntake:
    """One mail on its way into a ticket: what was read from it, who sent it, and what
    the steps of its recording learn (the threading decision, the folded new ticket)."""

    mail: MailReceived
    envelope: Envelope[MailReceived]
    queue: Queue
    queues: list[Queue]
    instance: dict[str, Any]
    parsed: ParsedMail
    actor: Actor
    facts: MailFacts
    block: CommandBlock
    threading_note: str = ""
    folded: Ticket | None = None

    def queue_of(self, ticket: Ticket) -> Queue:
        """The queue a ticket is in now (a command of the mail may have moved it)."""
        return next((q for q in self.queues if q.name == ticket.queue), self.queue)

    @property
    def system_addresses(self) -> set[str]:
        return {a for q in self.queues for a in (q.correspond_address, q.comment_address)}


class TicketService:
    def __init__(
        self,
        store: MongoTicketStore,
        publisher: EventPublisher,
        *,
        clock: Callable[[], datetime] = utc_now_ms,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
        relay_grace: timedelta = timedelta(seconds=5),
        attachments: MongoAttachmentStore | None = None,
        trusted_authserv_ids: tuple[str, ...] = (),
        exporter: TicketExporter | None = None,
    ) -> None:
        self._attachments = attachments
        self._exporter = exporter
        # The site's own MTAs: only their Authentication-Results headers are believed.
        self._trusted_authserv_ids = trusted_authserv_ids
        self._store = store
        self._publisher = publisher
        self._clock = clock
        self._new_id = new_id
        self._relay_grace = relay_grace
        self._config_cache: dict[str, tuple[float, Any]] = {}
        # Actors as rights checks see them, by address (see ``actor``).
        self._actors: dict[str, tuple[float, Actor]] = {}
        self._users_generation = 0  # changed with any user: a reading older is not kept

    # mail -------------------------------------------------------------------------------
    async def on_mail_received(self, envelope: Envelope[MailReceived]) -> None:
        mail = envelope.payload
        if mail.recipient_kind == "postmaster" or mail.queue is None:
            raise PermanentError(f"mail for {mail.recipient} is for an operator, not a queue")
        # No look-up of mail_key first: a redelivered mail is refused by the unique index of
        # the transactions on insert (see _record), which costs nothing on the usual path.
        queues = await self._queues()
        queue = queue_for_address(queues, mail.recipient)
        instance = await self._instance()
        raw = mail.raw_bytes()
        parsed = await asyncio.to_thread(parse_mail, raw)
        if self._attachments is not None:
            # Contents first: a transaction never names a file that is not stored.
            for attachment in parsed.attachments:
                await self._attachments.put(attachment)
        sender = sender_of(parsed, mail.mail_from)
        report = read_delivery_report(
            raw,
            from_mailer_daemon=is_mailer_daemon(parsed.from_address),
        )
        if report is not None:
            await self._record_delivery_report(envelope, parsed, report, instance, sender)
            return
        actor = actor_of(await self._store.ensure_user(sender, self._clock()))
        block = extract_commands(parsed.text)
        if block.lines:
            recorded = await self._already_recorded(mail.mail_key)
            if recorded is not None and recorded["type"] == "create":
                return  # a redelivery of a creation: its commands are part of it already
        if block.lines:  # the lines are recorded as outcomes, not as the message's text
            parsed = dataclasses.replace(parsed, text=block.text, html=None)
        facts = MailFacts(
            sender=sender,
            authentication=authentication_of(
                header_values(raw, "Authentication-Results"),
                parsed.from_address,
                self._trusted_authserv_ids,
            ),
            defects=parsed.defects,
        )
        intake = _MailIntake(mail, envelope, queue, queues, instance, parsed, actor, facts, block)
        ticket = await self._ticket_of_mail(intake)
        if ticket is None:
            await self._record(mail.mail_key, lambda: self._decide_new_ticket(intake))
            return
        outcomes, steps = await self._try_mail_commands(ticket, intake)
        for index, command in steps:
            if isinstance(command, commands.AddWatcher | commands.RemoveWatcher):
                await self._mail_step(intake, ticket.id, index, command)
        await self._record(
            mail.mail_key, lambda: self._decide_mail_on_ticket(ticket.id, intake, outcomes)
        )
        for index, command in steps:
            if not isinstance(command, commands.AddWatcher | commands.RemoveWatcher):
                await self._mail_step(intake, ticket.id, index, command)

    async def _ticket_of_mail(self, intake: _MailIntake) -> Ticket | None:
        """The ticket a mail belongs to (tag, then Message-IDs), or None for a new one."""
        parsed, instance = intake.parsed, intake.instance
        # The mail's own Message-ID counts too: the same mail sent to both addresses of a
        # queue lands on one ticket, once per address.
        # The likeliest first: the mail it answers, then its References from the newest.
        seen_ids = [
            *parsed.in_reply_to,
            *reversed(parsed.references),
            *filter(None, [parsed.message_id]),
        ]
        by_message_id = await self._store.ticket_by_message_ids(seen_ids)
        candidates = await self._candidate_tickets(parsed, instance, by_message_id)
        decision = thread_mail(
            subject=parsed.subject,
            referenced_ids=(*parsed.in_reply_to, *parsed.references),
            rtnames=[instance["rtname"], *instance.get("extra_rtnames", [])],
            queue=intake.queue.name,
            ticket_queues=candidates,
            ticket_by_message_id=by_message_id,
        )
        intake.threading_note = decision.reason
        if decision.ticket_id is None:
            return None
        return await self._effective(decision.ticket_id)

    def _mail_event(self, after: Ticket, txn: Transaction, intake: _MailIntake) -> Envelope[Any]:
        return caused_event(
            after, txn, intake.queue_of(after), intake.instance, intake.envelope, mail=intake.mail
        )

    async def _decide_new_ticket(
        self, intake: _MailIntake
    ) -> tuple[Ticket, Transaction, Envelope[Any]]:
        """A new ticket from a mail; its commands are folded into it (the Ccs a command
        names are Ccs of the creation, so they receive the creating message)."""
        now = self._clock()
        opened, txn = open_ticket(
            ticket_id=await self._store.reserve_ticket_id(intake.mail.mail_key),
            txn_id=self._new_id(),
            queue=intake.queue,
            parsed=intake.parsed,
            sender=intake.facts.sender,
            now=now,
            threading_note=intake.threading_note,
            system_addresses=intake.system_addresses,
            facts=intake.facts,
        )
        outcomes, _ = await self._try_mail_commands(opened, intake, creating=True)
        after = dataclasses.replace(intake.folded or opened, version=1, updated=now)
        for address in {*after.requestors, *after.ccs, *after.admin_ccs} - {intake.facts.sender}:
            await self._store.ensure_user(address, now)
        assert txn.mail is not None  # open_ticket always records the facts it is given
        txn = dataclasses.replace(
            txn, mail=txn.mail.model_copy(update={"commands": tuple(outcomes)})
        )
        return after, txn, self._mail_event(after, txn, intake)

    async def _decide_mail_on_ticket(
        self, ticket_id: int, intake: _MailIntake, outcomes: list[MailCommandOutcome]
    ) -> tuple[Ticket, Transaction, Envelope[Any]]:
        ticket = await self._effective(ticket_id)
        if ticket is None:  # pragma: no cover - tickets are never removed
            raise RetryableError(f"ticket #{ticket_id} vanished")
        queue = intake.queue_of(ticket)
        actor = intake.actor
        is_agent = actor.privileged or actor.is_admin
        on_ticket = is_agent or is_on_ticket(ticket, queue, intake.facts.sender)
        kind = "comment" if intake.mail.recipient_kind == "comment" else "correspond"
        note = intake.threading_note
        commented = any(o.command == "Operation" and o.outcome == "applied" for o in outcomes)
        if commented and intake.block.operation == "comment":
            kind = "comment"
        elif not on_ticket and queue.unknown_sender == "comment" and kind == "correspond":
            kind = "comment"
            note += "; the sender is not on the ticket: recorded as a comment"
        new_ccs: tuple[str, ...] = ()
        if kind == "correspond" and queue.ccs_from_replies:
            new_ccs = new_ccs_from_mail(
                intake.parsed, ticket, intake.facts.sender, intake.system_addresses
            )
            for address in new_ccs:
                await self._store.ensure_user(address, self._clock())
        facts = intake.facts.model_copy(
            update={"sender_on_ticket": on_ticket, "commands": tuple(outcomes)}
        )
        after, txn = add_mail_to_ticket(
            ticket,
            txn_id=self._new_id(),
            kind=kind,
            parsed=intake.parsed,
            sender=intake.facts.sender,
            now=self._clock(),
            threading_note=note,
            sender_is_agent=is_agent,
            new_ccs=new_ccs,
            facts=facts,
        )
        return after, txn, self._mail_event(after, txn, intake)

    def _commands_refused_because(self, intake: _MailIntake) -> str | None:
        """Why no command of this mail may run at all, if so."""
        actor = intake.actor
        if not (actor.privileged or actor.is_admin):
            return "commands by mail are for agents only"
        if (
            intake.queue.commands_need_authentication
            and intake.facts.authentication.verdict != "pass"
        ):
            return "this queue obeys commands only in mail authenticated by its mail server"
        return None

    async def _try_mail_commands(
        self, ticket: Ticket, intake: _MailIntake, *, creating: bool = False
    ) -> tuple[list[MailCommandOutcome], list[tuple[str, commands.Command]]]:
        """Each command line's outcome, found by trying them in turn on ``ticket`` in
        memory, and the commands to record, named by their place in the mail (their
        idempotency keys). When ``creating``, the ticket they lead to is kept in
        ``intake.folded``."""
        outcomes: list[MailCommandOutcome] = []
        steps: list[tuple[str, commands.Command]] = []
        refused_because = self._commands_refused_because(intake)
        current = ticket
        for line_number, line in enumerate(intake.block.lines):
            planned = plan_command(line, intake.facts.sender)
            if isinstance(planned, MailCommandOutcome):
                outcomes.append(planned)
                continue
            if refused_because is not None:
                outcomes.append(command_outcome(line, "refused", refused_because))
                continue
            if line.name == "Operation":
                outcomes.append(await self._operation_outcome(current, intake, creating))
                continue
            results: list[tuple[CommandOutcomeKind, str]] = []
            for command_number, command in enumerate(planned.commands):
                try:
                    current, _ = await self._decide_as(intake.actor, current, command)
                except UserError as exc:
                    results.append((error_outcome(exc), str(exc)))
                    continue
                results.append(("applied", ""))
                # Named by its place in the mail: the same on a redelivery, whatever the
                # ticket became meanwhile (so a step already recorded is never run again).
                steps.append((f"{line_number}.{command_number}", command))
            outcomes.append(line_outcome(line, results))
        intake.folded = current if creating else None
        return outcomes, steps

    async def _operation_outcome(
        self, ticket: Ticket, intake: _MailIntake, creating: bool
    ) -> MailCommandOutcome:
        line = next(x for x in intake.block.lines if x.name == "Operation")
        if creating and intake.block.operation == "comment":
            return command_outcome(line, "invalid", "a new ticket starts with correspondence")
        queue = intake.queue_of(ticket)
        right = "CommentOnTicket" if intake.block.operation == "comment" else "ReplyToTicket"
        if not has_right(
            intake.actor,
            right,
            queue=ticket.queue,
            grants=await self._grants(),
            roles=roles_of(intake.actor, ticket, queue.ccs, queue.admin_ccs),
        ):
            return command_outcome(line, "refused", f"you lack the right {right}")
        return command_outcome(line, "applied")

    async def _mail_step(
        self, intake: _MailIntake, ticket_id: int, index: str, command: commands.Command
    ) -> None:
        """Record one command of a mail on its ticket, once (its key: the mail's and its
        number). Should it no longer apply (the ticket moved on meanwhile), it is skipped:
        its outcome is already on the mail's transaction."""
        key = f"{intake.mail.mail_key}:command:{index}"
        if await self._already_recorded(key) is not None:
            return

        async def decide_step() -> tuple[Ticket, Transaction, Envelope[Any]]:
            ticket = await self._effective(ticket_id)
            if ticket is None:  # pragma: no cover - tickets are never removed
                raise RetryableError(f"ticket #{ticket_id} vanished")
            after, txn = await self._decide_as(intake.actor, ticket, command)
            return after, txn, self._mail_event(after, txn, intake)

        try:
            await self._record(key, decide_step)
        except UserError as exc:
            log.info("a command by mail no longer applies to #%d: %s", ticket_id, exc)
            return
        if isinstance(command, commands.AddWatcher):
            await self._store.ensure_user(normalize_address(command.email), self._clock())

    async def _decide_as(
        self, actor: Actor, ticket: Ticket, command: commands.Command
    ) -> tuple[Ticket, Transaction]:
        """``command`` by ``actor`` on ``ticket``: the domain's decision, with the facts it
        needs gathered first (queues, grants, the would-be owner, what blocks resolving)."""
        assignee = None
        if isinstance(command, commands.Assign) and command.owner != NOBODY:
            assignee = await self._known_actor(command.owner)
        queues = await self._queues_by_name()
        depends_on, children = await self._resolve_blockers(ticket, command)
        queue = queues[ticket.queue]
        context = commands.Context(
            actor=actor,
            grants=await self._grants(),
            now=self._clock(),
            txn_id=self._new_id(),
            assignee=assignee,
            depends_on=depends_on,
            children=children,
            custom_fields=queue.custom_fields,
            queues=tuple(queues),
            queue_ccs=queue.ccs,
            queue_admin_ccs=queue.admin_ccs,
        )
        return commands.decide(ticket, command, context)

    async def on_delivery_failed(self, envelope: Envelope[DeliveryFailed]) -> None:
        """Notify could not deliver a mail of a ticket: the failure goes on the ticket."""
        failure = envelope.payload
        instance = await self._instance()
        queues = await self._queues_by_name()
        detail = " ".join(
            x for x in (str(failure.smtp_code or ""), failure.error, f"({failure.template})") if x
        )

        async def decide() -> tuple[Ticket, Transaction, Envelope[Any]]:
            ticket = await self._effective(failure.ticket)
            if ticket is None:
                raise PermanentError(f"ticket #{failure.ticket} does not exist")
            after, txn = record_delivery_failure(
                ticket,
                txn_id=self._new_id(),
                recipient=failure.recipient,
                detail=detail,
                now=self._clock(),
            )
            return after, txn, caused_event(after, txn, queues[after.queue], instance, envelope)

        await self._record(f"delivery-failed:{envelope.id}", decide)

    async def _record_delivery_report(
        self,
        envelope: Envelope[MailReceived],
        parsed: ParsedMail,
        report: DeliveryReport,
        instance: dict[str, Any],
        sender: str,
    ) -> None:
        """A bounce goes on the ticket whose mail bounced; never a new ticket. One that
        names no mail of ours is kept aside for the operator."""
        mail = envelope.payload
        names = [instance["rtname"], *instance.get("extra_rtnames", [])]
        ids = ticket_ids_in_our_message_ids(report.original_message_ids, names)
        ids += find_ticket_ids(report.original_subject, names)
        by_message_id = await self._store.ticket_by_message_ids(list(report.original_message_ids))
        ids += [by_message_id] if by_message_id is not None else []
        ticket = None
        for ticket_id in dict.fromkeys(ids):
            ticket = await self._effective(ticket_id)
            if ticket is not None:
                break
        if ticket is None:
            log.warning("a delivery report names no ticket of ours; kept aside (%s)", mail.mail_key)
            await self._store.keep_unplaced_mail(
                mail.mail_key, spool_ref=mail.spool_ref, reason="delivery report", now=self._clock()
            )
            return
        ticket_id = ticket.id
        queues = await self._queues_by_name()

        async def decide_bounce() -> tuple[Ticket, Transaction, Envelope[Any]]:
            current = await self._effective(ticket_id)
            assert current is not None  # tickets are never removed
            after, txn = record_bounce(
                current,
                txn_id=self._new_id(),
                parsed=parsed,
                report=report,
                sender=sender,
                now=self._clock(),
            )
            event = caused_event(after, txn, queues[after.queue], instance, envelope, mail=mail)
            return after, txn, event

        await self._record(mail.mail_key, decide_bounce)

    async def _already_recorded(
        self, idem_key: str, *, thorough: bool = False
    ) -> dict[str, Any] | None:
        existing = await self._store.transaction_by_idem_key(idem_key, thorough=thorough)
        if existing is not None:
            log.info("%s already recorded as %s", idem_key[:16], existing["_id"])
            await self._finish(existing)
        return existing

    async def _record(
        self,
        idem_key: str,
        decide: Callable[[], Awaitable[tuple[Ticket, Transaction, Envelope[Any]]]],
    ) -> dict[str, Any]:
        """Decide and write one transaction, exactly once for ``idem_key``.

        The insert of the transaction document is the commit: its unique ``(ticket, seq)``
        refuses a decision taken on a version someone else has moved past (decide again on
        the fresh state); its unique ``idem_key`` refuses a second copy of the same mail or
        command (then the first one's outcome is the answer).
        """
        for attempt in range(1, MAX_CONCURRENCY_RETRIES + 1):
            after, txn, event = await decide()
            try:
                await self._store.insert_transaction(
                    txn, idem_key=idem_key, ticket_after=after, event=event.to_wire()
                )
            except DuplicateKeyError:
                existing = await self._already_recorded(idem_key, thorough=True)
                if existing is not None:  # a concurrent delivery of the same mail or command
                    return existing
                if txn.type == "create":
                    # The reserved number is already some other ticket's (e.g. data restored
                    # from before the reservation): take a fresh one.
                    await self._store.forget_reservation(idem_key)
                else:
                    # Someone recorded this version first; bring the ticket up to date.
                    await self._store.catch_up(txn.ticket)
                await asyncio.sleep(0.005 * attempt)
                continue
            await self._finish_new(after, txn, event, idem_key)
            return {"_id": txn.id, "ticket_after": after}
        raise RetryableError(f"ticket busy: gave up after {MAX_CONCURRENCY_RETRIES} attempts")

    async def _queues_by_name(self) -> dict[str, Queue]:
        return {q.name: q for q in await self._queues()}

    async def _queues(self) -> list[Queue]:
        queues: list[Queue] = await self._cached("queues", self._store.queues_all)
        return queues

    async def _cached(self, key: str, load: Callable[[], Awaitable[Any]]) -> Any:
        """Configuration read at most every CONFIG_TTL seconds (it changes rarely; every
        mail and command needs it)."""
        now = time.monotonic()
        hit = self._config_cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = await load()
        self._config_cache[key] = (now + CONFIG_TTL_SECONDS, value)
        return value

    def forget_configuration(self) -> None:
        self._config_cache.clear()
        self._users_generation += 1
        self._actors.clear()

    async def _instance(self) -> dict[str, Any]:
        instance: dict[str, Any] = await self._cached("instance", self._store.instance)
        if not instance.get("rtname"):
            raise RetryableError("instance not configured yet (rtname missing): seed it")
        return instance

    async def _candidate_tickets(
        self, parsed: ParsedMail, instance: dict[str, Any], by_message_id: int | None
    ) -> dict[int, str]:
        """The queue of every ticket the mail may belong to (tags, our Message-IDs)."""
        names = [instance["rtname"], *instance.get("extra_rtnames", [])]
        ids = find_ticket_ids(parsed.subject, names)
        ids += ticket_ids_in_our_message_ids([*parsed.in_reply_to, *parsed.references], names)
        if by_message_id is not None:
            ids.append(by_message_id)
        return await self._store.ticket_queues(ids)

    # the outbox ---------------------------------------------------------------------------
    async def _finish_new(
        self, ticket: Ticket, txn: Transaction, event: Envelope[Any], idem_key: str
    ) -> None:
        await self._store.apply_projection(ticket)
        await self._store.remember_idem_key(idem_key, txn.id)
        await self._store.remember_place(ticket.id, txn.seq, txn.id)
        if txn.message is not None and txn.message.message_id:
            await self._store.remember_message_id(txn.message.message_id, ticket.id)
        await self._publisher.publish(event)
        await self._store.mark_published(txn.id)

    async def _finish(self, txn_doc: dict[str, Any]) -> None:
        """Complete a recorded transaction: projection, then event (both idempotent)."""
        if await self._store.is_published(txn_doc["_id"]):
            return
        ticket = ticket_from_doc(txn_doc["ticket_after"])
        await self._store.apply_projection(ticket)
        await self._store.remember_idem_key(txn_doc["idem_key"], txn_doc["_id"])
        await self._store.remember_place(ticket.id, txn_doc["seq"], txn_doc["_id"])
        message_id = (txn_doc.get("message") or {}).get("message_id")
        if message_id:
            await self._store.remember_message_id(message_id, ticket.id)
        await self._publisher.publish(AnyEnvelope.model_validate(txn_doc["event"]))
        await self._store.mark_published(txn_doc["_id"])

    async def relay_unpublished(self) -> int:
        """Publish every transaction a crash left unpublished, in ticket order."""
        pending = await self._store.unpublished(self._clock() - self._relay_grace)
        for doc in pending:
            await self._finish(doc)
        if pending:
            log.warning("relay published %d transaction(s) left behind", len(pending))
        return len(pending)

    # commands -----------------------------------------------------------------------------
    async def execute(self, cmd: rpc.TicketCommand) -> dict[str, Any]:
        """One action on a ticket, with its rights check, a transaction and an event."""
        idem_key = f"command:{cmd.command_id}"
        existing = await self._already_recorded(idem_key)
        if existing is None and cmd.action == "merge":
            if cmd.attachments:
                raise InvalidInputError("merge carries no files")
            return await self._merge(cmd, await self.actor(cmd.actor))
        if existing is None:
            actor = await self.actor(cmd.actor)
            files, described = await _read_files(cmd.attachments)
            command = to_domain_command(cmd, described)
            instance = await self._instance()
            queues = await self._queues_by_name()

            async def decide_command() -> tuple[Ticket, Transaction, Envelope[Any]]:
                ticket = await self._effective(cmd.ticket)  # a merged number leads on
                if ticket is None or (
                    ticket.status == "deleted"
                    and not actor.is_admin
                    and not isinstance(command, commands.SetStatus)
                ):
                    raise NotFoundError(f"ticket #{cmd.ticket} does not exist")
                after, txn = await self._decide_as(actor, ticket, command)
                await self._store_files(files)  # once allowed, before the transaction names them
                return after, txn, self._command_event(after, txn, queues, instance, cmd.command_id)

            existing = await self._record(idem_key, decide_command)
        return self._command_result(existing)

    async def create(self, cmd: rpc.CreateTicket) -> dict[str, Any]:
        """Open a ticket from the web or the API (idempotent by command id)."""
        idem_key = f"command:{cmd.command_id}"
        existing = await self._already_recorded(idem_key)
        if existing is None:
            actor = await self.actor(cmd.actor)
            queues = await self._queues_by_name()
            if cmd.queue not in queues:
                raise NotFoundError(f"queue {cmd.queue} does not exist")
            queue = queues[cmd.queue]
            instance = await self._instance()
            grants = await self._grants()
            files, described = await _read_files(cmd.attachments)
            command = commands.Create(
                queue=cmd.queue,
                subject=cmd.subject,
                text=cmd.text,
                requestors=cmd.requestors,
                ccs=cmd.ccs,
                admin_ccs=cmd.admin_ccs,
                custom_fields=tuple(cmd.custom_fields.items()),
                attachments=described,
            )

            async def decide_create() -> tuple[Ticket, Transaction, Envelope[Any]]:
                context = commands.Context(
                    actor=actor,
                    grants=grants,
                    now=self._clock(),
                    txn_id=self._new_id(),
                    custom_fields=queue.custom_fields,
                )
                ticket_id = await self._store.reserve_ticket_id(idem_key)
                after, txn = commands.create(command, ticket_id, context)
                await self._store_files(files)
                for address in (*after.requestors, *after.ccs, *after.admin_ccs):
                    await self._store.ensure_user(address, context.now)
                return after, txn, self._command_event(after, txn, queues, instance, cmd.command_id)

            existing = await self._record(idem_key, decide_create)
        return self._command_result(existing)

    async def _store_files(self, files: tuple[ParsedAttachment, ...]) -> None:
        """Store files sent from the web as mail's are: once each, by SHA-256 (a retry of
        the same command, or the same file sent again, stores nothing new)."""
        for file in files:
            if self._attachments is None:  # pragma: no cover - always wired in the service
                raise NotConfiguredError("no attachment store")
            await self._attachments.put(file)

    def _command_result(self, recorded: dict[str, Any]) -> dict[str, Any]:
        after = recorded["ticket_after"]
        snapshot = (after if isinstance(after, Ticket) else ticket_from_doc(after)).snapshot()
        return rpc.CommandResult(
            ticket=snapshot.model_dump(mode="json"), transaction=recorded["_id"]
        ).model_dump(mode="json")

    async def _resolve_blockers(
        self, ticket: Ticket, command: commands.Command
    ) -> tuple[list[LinkedTicket], list[LinkedTicket]]:
        """What a ticket depends on, and its children, when a command needs them: to
        resolve it, or to link it (the target must exist)."""
        if (
            isinstance(command, commands.Link)
            and await self._store.get_ticket(command.target) is None
        ):
            raise NotFoundError(f"ticket #{command.target} does not exist")
        if not (isinstance(command, commands.SetStatus) and command.status == "resolved"):
            return [], []
        depends_on = []
        for kind, target in ticket.links:
            linked = await self._store.get_ticket(target) if kind == "DependsOn" else None
            if linked is not None:
                depends_on.append(LinkedTicket(linked.id, linked.status))
        children = [
            LinkedTicket(child.id, child.status)
            for child in await self._store.linked_to("MemberOf", ticket.id)
        ]
        return depends_on, children

    @staticmethod
    def _queue_watchers(
        queues: list[Queue], ticket: Ticket
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        for queue in queues:
            if queue.name == ticket.queue:
                return queue.ccs, queue.admin_ccs
        return (), ()

    async def _effective(self, ticket_id: int) -> Ticket | None:
        """The ticket a number leads to: itself, or the one it was merged into."""
        ticket = await self._store.get_ticket(ticket_id)
        for _ in range(20):  # merges form a chain, never a cycle; the bound is a guard
            if ticket is None or ticket.merged_into is None:
                return ticket
            ticket = await self._store.get_ticket(ticket.merged_into)
        return ticket

    async def _merge(self, cmd: rpc.TicketCommand, actor: Actor) -> dict[str, Any]:
        """Two transactions, each idempotent on its own: the target absorbs the source
        first, then the source is marked merged (a retry completes what a crash left)."""
        if cmd.target is None:
            raise InvalidInputError("merge needs 'target'")
        target_id = cmd.target
        instance = await self._instance()
        queues = await self._queues_by_name()
        grants = await self._grants()

        async def load() -> tuple[Ticket, Ticket]:
            source = await self._store.get_ticket(cmd.ticket)
            target = await self._effective(target_id)
            if source is None or target is None:
                raise NotFoundError("both tickets must exist")
            return source, target

        def context() -> commands.Context:
            return commands.Context(
                actor=actor, grants=grants, now=self._clock(), txn_id=self._new_id()
            )

        async def absorb() -> tuple[Ticket, Transaction, Envelope[Any]]:
            source, target = await load()
            after, txn = commands.merge_in(target, source, context())
            return after, txn, self._command_event(after, txn, queues, instance, cmd.command_id)

        async def mark() -> tuple[Ticket, Transaction, Envelope[Any]]:
            source, target = await load()
            after, txn = commands.merge_away(source, target, context())
            return after, txn, self._command_event(after, txn, queues, instance, cmd.command_id)

        await self._record(f"command:{cmd.command_id}:into", absorb)
        return self._command_result(await self._record(f"command:{cmd.command_id}", mark))

    def _command_event(
        self,
        after: Ticket,
        txn: Transaction,
        queues: dict[str, Queue],
        instance: dict[str, Any],
        command_id: str,
    ) -> Envelope[Any]:
        return ticket_event(
            after,
            txn,
            queues[after.queue],
            instance["rtname"],
            correlation_id=current_correlation_id() or f"command-{command_id}",
        )

    async def _known_actor(self, email: str) -> Actor | None:
        try:
            return await self.actor(email)
        except AuthenticationFailedError:
            return None

    # queries ------------------------------------------------------------------------------
    async def actor(self, email: str) -> Actor:
        """The user behind a request, as rights checks see them. Kept as long as the
        configuration (every RPC names its actor; a page makes several): a change made
        here is seen at once, one made by another replica within CONFIG_TTL, as grants."""
        if email == rpc.SYSTEM_ACTOR:
            return Actor(email=email, system=True)
        address = normalize_address(email)
        now = time.monotonic()
        hit = self._actors.get(address)
        if hit is not None and hit[0] > now:
            return hit[1]
        generation = self._users_generation
        user = await self._store.get_user(address)
        if user is None:
            raise AuthenticationFailedError(f"unknown user {email}")
        found = actor_of(user)
        if generation == self._users_generation:  # no change here while it was read
            if len(self._actors) >= ACTOR_CACHE_SIZE:
                self._actors.clear()
            self._actors[address] = (now + CONFIG_TTL_SECONDS, found)
        return found

    def _user_changed(self, email: str) -> None:
        self._users_generation += 1
        self._actors.pop(email, None)

    async def _grants(self) -> list[Grant]:
        stored = await self._cached("grants", self._store.grants_all)
        return list(DEFAULT_GRANTS) if stored is None else list(stored)

    async def _visible_ticket(self, ref: rpc.TicketRef, actor: Actor | None = None) -> Ticket:
        actor = actor or await self.actor(ref.actor)
        ticket = await self._effective(ref.id)
        if ticket is None or (ticket.status == "deleted" and not actor.is_admin):
            raise NotFoundError(f"ticket #{ref.id} does not exist")
        require_show_ticket(
            actor,
            ticket,
            await self._grants(),
            *self._queue_watchers(await self._queues(), ticket),
        )
        return ticket

    async def get_ticket(self, ref: rpc.TicketRef) -> dict[str, Any]:
        ticket = await self._visible_ticket(ref)
        return ticket.snapshot().model_dump(mode="json")

    async def list_tickets(self, request: rpc.ListTickets) -> dict[str, Any]:
        """Tickets matching the filters that the actor may see, newest first. Visibility is
        part of the query: queues where the actor holds ShowTicket, plus the tickets where
        a role gives it (requestor or Cc, by the default grants)."""
        actor = await self.actor(request.actor)
        query: dict[str, Any] = {"merged_into": None}
        if request.requestor:
            query["requestors"] = normalize_address(request.requestor)
        if request.queue:
            query["queue"] = request.queue
        if request.status:
            query["status"] = request.status
        elif not actor.is_admin:
            query["status"] = {"$ne": "deleted"}
        if not (actor.system or actor.is_admin):
            grants = await self._grants()
            queues = await self._queues()
            visible = [
                q.name
                for q in queues
                if has_right(
                    actor,
                    "ShowTicket",
                    queue=q.name,
                    grants=grants,
                    roles=roles_of(actor, None, q.ccs, q.admin_ccs),
                )
            ]
            by_role = [
                {field: actor.email}
                for field, role in (("requestors", "Requestor"), ("ccs", "Cc"))
                if any(
                    g.right == "ShowTicket" and g.kind == "role" and g.name == role for g in grants
                )
            ]
            query["$or"] = [{"queue": {"$in": visible}}, *by_role]
        total, tickets = await self._store.list_tickets(
            query, limit=request.limit, offset=request.offset
        )
        return {"data": [t.snapshot().model_dump(mode="json") for t in tickets], "count": total}

    async def history(self, ref: rpc.TicketRef) -> list[dict[str, Any]]:
        """The transactions the actor may see: comments only with ShowTicketComments."""
        actor = await self.actor(ref.actor)
        ticket = await self._visible_ticket(ref, actor)
        return [_history_item(doc) for doc in await self._seen_transactions(actor, ticket)]

    async def view(self, request: rpc.TicketView) -> dict[str, Any]:
        """A ticket as its page shows it: the ticket, its history (only what follows the
        part the caller already has, when that part is unchanged), whether bookmarked."""
        actor = await self.actor(request.actor)
        ticket = await self._visible_ticket(
            rpc.TicketRef(actor=request.actor, id=request.id), actor
        )
        docs = await self._seen_transactions(actor, ticket)
        ids = [str(doc["_id"]) for doc in docs]
        start = 0
        if 0 < request.known <= len(ids) and (
            rpc.history_digest(ids[: request.known]) == request.known_digest
        ):
            start = request.known
        # Nothing new (the usual reload): the caller's digest is the whole history's.
        digest = request.known_digest if start == len(ids) else rpc.history_digest(ids)
        desk = request.desk and (actor.privileged or actor.is_admin)
        return rpc.TicketViewAnswer(
            ticket=ticket.snapshot().model_dump(mode="json"),
            history=[_history_item(doc) for doc in docs[start:]],
            history_from=start,
            history_digest=digest,
            bookmarked=ticket.id in await self._store.bookmarked(actor.email),
            queues=await self.queues(rpc.ActorOnly(actor=request.actor)) if desk else [],
            responses=(
                await self._owned("responses", request.actor, "list", None, None) if desk else []
            ),
        ).model_dump(mode="json")

    async def _seen_transactions(self, actor: Actor, ticket: Ticket) -> list[dict[str, Any]]:
        """The ticket's transactions (and its merged tickets'), comments only for those
        who hold ShowTicketComments."""
        sees_comments = has_right(
            actor,
            "ShowTicketComments",
            queue=ticket.queue,
            grants=await self._grants(),
            roles=roles_of(actor, ticket, *self._queue_watchers(await self._queues(), ticket)),
        )
        return [
            doc
            for doc in await self._transactions_with_merged(ticket)
            if sees_comments or doc["type"] != "comment"
        ]

    async def attachment(self, ref: rpc.AttachmentRef) -> dict[str, Any]:
        """An attachment's content, for whoever may see a ticket that carries it."""
        actor = await self.actor(ref.actor)
        if self._attachments is None:  # pragma: no cover - always wired in the service
            raise NotConfiguredError("no attachment store")
        visible = actor.system  # notify: it mails files of any ticket, no look-up needed
        if not visible and ref.ticket is not None:
            ticket = await self._visible_ticket(
                rpc.TicketRef(actor=ref.actor, id=ref.ticket), actor
            )
            visible = any(
                a.get("sha256") == ref.sha256
                for doc in await self._transactions_with_merged(ticket)
                for a in (doc.get("message") or {}).get("attachments", ())
            )
        elif not visible:
            visible = await self._sees_a_ticket_with(actor, ref)
        stored = await self._attachments.get_with_metadata(ref.sha256) if visible else None
        if stored is None:
            raise NotFoundError("no such attachment")
        filename, content_type, content = stored
        return rpc.AttachmentContent(
            sha256=ref.sha256,
            filename=filename,
            content_type=content_type,
            content_b64=base64.b64encode(content).decode("ascii"),
        ).model_dump()

    async def visibility(self, request: rpc.ActorOnly) -> dict[str, Any]:
        """Where ShowTicket and ShowTicketComments reach for a user, for the search
        service's filters. An unknown address is an unprivileged user in no group."""
        actor = await self._known_actor(request.actor) or Actor(normalize_address(request.actor))
        grants = await self._grants()
        watchers = {q.name: (q.ccs, q.admin_ccs) for q in await self._queues()}

        def scope(found: QueueScope) -> rpc.QueueScope:
            return rpc.QueueScope(every_queue=found.every_queue, queues=tuple(sorted(found.queues)))

        def reach(right: str) -> rpc.RightReach:
            found = right_reach(actor, right, grants, watchers)
            return rpc.RightReach(
                direct=scope(found.direct),
                roles={role: scope(s) for role, s in found.roles.items()},
            )

        return rpc.Visibility(
            email=actor.email,
            is_admin=actor.is_admin,  # as elsewhere: only they see deleted tickets
            show_ticket=reach("ShowTicket"),
            show_comments=reach("ShowTicketComments"),
        ).model_dump(mode="json")

    async def export(self, request: rpc.ExportRequest) -> dict[str, Any]:
        """Start streaming every ticket and message to the caller's queue (see
        :mod:`services.tickets.exports`); for the system or an administrator."""
        require_admin(await self.actor(request.actor))
        if self._exporter is None:  # pragma: no cover - always wired in the service
            raise NotConfiguredError("exports are not wired")
        started = await self._exporter.start(request)
        return started.model_dump(mode="json")

    async def _sees_a_ticket_with(self, actor: Actor, ref: rpc.AttachmentRef) -> bool:
        """Whether the actor sees one of the tickets carrying the file (a slow search)."""
        for ticket_id in await self._store.tickets_with_attachment(ref.sha256):
            try:
                await self._visible_ticket(rpc.TicketRef(actor=ref.actor, id=ticket_id), actor)
            except (NotFoundError, PermissionDeniedError):
                continue
            return True
        return False

    async def _transactions_with_merged(self, ticket: Ticket) -> list[dict[str, Any]]:
        """The transactions of a ticket and of those merged into it (and into those…), in
        time order: by their places when all are noted, else by a query on them all."""
        docs: list[dict[str, Any]] = []
        pending, seen = [ticket], {ticket.id}
        while pending:
            current = pending.pop()
            found = await self._store.transactions_of(current.id, current.version)
            if found is None:
                docs = []
                break
            docs += found
            for doc in found:
                merged = int(doc["new_value"]) if doc["type"] == "merge" else None
                if merged is not None and merged not in seen:
                    seen.add(merged)
                    source = await self._store.get_ticket(merged)
                    if source is not None:
                        pending.append(source)
        else:
            return sorted(docs, key=lambda d: (d["created"], d["ticket"], d["seq"]))
        ids = [ticket.id]
        for merged_id in ids:  # the tickets merged into it, and into those, and so on
            ids.extend(i for i in await self._store.merged_into(merged_id) if i not in ids)
        return await self._store.history(ids)

    async def bookmarks(self, cmd: rpc.BookmarkChange) -> list[int]:
        """Bookmarks are the actor's own; one can bookmark only what one may see."""
        actor = await self.actor(cmd.actor)
        if cmd.action != "list":
            if cmd.ticket is None:
                raise InvalidInputError(f"{cmd.action} needs 'ticket'")
            if cmd.action == "add":
                await self._visible_ticket(rpc.TicketRef(actor=cmd.actor, id=cmd.ticket), actor)
                await self._store.add_bookmark(actor.email, cmd.ticket, self._clock())
            elif not await self._store.remove_bookmark(actor.email, cmd.ticket):
                raise NotFoundError(f"ticket #{cmd.ticket} is not bookmarked")
        return await self._store.bookmarked(actor.email)

    async def reminders(self, cmd: rpc.ReminderChange) -> list[dict[str, Any]]:
        """Add a reminder to a ticket (ModifyTicket), mark one done (its owner or ModifyTicket),
        or list the actor's open reminders, soonest first (the home page's)."""
        actor = await self.actor(cmd.actor)
        if cmd.action == "add":
            if cmd.ticket is None or not cmd.subject or not cmd.due:
                raise InvalidInputError("a reminder needs 'ticket', 'subject' and 'due'")
            ticket = await self._visible_ticket(
                rpc.TicketRef(actor=cmd.actor, id=cmd.ticket), actor
            )
            require(
                actor,
                "ModifyTicket",
                queue=ticket.queue,
                grants=await self._grants(),
                roles=roles_of(actor, ticket),
                what=f"ticket #{ticket.id}",
            )
            try:
                due = date.fromisoformat(cmd.due).isoformat()
            except ValueError:
                raise InvalidInputError(f"a date as YYYY-MM-DD, not {cmd.due!r}") from None
            owner = normalize_address(cmd.owner) if cmd.owner else actor.email
            await self._store.add_reminder(
                {
                    "_id": self._new_id(),
                    "ticket": ticket.id,
                    "subject": " ".join(cmd.subject.split()),
                    "due": due,
                    "owner": owner,
                    "creator": actor.email,
                    "created": self._clock(),
                    "done": None,
                }
            )
        elif cmd.action == "done":
            if not cmd.reminder:
                raise InvalidInputError("done needs 'reminder'")
            doc = await self._store.complete_reminder(cmd.reminder, self._clock())
            if doc is None:
                raise NotFoundError("no such reminder")
            if doc["owner"] != actor.email and not (actor.is_admin or actor.privileged):
                raise PermissionDeniedError("only its owner or an agent closes a reminder")
        owner = normalize_address(cmd.owner) if cmd.owner else actor.email
        return [
            {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in d.items()}
            | {"id": d["_id"]}
            for d in await self._store.open_reminders(owner)
        ]

    async def mail_routes(self) -> dict[str, Any]:
        instance = await self._store.instance()
        routes: dict[str, dict[str, str]] = {}
        for queue in await self._store.queues_all():
            routes[queue.correspond_address] = {"queue": queue.name, "kind": "correspond"}
            routes[queue.comment_address] = {"queue": queue.name, "kind": "comment"}
        if not instance.get("rtname"):
            raise NotConfiguredError("instance not configured yet (no rtname): apply the seed")
        return rpc.MailRoutes(
            rtname=instance["rtname"],
            extra_rtnames=tuple(instance.get("extra_rtnames", [])),
            routes={a: rpc.MailRoute.model_validate(r) for a, r in routes.items()},
        ).model_dump(mode="json")

    async def authenticate(self, creds: rpc.Credentials) -> dict[str, Any]:
        email = normalize_address(creds.email)
        user = await self._store.get_user(email)
        stored = user.get("password_hash") if user else None
        if not await verify_password(stored, creds.password) or user is None:
            raise AuthenticationFailedError("wrong email or password")
        return _user_public(user)

    async def saved_searches(self, cmd: rpc.SavedSearchChange) -> list[dict[str, Any]]:
        if cmd.body is not None and cmd.body.condition is not None:
            try:  # the search service's own model: a condition it would refuse is refused now
                AdvancedSearch.model_validate(
                    {"principal": {"email": cmd.actor}, "query": cmd.body.condition}
                )
            except ValidationError as exc:
                raise InvalidInputError(
                    f"not a search condition: {exc.errors()[0]['msg']}"
                ) from None
        if cmd.body is not None and (cmd.body.q is None) == (cmd.body.condition is None):
            raise InvalidInputError("a saved search has either 'q' or 'condition'")
        return await self._owned("saved_searches", cmd.actor, cmd.action, cmd.id, cmd.body)

    async def dashboards(self, cmd: rpc.DashboardChange) -> list[dict[str, Any]]:
        if cmd.body is not None:
            for widget in cmd.body.widgets:
                if widget.saved_search is not None:
                    await self._owned("saved_searches", cmd.actor, "get", widget.saved_search, None)
        return await self._owned("dashboards", cmd.actor, cmd.action, cmd.id, cmd.body)

    async def responses(self, cmd: rpc.ResponseChange) -> list[dict[str, Any]]:
        """Canned responses: texts kept under a name, to put into a reply or a comment."""
        return await self._owned("responses", cmd.actor, cmd.action, cmd.id, cmd.body)

    async def _owned(
        self, kind: str, actor_email: str, action: str, item_id: str | None, body: BaseModel | None
    ) -> list[dict[str, Any]]:
        """Saved searches, dashboards and canned responses alike: one's own to change;
        those shared with one's groups to read (see domain.owned_items)."""
        actor = await self.actor(actor_email)
        if action == "list":
            found = await self._store.owned_items(kind, actor.email, sorted(actor.groups))
            return [_owned_public(d) for d in found]
        stored = await self._store.owned_item(kind, item_id) if item_id else None
        check_access(kind, action, item_id, stored, actor)
        if action == "get":
            assert stored is not None  # check_access: a get names an item one may read
            return [_owned_public(stored)]
        if action == "delete":
            assert item_id is not None
            await self._store.delete_owned_item(kind, item_id)
            return []
        if body is None:
            raise InvalidInputError("put needs 'body'")
        item = owned_item(
            item_id=item_id or uuid.uuid4().hex,
            actor=actor,
            body=body.model_dump(mode="json"),
            shared=bool(getattr(body, "shared_with_groups", False)),
            now=self._clock(),
        )
        await self._store.put_owned_item(kind, item)
        return [_owned_public(item)]

    async def tokens(self, cmd: rpc.TokenChange) -> list[dict[str, Any]]:
        """A user's own API tokens; the secret is shown once, only its hash is kept."""
        actor = await self.actor(cmd.actor)
        if actor.system:
            raise InvalidInputError("the system has no API tokens")
        if cmd.action == "create":
            if not cmd.name:
                raise InvalidInputError("a token needs a name")
            secret = f"{TOKEN_PREFIX}{secrets.token_urlsafe(32)}"
            digest = hashlib.sha256(secret.encode()).hexdigest()
            doc = {
                "_id": digest,
                "id": secrets.token_hex(8),
                "user": actor.email,
                "name": cmd.name,
                "created": utc_now_ms(),
                "last_used": None,
            }
            await self._store.add_token(doc)
            return [_token_public(doc, secret=secret)]
        if cmd.action == "revoke":
            if not cmd.token_id or not await self._store.remove_token(actor.email, cmd.token_id):
                raise NotFoundError("no such token")
            return []
        return [_token_public(doc) for doc in await self._store.tokens_of(actor.email)]

    async def authenticate_token(self, creds: rpc.TokenCredentials) -> dict[str, Any]:
        digest = hashlib.sha256(creds.token.encode()).hexdigest()
        token = await self._store.token_by_hash(digest)
        user = await self._store.get_user(token["user"]) if token else None
        if token is None or user is None:
            raise AuthenticationFailedError("unknown or revoked API token")
        now = utc_now_ms()
        last = token.get("last_used")
        if last is None or now - last > TOKEN_USE_RESOLUTION:
            await self._store.token_used(digest, now)  # not on every call: updates scan
        return _user_public(user)

    # administration -----------------------------------------------------------------------
    async def set_instance(self, cmd: rpc.SetInstance) -> dict[str, Any]:
        require_admin(await self.actor(cmd.actor))
        await self._store.set_instance(cmd.rtname, list(cmd.extra_rtnames))
        self.forget_configuration()
        return {"rtname": cmd.rtname, "extra_rtnames": list(cmd.extra_rtnames)}

    async def upsert_queue(self, cmd: rpc.UpsertQueue) -> dict[str, Any]:
        require_admin(await self.actor(cmd.actor))
        correspond = normalize_address(cmd.correspond_address)
        comment = normalize_address(cmd.comment_address)
        if correspond == comment:
            raise ConflictError("correspond and comment addresses must differ")
        for other in await self._store.queues_all():
            if other.name != cmd.name and {correspond, comment} & {
                other.correspond_address,
                other.comment_address,
            }:
                raise ConflictError(f"an address is already used by queue {other.name}")
        try:
            fields = tuple(
                CustomFieldDefinition(f.name, f.type, f.values) for f in cmd.custom_fields
            )
        except ValueError as exc:
            raise InvalidInputError(str(exc)) from exc
        queue = Queue(
            cmd.name,
            correspond,
            comment,
            cmd.language,
            cmd.description,
            fields,
            ccs=tuple(dict.fromkeys(normalize_address(a) for a in cmd.ccs)),
            admin_ccs=tuple(dict.fromkeys(normalize_address(a) for a in cmd.admin_ccs)),
            ccs_from_create=cmd.ccs_from_create,
            ccs_from_replies=cmd.ccs_from_replies,
            unknown_sender=cmd.unknown_sender,
            commands_need_authentication=cmd.commands_need_authentication,
        )
        await self._store.upsert_queue(queue)
        self.forget_configuration()
        return {"name": queue.name, "correspond_address": correspond, "comment_address": comment}

    async def queues(self, cmd: rpc.ActorOnly) -> list[dict[str, Any]]:
        """The queues the actor may see (SeeQueue), by name."""
        actor = await self.actor(cmd.actor)
        grants = await self._grants()
        return [
            rpc.QueuePublic(
                name=q.name,
                correspond_address=q.correspond_address,
                comment_address=q.comment_address,
                language=q.language,
                description=q.description,
                custom_fields=tuple(
                    rpc.CustomFieldSpec(name=f.name, type=f.type, values=f.values)
                    for f in q.custom_fields
                ),
                ccs=q.ccs,
                admin_ccs=q.admin_ccs,
                ccs_from_create=q.ccs_from_create,
                ccs_from_replies=q.ccs_from_replies,
                unknown_sender=q.unknown_sender,
                commands_need_authentication=q.commands_need_authentication,
            ).model_dump()
            for q in sorted(await self._queues(), key=lambda q: q.name)
            if has_right(actor, "SeeQueue", queue=q.name, grants=grants)
        ]

    async def get_user(self, ref: rpc.UserRef) -> dict[str, Any]:
        actor = await self.actor(ref.actor)
        email = normalize_address(ref.email)
        if email != actor.email:
            require_admin(actor)
        user = await self._store.get_user(email)
        if user is None:
            raise NotFoundError(f"no user {email}")
        return _user_details(user)

    async def list_users(self, request: rpc.ListUsers) -> dict[str, Any]:
        """A page of users by address, those whose address or name holds ``q``
        (administrators). It reads every user (see ``users_all``): an administration page
        over a small collection, not a path mail or search takes."""
        require_admin(await self.actor(request.actor))
        found = sorted(
            (
                u
                for u in await self._store.users_all()
                if user_matches(request.q, u["_id"], u.get("name") or "")
            ),
            key=lambda u: str(u["_id"]),
        )
        shown = found[request.offset : request.offset + request.limit]
        return rpc.UserList.model_validate(
            {"total": len(found), "items": [_user_details(u) for u in shown]}
        ).model_dump()

    async def groups(self, request: rpc.ActorOnly) -> list[dict[str, Any]]:
        """Every group a user names, with its members (administrators; a scan of the users,
        as ``list_users``)."""
        require_admin(await self.actor(request.actor))
        by_group = members_by_group(await self._store.memberships())
        return [
            rpc.GroupPublic(name=name, members=tuple(members)).model_dump()
            for name, members in by_group.items()
        ]

    async def preferences(self, cmd: rpc.PreferencesChange) -> dict[str, Any]:
        """A user changes their own preferences (language, signature, home layout)."""
        actor = await self.actor(cmd.actor)
        if actor.system:
            raise InvalidInputError("the system has no preferences")
        user = await self._store.get_user(actor.email)
        if user is None:  # pragma: no cover - the actor was just found
            raise NotFoundError(f"no user {actor.email}")
        changed = change_preferences(
            _preferences_of(user),
            language=cmd.language,
            signature=cmd.signature,
            home_layout=cmd.home_layout,
        )
        fields: dict[str, Any] = dataclasses.asdict(changed)
        fields["home_layout"] = list(changed.home_layout)
        unchanged = changed == _preferences_of(user)  # e.g. a logout alone
        if not unchanged and not await self._store.update_user(actor.email, fields):
            raise NotFoundError(f"no user {actor.email}")  # pragma: no cover
        if cmd.sign_out:
            await self._store.sign_out(actor.email)
        self._user_changed(actor.email)
        return _user_details(await self._store.get_user(actor.email) or {**user, **fields})

    async def grant(self, cmd: rpc.GrantChange) -> dict[str, Any]:
        return await self._change_grants(cmd, add=True)

    async def revoke(self, cmd: rpc.GrantChange) -> dict[str, Any]:
        return await self._change_grants(cmd, add=False)

    async def _change_grants(self, cmd: rpc.GrantChange, *, add: bool) -> dict[str, Any]:
        actor = await self.actor(cmd.actor)
        if cmd.queue is None or not has_right(
            actor, "AdminQueue", queue=cmd.queue, grants=await self._grants()
        ):
            require_admin(actor)  # global grants are the system administrator's
        try:
            change = Grant(cmd.right, cmd.kind, cmd.name, cmd.queue)
        except ValueError as exc:
            raise InvalidInputError(str(exc)) from exc
        grants = await self._grants()
        if add and change in grants:
            raise ConflictError("that right is already granted")
        if not add and change not in grants:
            raise NotFoundError("no such grant")
        updated = [*grants, change] if add else [g for g in grants if g != change]
        await self._store.replace_grants(updated)
        self.forget_configuration()
        return {"grants": len(updated)}

    async def list_grants(self, cmd: rpc.ActorOnly) -> list[dict[str, Any]]:
        require_admin(await self.actor(cmd.actor))
        return [dataclasses.asdict(g) for g in await self._grants()]

    async def upsert_user(self, cmd: rpc.UpsertUser) -> dict[str, Any]:
        require_admin(await self.actor(cmd.actor))
        email = normalize_address(cmd.email)
        fields: dict[str, Any] = {
            "name": cmd.name,
            "privileged": cmd.privileged or cmd.is_admin,
            "is_admin": cmd.is_admin,
            "language": cmd.language,
            "groups": sorted(set(cmd.groups)),
        }
        known = await self._store.get_user(email) if cmd.password else None
        if cmd.password:
            fields["password_hash"] = hash_password(cmd.password)
        await self._store.upsert_user(email, fields)
        if known and known.get("password_hash"):  # sessions opened with the old one end
            await self._store.sign_out(email)
        self._user_changed(email)
        return {"email": email, "privileged": fields["privileged"], "is_admin": cmd.is_admin}
