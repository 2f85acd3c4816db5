"""Building the mails Guichet sends (pure: ids and dates come in)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from jinja2 import Environment, StrictUndefined

from shared.events.ticket import TicketTxnEvent
from shared.mail.loop_guard import LOOP_HEADER
from shared.mail.subject_tag import format_tag, tagged_subject

_env = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)  # noqa: S701 - text mail

AUTOREPLY = {
    "fr": _env.from_string(
        "Bonjour,\n\n"
        "Ce message a été envoyé automatiquement en réponse à votre demande\n"
        "« {{ subject }} ».\n\n"
        "Elle a été enregistrée sous le numéro {{ tag }}. Pour compléter votre demande,\n"
        "répondez simplement à ce message en gardant {{ tag }} dans l'objet.\n\n"
        "Votre message :\n"
        "------------------------------------------------------------------------\n"
        "{{ text }}\n"
    ),
    "en": _env.from_string(
        "Hello,\n\n"
        "This message was sent automatically in reply to your request\n"
        '"{{ subject }}".\n\n'
        "It has been recorded as {{ tag }}. To add to it, just reply to this\n"
        "message and keep {{ tag }} in the subject.\n\n"
        "Your message:\n"
        "------------------------------------------------------------------------\n"
        "{{ text }}\n"
    ),
}


def message_id_for(event: TicketTxnEvent, recipient: str, template: str) -> str:
    """Our Message-ID for one mail: it names the ticket, so replies thread by References."""
    digest = hashlib.sha256(f"{recipient}\0{template}".encode()).hexdigest()[:10]
    domain = event.queue.correspond_address.rpartition("@")[2] or "guichet.invalid"
    rtname, ticket, txn = event.queue.rtname, event.ticket.id, event.transaction.id
    return f"<guichet.{rtname}.{ticket}.{txn}.{digest}@{domain}>"


def build_autoreply(
    event: TicketTxnEvent, recipient: str, *, message_id: str, now: datetime
) -> EmailMessage:
    queue, ticket = event.queue, event.ticket
    language = queue.language if queue.language in AUTOREPLY else "fr"
    message = event.transaction.message
    body = AUTOREPLY[language].render(
        subject=ticket.subject,
        tag=format_tag(queue.rtname, ticket.id),
        text=(message.text if message else "").strip(),
    )
    mail = EmailMessage()
    sender = Address(display_name=queue.name, addr_spec=queue.correspond_address)
    mail["From"] = sender
    mail["Reply-To"] = sender
    mail["To"] = recipient
    mail["Subject"] = tagged_subject(queue.rtname, ticket.id, ticket.subject)
    mail["Date"] = format_datetime(now)
    mail["Message-ID"] = message_id
    if message and message.message_id:
        mail["In-Reply-To"] = message.message_id
        mail["References"] = message.message_id
    mail["Auto-Submitted"] = "auto-replied"
    mail["Precedence"] = "bulk"
    mail[LOOP_HEADER] = queue.rtname
    mail["X-Guichet-Ticket"] = str(ticket.id)
    mail.set_content(body)
    return mail
