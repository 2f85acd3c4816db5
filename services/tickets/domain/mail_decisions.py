"""What a mail does to a ticket (pure): open one, or add correspondence or a comment."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from services.tickets.domain.lifecycle import status_after_correspondence
from services.tickets.domain.model import Queue, Ticket, Transaction
from shared.events.ticket import AttachmentInfo, MessageInfo
from shared.mail.html_sanitizer import sanitize_html
from shared.mail.parsing import ParsedMail

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
        attachments=tuple(
            AttachmentInfo(
                filename=a.filename,
                content_type=a.content_type,
                size=len(a.content),
                sha256=a.sha256,
            )
            for a in parsed.attachments
        ),
    )


def sender_of(parsed: ParsedMail, envelope_from: str) -> str:
    return parsed.from_address or envelope_from or "unknown@invalid"


def open_ticket(
    *,
    ticket_id: int,
    txn_id: str,
    queue: Queue,
    parsed: ParsedMail,
    sender: str,
    now: datetime,
    threading_note: str,
    ccs_from_mail: bool = True,
    system_addresses: Collection[str] = (),
) -> tuple[Ticket, Transaction]:
    # Never a Cc: the sender, nor any address of ours (another queue would get copies).
    own = {queue.correspond_address, queue.comment_address, sender, *system_addresses}
    ccs = tuple(a for a in parsed.cc if a not in own) if ccs_from_mail else ()
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
) -> tuple[Ticket, Transaction]:
    status = ticket.status
    if kind == "correspond":
        status = status_after_correspondence(status, by_agent=sender_is_agent)
    message_ids = ticket.message_ids
    if parsed.message_id and parsed.message_id not in message_ids:
        message_ids = (*message_ids, parsed.message_id)
    resolved = None if status != ticket.status else ticket.resolved  # reopened: not resolved
    after = ticket.with_changes(now, status=status, message_ids=message_ids, resolved=resolved)
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
    )
    return after, txn
