"""What a mail does to a ticket (pure): open one, or add correspondence or a comment."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from services.tickets.domain.files import describe
from services.tickets.domain.lifecycle import status_after_correspondence
from services.tickets.domain.model import Queue, Ticket, Transaction
from shared.events.ticket import MailFacts, MessageInfo, TextFold
from shared.mail.delivery_reports import DeliveryReport
from shared.mail.html_sanitizer import sanitize_html
from shared.mail.parsing import ParsedMail
from shared.mail.quoting import fold_spans

NO_SUBJECT = "(no subject)"


KEPT_HEADERS = frozenset(
    {
        "date", "from", "to", "cc", "reply-to", "subject", "message-id", "in-reply-to",
        "references", "auto-submitted", "precedence", "list-id", "authentication-results",
    }
)  # fmt: skip


def message_info(parsed: ParsedMail) -> MessageInfo:
    return MessageInfo(
        message_id=parsed.message_id,
        subject=parsed.subject,
        from_address=parsed.from_address,
        to=parsed.to,
        cc=parsed.cc,
        text=parsed.text,
        html=sanitize_html(parsed.html) if parsed.html else None,
        headers={k: v for k, v in parsed.headers.items() if k in KEPT_HEADERS},
        folds=tuple(
            TextFold(kind=kind, start=start, end=end)
            for kind, start, end in fold_spans(parsed.text)
        ),
        attachments=tuple(describe(a) for a in parsed.attachments),
    )


def sender_of(parsed: ParsedMail, envelope_from: str) -> str:
    return parsed.from_address or envelope_from or "unknown@invalid"


def is_on_ticket(ticket: Ticket, queue: Queue, address: str) -> bool:
    """Whether ``address`` holds a role on the ticket (its own or the queue's)."""
    return address == ticket.owner or address in (
        *ticket.requestors,
        *ticket.ccs,
        *ticket.admin_ccs,
        *queue.ccs,
        *queue.admin_ccs,
    )


def new_ccs_from_mail(
    parsed: ParsedMail, ticket: Ticket | None, sender: str, system_addresses: Collection[str]
) -> tuple[str, ...]:
    """The mail's Cc addresses that are not yet watchers: never the sender, nor an address
    of ours (another queue would get copies of everything)."""
    taken = {sender, *system_addresses}
    if ticket is not None:
        taken |= {*ticket.requestors, *ticket.ccs, *ticket.admin_ccs}
    return tuple(a for a in parsed.cc if a not in taken)


def open_ticket(
    *,
    ticket_id: int,
    txn_id: str,
    queue: Queue,
    parsed: ParsedMail,
    sender: str,
    now: datetime,
    threading_note: str,
    system_addresses: Collection[str] = (),
    facts: MailFacts | None = None,
) -> tuple[Ticket, Transaction]:
    own = {queue.correspond_address, queue.comment_address, *system_addresses}
    ccs = new_ccs_from_mail(parsed, None, sender, own) if queue.ccs_from_create else ()
    ticket = Ticket(
        id=ticket_id,
        queue=queue.name,
        subject=parsed.subject or NO_SUBJECT,
        status="new",
        created=now,
        updated=now,
        version=1,
        requestors=(sender,),
        ccs=ccs,
        message_ids=(parsed.message_id,) if parsed.message_id else (),
    )
    txn = Transaction(
        id=txn_id,
        ticket=ticket_id,
        seq=1,
        type="create",
        creator=sender,
        created=now,
        message=message_info(parsed),
        note=threading_note,
        mail=facts.model_copy(update={"ccs_added": ccs}) if facts else None,
    )
    return ticket, txn


def add_mail_to_ticket(
    ticket: Ticket,
    *,
    txn_id: str,
    kind: str,
    parsed: ParsedMail,
    sender: str,
    now: datetime,
    threading_note: str,
    sender_is_agent: bool = False,
    new_ccs: tuple[str, ...] = (),
    facts: MailFacts | None = None,
) -> tuple[Ticket, Transaction]:
    status = ticket.status
    if kind == "correspond":
        status = status_after_correspondence(status, by_agent=sender_is_agent)
    message_ids = ticket.message_ids
    if parsed.message_id and parsed.message_id not in message_ids:
        message_ids = (*message_ids, parsed.message_id)
    resolved = None if status != ticket.status else ticket.resolved  # reopened: not resolved
    after = ticket.with_changes(
        now,
        status=status,
        message_ids=message_ids,
        resolved=resolved,
        ccs=(*ticket.ccs, *new_ccs),
    )
    txn = Transaction(
        id=txn_id,
        ticket=ticket.id,
        seq=after.version,
        type=kind,
        creator=sender,
        created=now,
        message=message_info(parsed),
        old_value=ticket.status if status != ticket.status else None,
        new_value=status if status != ticket.status else None,
        note=threading_note,
        mail=facts.model_copy(update={"ccs_added": new_ccs}) if facts else None,
    )
    return after, txn


def record_bounce(
    ticket: Ticket,
    *,
    txn_id: str,
    parsed: ParsedMail,
    report: DeliveryReport,
    sender: str,
    now: datetime,
) -> tuple[Ticket, Transaction]:
    """A delivery report on the ticket whose mail it returns: the failing addresses and
    the report itself, for the agents to see (the ticket's status does not change)."""
    after = ticket.with_changes(now)
    failed = ", ".join(report.failed_recipients) or None
    txn = Transaction(
        id=txn_id,
        ticket=ticket.id,
        seq=after.version,
        type="bounce",
        creator=sender,
        created=now,
        message=message_info(parsed),
        new_value=failed,
        note="; ".join(report.details)[:2000] or "delivery report",
        mail=MailFacts(
            sender=sender, failed_recipients=report.failed_recipients, defects=parsed.defects
        ),
    )
    return after, txn


def record_delivery_failure(
    ticket: Ticket, *, txn_id: str, recipient: str, detail: str, now: datetime
) -> tuple[Ticket, Transaction]:
    """Our smarthost refused a mail of this ticket for good (an SMTP 5xx): shown on the
    ticket like a bounce, so agents see who did not get it and why."""
    after = ticket.with_changes(now)
    txn = Transaction(
        id=txn_id,
        ticket=ticket.id,
        seq=after.version,
        type="bounce",
        creator="notify",
        created=now,
        new_value=recipient,
        note=detail[:2000],
        mail=MailFacts(sender="notify", failed_recipients=(recipient,)),
    )
    return after, txn
