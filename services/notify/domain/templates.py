"""The mail templates (pure): RT's defaults in French and English, and their rendering.

A template is two Jinja2 sources, a subject and a body, written as plain text. Each is
rendered in a sandbox (an administrator edits them), with undefined variables refused:
a template is checked when it is saved, against a sample of every variable.

The body gives both parts of the mail: the text part as written, and the HTML part from
the same source with every variable escaped, the layout kept (``white-space: pre-wrap``)
and ``message`` as the message's sanitised HTML when it has one.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape

from services.notify.domain.forwarding import HistoryEntry
from services.notify.domain.samples import SAMPLE_EVENT, SAMPLE_HISTORY
from shared.errors import InvalidInputError
from shared.events.ticket import MailCommandOutcome, TicketTxnEvent
from shared.mail.html_sanitizer import sanitize_html
from shared.mail.subject_tag import format_tag

Language = Literal["fr", "en"]
LANGUAGES: tuple[Language, ...] = ("fr", "en")
DEFAULT_LANGUAGE: Language = "fr"


@dataclass(frozen=True)
class TemplateText:
    subject: str
    body: str


@dataclass(frozen=True)
class RenderedMail:
    subject: str  # one line, without the ticket's tag
    text: str
    html: str


def language_of(queue_language: str) -> Language:
    """The language of a queue's mails: its own when we have templates in it, else French.
    (Recipients' own languages are not in the events: the queue's is used for everyone.)"""
    for language in LANGUAGES:
        if queue_language == language:
            return language
    return DEFAULT_LANGUAGE


_FOOTER_FR = "-- \n{{ queue.name }} {{ tag }} : pour répondre, gardez {{ tag }} dans l'objet.\n"
_FOOTER_EN = "-- \n{{ queue.name }} {{ tag }}: to reply, keep {{ tag }} in the subject.\n"
_TICKET_FR = (
    "-- \nFile {{ queue.name }} · statut {{ status }} · intervenant {{ ticket.owner }}\n"
    "Demandeurs : {{ ticket.requestors | join(', ') }}\n"
)
_TICKET_EN = (
    "-- \nQueue {{ queue.name }} · status {{ status }} · owner {{ ticket.owner }}\n"
    "Requestors: {{ ticket.requestors | join(', ') }}\n"
)
_RULE = "------------------------------------------------------------------------\n"

DEFAULT_TEMPLATES: dict[str, dict[str, TemplateText]] = {
    # To the requestors of a new ticket: its number and how to add to it.
    "autoreply": {
        "fr": TemplateText(
            "{{ ticket.subject }}",
            "Bonjour,\n\n"
            "Ce message a été envoyé automatiquement en réponse à votre demande\n"
            "« {{ ticket.subject }} ».\n\n"
            "Elle a été enregistrée sous le numéro {{ tag }}. Pour compléter votre demande,\n"
            "répondez simplement à ce message en gardant {{ tag }} dans l'objet.\n\n"
            "Votre message :\n" + _RULE + "{{ message }}\n",
        ),
        "en": TemplateText(
            "{{ ticket.subject }}",
            "Hello,\n\n"
            "This message was sent automatically in reply to your request\n"
            '"{{ ticket.subject }}".\n\n'
            "It has been recorded as {{ tag }}. To add to it, just reply to this\n"
            "message and keep {{ tag }} in the subject.\n\n"
            "Your message:\n" + _RULE + "{{ message }}\n",
        ),
    },
    # The message itself, to requestors and Ccs (and to Ccs named at creation).
    "correspondence": {
        "fr": TemplateText("{{ subject }}", "{{ message }}\n\n" + _FOOTER_FR),
        "en": TemplateText("{{ subject }}", "{{ message }}\n\n" + _FOOTER_EN),
    },
    # The message, to the owner and AdminCcs, with the ticket's state.
    "admin_correspondence": {
        "fr": TemplateText(
            "{{ subject }}",
            "{{ author }} a écrit sur {{ tag }} « {{ ticket.subject }} » :\n\n"
            "{{ message }}\n\n" + _TICKET_FR,
        ),
        "en": TemplateText(
            "{{ subject }}",
            '{{ author }} wrote on {{ tag }} "{{ ticket.subject }}":\n\n'
            "{{ message }}\n\n" + _TICKET_EN,
        ),
    },
    # An internal comment, to the owner and AdminCcs only.
    "admin_comment": {
        "fr": TemplateText(
            "[Commentaire] {{ ticket.subject }}",
            "Commentaire interne de {{ author }} sur {{ tag }} (jamais envoyé aux demandeurs\n"
            "ni aux observateurs) :\n\n{{ message }}\n\n"
            + _TICKET_FR
            + "Répondre à ce message ajoute un commentaire ({{ queue.comment_address }}).\n",
        ),
        "en": TemplateText(
            "[Comment] {{ ticket.subject }}",
            "Internal comment by {{ author }} on {{ tag }} (never sent to requestors\n"
            "or Ccs):\n\n{{ message }}\n\n"
            + _TICKET_EN
            + "Replying to this message adds a comment ({{ queue.comment_address }}).\n",
        ),
    },
    "resolved": {
        "fr": TemplateText(
            "Résolu : {{ ticket.subject }}",
            "Bonjour,\n\n"
            "Votre demande « {{ ticket.subject }} » ({{ tag }}) a été résolue.\n\n"
            "{% if message %}{{ message }}\n\n{% endif %}"
            "Si ce n'est pas le cas, répondez simplement à ce message : la demande sera\n"
            "rouverte.\n",
        ),
        "en": TemplateText(
            "Resolved: {{ ticket.subject }}",
            "Hello,\n\n"
            'Your request "{{ ticket.subject }}" ({{ tag }}) has been resolved.\n\n'
            "{% if message %}{{ message }}\n\n{% endif %}"
            "If it is not, just reply to this message: the request will be reopened.\n",
        ),
    },
    "owner_given": {
        "fr": TemplateText(
            "Ticket confié : {{ ticket.subject }}",
            "Bonjour,\n\n"
            "{{ author }} vous a confié le ticket {{ tag }} « {{ ticket.subject }} »\n"
            "(file {{ queue.name }}, statut {{ status }}).\n"
            "Demandeurs : {{ ticket.requestors | join(', ') }}\n",
        ),
        "en": TemplateText(
            "Assigned to you: {{ ticket.subject }}",
            "Hello,\n\n"
            '{{ author }} gave you ticket {{ tag }} "{{ ticket.subject }}"\n'
            "(queue {{ queue.name }}, status {{ status }}).\n"
            "Requestors: {{ ticket.requestors | join(', ') }}\n",
        ),
    },
    # The ticket sent outside: the agent's note, then its public history.
    "forward": {
        "fr": TemplateText(
            "Tr : {{ ticket.subject }}",
            "{% if message %}{{ message }}\n\n{% endif %}"
            "{{ author }} vous transfère le ticket {{ tag }} « {{ ticket.subject }} »\n"
            "de la file {{ queue.name }}.\n"
            "{% for entry in history %}\n\n"
            "----- {{ entry.created }}, {{ entry.creator }} -----\n"
            "{{ entry.text }}\n"
            "{% endfor %}",
        ),
        "en": TemplateText(
            "Fwd: {{ ticket.subject }}",
            "{% if message %}{{ message }}\n\n{% endif %}"
            '{{ author }} forwards you ticket {{ tag }} "{{ ticket.subject }}"\n'
            "of queue {{ queue.name }}.\n"
            "{% for entry in history %}\n\n"
            "----- {{ entry.created }}, {{ entry.creator }} -----\n"
            "{{ entry.text }}\n"
            "{% endfor %}",
        ),
    },
    # To the sender of a mail whose commands did not all apply: every line and its fate.
    "command_errors": {
        "fr": TemplateText(
            "Commandes non appliquées : {{ ticket.subject }}",
            "Bonjour,\n\n"
            "Votre message a été enregistré sur {{ tag }} « {{ ticket.subject }} », mais\n"
            "certaines de ses commandes n'ont pas été appliquées :\n\n"
            "{% for command in commands %}\n"
            "  {{ command.line }}\n"
            "      → {{ command.outcome }}"
            "{{ (' : ' ~ command.reason) if command.reason else '' }}\n"
            "{% endfor %}\n\n"
            "Pour compléter, répondez à ce message en gardant {{ tag }} dans l'objet.\n",
        ),
        "en": TemplateText(
            "Commands not applied: {{ ticket.subject }}",
            "Hello,\n\n"
            'Your message was recorded on {{ tag }} "{{ ticket.subject }}", but some of\n'
            "its commands were not applied:\n\n"
            "{% for command in commands %}\n"
            "  {{ command.line }}\n"
            "      → {{ command.outcome }}"
            "{{ (': ' ~ command.reason) if command.reason else '' }}\n"
            "{% endfor %}\n\n"
            "To add to it, reply to this message and keep {{ tag }} in the subject.\n",
        ),
    },
}
TEMPLATE_NAMES = tuple(DEFAULT_TEMPLATES)

# What templates may use; each is described in README-style terms for administrators.
TEMPLATE_VARIABLES: tuple[str, ...] = (
    "ticket (id, subject, status, owner, requestors, ccs, admin_ccs, queue, priority, "
    "custom_fields, due)",
    "queue (name, correspond_address, comment_address)",
    "tag: the ticket's [rtname #id]",
    "subject: the message's subject, else the ticket's",
    "status: the ticket's status, in the template's language",
    "message: the transaction's message (its text; its HTML in the HTML part)",
    "author: who made the transaction",
    "recipient: who this mail is for",
    "transaction (type, old_value, new_value, note, created)",
    "commands: the mail's command lines (line, command, outcome, reason)",
    "history: for a forward, the ticket's public entries (created, creator, type, text)",
    "attachments: the names of the files attached",
)

_STATUS_LABELS = {
    "fr": {
        "new": "nouveau", "open": "ouvert", "stalled": "stagnant", "resolved": "résolu",
        "rejected": "rejeté", "deleted": "effacé",
    },
    "en": {
        "new": "new", "open": "open", "stalled": "stalled", "resolved": "resolved",
        "rejected": "rejected", "deleted": "deleted",
    },
}  # fmt: skip
_OUTCOME_LABELS = {
    "fr": {
        "applied": "appliquée", "unchanged": "déjà le cas", "refused": "refusée",
        "invalid": "invalide", "unknown": "commande inconnue",
    },
    "en": {
        "applied": "applied", "unchanged": "already so", "refused": "refused",
        "invalid": "invalid", "unknown": "unknown command",
    },
}  # fmt: skip


def _environment(*, html: bool) -> ImmutableSandboxedEnvironment:
    return ImmutableSandboxedEnvironment(
        undefined=StrictUndefined,
        autoescape=html,
        keep_trailing_newline=True,
        trim_blocks=True,
    )


_TEXT = _environment(html=False)
_HTML = _environment(html=True)


@functools.lru_cache(maxsize=512)
def _compiled(source: str, *, html: bool) -> Any:
    return (_HTML if html else _TEXT).from_string(source)


@dataclass(frozen=True)
class TemplateContext:
    values: Mapping[str, Any]  # what the subject and the text part see
    message_html: Markup  # ``message`` in the HTML part


_TICKET_FIELDS = {
    "id", "subject", "status", "owner", "requestors", "ccs", "admin_ccs", "queue", "priority",
    "custom_fields", "due",
}  # fmt: skip


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _message_html(html: str | None, text: str) -> Markup:
    if html:
        # Sanitised again here: this HTML goes out under our name.
        return Markup('<div style="white-space:normal">{}</div>').format(
            Markup(sanitize_html(html))  # noqa: S704 - sanitised just now
        )
    return escape(text)


def template_context(
    event: TicketTxnEvent,
    *,
    recipient: str,
    language: str,
    history: Sequence[HistoryEntry] = (),
) -> TemplateContext:
    ticket, queue, txn = event.ticket, event.queue, event.transaction
    message = txn.message
    text = (message.text if message else "").strip()
    commands: tuple[MailCommandOutcome, ...] = txn.mail.commands if txn.mail else ()
    outcomes = _OUTCOME_LABELS[language]
    values = {
        "ticket": ticket.model_dump(include=_TICKET_FIELDS),
        "queue": queue.model_dump(include={"name", "correspond_address", "comment_address"}),
        "tag": format_tag(queue.rtname, ticket.id),
        "subject": (message.subject if message and message.subject else ticket.subject),
        "status": _STATUS_LABELS[language].get(ticket.status, ticket.status),
        "message": text,
        "author": txn.creator,
        "recipient": recipient,
        "transaction": {
            "type": txn.type,
            "old_value": txn.old_value,
            "new_value": txn.new_value,
            "note": txn.note,
            "created": _when(txn.created),
        },
        "commands": [
            {
                "line": c.line,
                "command": c.command,
                "outcome": outcomes.get(c.outcome, c.outcome),
                "reason": c.reason,
            }
            for c in commands
        ],
        "history": [
            {"created": _when(e.created), "creator": e.creator, "type": e.type, "text": e.text}
            for e in history
        ],
        "attachments": [a.filename for a in (message.attachments if message else ())],
    }
    return TemplateContext(values, _message_html(message.html if message else None, text))


_HTML_PAGE = Markup(
    '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head>\n'
    '<body><div style="white-space:pre-wrap;font-family:sans-serif">{}</div></body></html>\n'
)


def render(template: TemplateText, context: TemplateContext) -> RenderedMail:
    """Both parts and the subject; raises jinja2's TemplateError when the template fails."""
    subject = _compiled(template.subject, html=False).render(context.values)
    text = _compiled(template.body, html=False).render(context.values)
    html_body = _compiled(template.body, html=True).render(
        {**context.values, "message": context.message_html}
    )
    return RenderedMail(" ".join(subject.split()), text, _HTML_PAGE.format(Markup(html_body)))  # noqa: S704 - autoescaped


def check_template(template: TemplateText, sample: TemplateContext) -> None:
    """Refuse a template that does not render against ``sample`` (every variable set)."""
    try:
        render(template, sample)
    except TemplateError as exc:
        raise InvalidInputError(f"the template does not render: {exc}") from exc


def sample_context(language: str) -> TemplateContext:
    """A context with every variable set, to check an administrator's template."""
    return template_context(
        SAMPLE_EVENT, recipient="demandeur@example.net", language=language, history=SAMPLE_HISTORY
    )
