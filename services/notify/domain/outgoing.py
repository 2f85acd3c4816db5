"""Building the mails Guichet sends (pure: ids, dates and file contents come in).

Every mail comes from the queue, under its name, with replies going back to the same
address; it names its ticket in the subject tag and in its Message-ID; it threads under
one root per ticket and under the mail it answers; it says it was sent by a machine
(RFC 3834 ``Auto-Submitted``) and by which instance (our loop header), so no well-behaved
responder answers it and our own ingest recognises it if it comes back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from services.notify.domain.rules import PlannedMail, SentAs
from services.notify.domain.templates import RenderedMail
from shared.events.ticket import TicketTxnEvent
from shared.mail.loop_guard import LOOP_HEADER
from shared.mail.subject_tag import tagged_subject


@dataclass(frozen=True)
class AttachedFile:
    filename: str
    content_type: str
    content: bytes


def _domain(event: TicketTxnEvent) -> str:
    return event.queue.correspond_address.rpartition("@")[2] or "guichet.invalid"


def message_id_for(event: TicketTxnEvent, recipient: str, template: str) -> str:
    """Our Message-ID for one mail. It names the ticket (``<guichet.{rtname}.{ticket}.…``),
    which the tickets service recognises in the References of a reply."""
    digest = hashlib.sha256(f"{recipient}\0{template}".encode()).hexdigest()[:10]
    rtname, ticket, txn = event.queue.rtname, event.ticket.id, event.transaction.id
    return f"<guichet.{rtname}.{ticket}.{txn}.{digest}@{_domain(event)}>"


def root_message_id(event: TicketTxnEvent) -> str:
    """The id every mail about a ticket refers to, so that mail clients show them as one
    conversation. No mail has it; it matches the pattern of our own Message-IDs."""
    return f"<guichet.{event.queue.rtname}.{event.ticket.id}.0.root@{_domain(event)}>"


def sender_address(event: TicketTxnEvent, sent_as: SentAs) -> str:
    queue = event.queue
    return queue.comment_address if sent_as == "comment" else queue.correspond_address


def build_mail(
    event: TicketTxnEvent,
    planned: PlannedMail,
    rendered: RenderedMail,
    *,
    message_id: str,
    now: datetime,
    attachments: Sequence[AttachedFile] = (),
) -> EmailMessage:
    queue, ticket = event.queue, event.ticket
    mail = EmailMessage()
    sender = Address(display_name=queue.name, addr_spec=sender_address(event, planned.sent_as))
    mail["From"] = sender
    mail["Reply-To"] = sender
    mail["To"] = planned.recipient
    mail["Subject"] = tagged_subject(queue.rtname, ticket.id, rendered.subject)
    mail["Date"] = format_datetime(now)
    mail["Message-ID"] = message_id
    root = root_message_id(event)
    message = event.transaction.message
    answered = message.message_id if message is not None and message.message_id else None
    mail["In-Reply-To"] = answered or root
    mail["References"] = " ".join(dict.fromkeys(m for m in (root, answered) if m))
    mail["Auto-Submitted"] = "auto-replied" if planned.reply else "auto-generated"
    mail["Precedence"] = "bulk"
    mail["X-Auto-Response-Suppress"] = "All"  # Exchange/Outlook: no out-of-office replies
    mail[LOOP_HEADER] = queue.rtname
    mail["X-Guichet-Ticket"] = str(ticket.id)
    mail.set_content(rendered.text)
    mail.add_alternative(rendered.html, subtype="html")
    for file in attachments:
        maintype, _, subtype = file.content_type.partition("/")
        # A container type cannot be sent as base64 bytes (RFC 2046): as a plain file then.
        if not (maintype and subtype) or maintype in ("multipart", "message"):
            maintype, subtype = "application", "octet-stream"
        mail.add_attachment(
            file.content, maintype=maintype, subtype=subtype, filename=file.filename
        )
    return mail
