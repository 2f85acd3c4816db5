"""Which mails a ticket transaction sends, to whom (pure). RT calls these scrips.

Each rule is data: the transactions it fires on, the roles it writes to, its template,
the queue address it is sent from, and what kind of mail it is. An administrator switches
rules on or off per queue (see ``QueueSettings``); the defaults are RT's.

The choices, where RT leaves room or users expect more:

- One mail per recipient, ``To:`` that recipient alone: requestors, Ccs and AdminCcs never
  see each other's addresses (RT hides AdminCcs in Bcc; we hide everyone — simplest, and
  replies go to the queue, which shares them anyway).
- One mail per (transaction, person): rules are tried in order and the first that names
  someone is the one they get. So the sender of a mail whose commands failed gets the
  report of those commands (which also says how to reply) instead of the autoreply, and a
  requestor who is also an AdminCc gets the requestor's mail.
- A copy of a message skips who already has it: its author (RT's NotifyActor, off unless
  the queue says so) and the people in the To and Cc of the mail it came in, who got it
  from the sender directly. Ccs named at creation by an ``AddCc:`` command are not in the
  mail's headers: they receive the creating message, which is how a supplier gets a quote
  request (RT would send nothing to Ccs on create).
- A message with nothing in it (a mail that held only commands) is not copied to anyone.
- Automatic replies (the autoreply, the command report) never go to a machine: not when
  ingest found the mail automatic (RFC 3834: auto-submitted, bulk or list mail, a mailer
  daemon, our own loop header), nor to a mailer-daemon address; and the shell limits how
  many one address gets per hour.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from services.notify.domain.recipients import (
    Role,
    already_have_the_mail,
    holders,
    mailable,
    queue_addresses,
)
from services.notify.domain.templates import DEFAULT_TEMPLATES, TemplateText
from shared.events.ticket import NOBODY, TicketTxnEvent
from shared.mail.addresses import is_mailer_daemon

SentAs = Literal["correspond", "comment"]


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    fires: Callable[[TicketTxnEvent], bool]
    roles: tuple[Role, ...]
    template: str
    sent_as: SentAs = "correspond"  # the queue address it comes from, and replies go to
    # An automatic reply to someone's mail (RFC 3834 "auto-replied"): never to machines,
    # rate-limited per address; the others are "auto-generated".
    reply: bool = False
    # It carries the transaction's message: not to its author nor to whoever was in the
    # mail's To/Cc; nothing when the message is empty; its attachments go with it.
    copy_of_message: bool = False
    to_author: bool = False  # the author is a recipient like any other (autoreply, forward)
    forwards_ticket: bool = False  # it carries the ticket's public history and its files
    enabled: bool = True


def _kind(kind: str) -> Callable[[TicketTxnEvent], bool]:
    return lambda event: event.transaction.type == kind


def _resolved(event: TicketTxnEvent) -> bool:
    txn = event.transaction
    return txn.type == "status" and txn.new_value == "resolved"


def _given(event: TicketTxnEvent) -> bool:
    txn = event.transaction
    return txn.type == "owner" and txn.note == "give" and txn.new_value not in (None, NOBODY)


def _failed_commands(event: TicketTxnEvent) -> bool:
    mail = event.transaction.mail
    return mail is not None and bool(mail.failed_commands)


ADMINS: tuple[Role, ...] = ("owner", "admin_ccs", "queue_admin_ccs")

RULES: tuple[Rule, ...] = (
    Rule(
        "on_mail_commands_report_errors",
        "A mail whose commands did not all apply: their outcomes, to its sender",
        _failed_commands,
        ("mail_sender",),
        "command_errors",
        reply=True,
        to_author=True,
    ),
    Rule(
        "on_create_autoreply_to_requestors",
        "On create, acknowledge to the requestors: the ticket's number and how to reply",
        _kind("create"),
        ("requestors",),
        "autoreply",
        reply=True,
        to_author=True,
    ),
    Rule(
        "on_create_notify_ccs",
        "On create, the message to the Ccs named at creation (e.g. by an AddCc: command)",
        _kind("create"),
        ("ccs",),
        "correspondence",
        copy_of_message=True,
    ),
    Rule(
        "on_create_notify_owner_and_admin_ccs",
        "On create, the message to the owner and the AdminCcs (the ticket's and the queue's)",
        _kind("create"),
        ADMINS,
        "admin_correspondence",
        copy_of_message=True,
    ),
    Rule(
        "on_correspond_notify_requestors_and_ccs",
        "On correspondence, the message to the requestors and Ccs (the ticket's and the queue's)",
        _kind("correspond"),
        ("requestors", "ccs", "queue_ccs"),
        "correspondence",
        copy_of_message=True,
    ),
    Rule(
        "on_correspond_notify_owner_and_admin_ccs",
        "On correspondence, the message to the owner and the AdminCcs",
        _kind("correspond"),
        ADMINS,
        "admin_correspondence",
        copy_of_message=True,
    ),
    Rule(
        "on_comment_notify_owner_and_admin_ccs",
        "On comment, the comment to the owner and the AdminCcs only, from the comment address",
        _kind("comment"),
        ADMINS,
        "admin_comment",
        sent_as="comment",
        copy_of_message=True,
    ),
    Rule(
        "on_resolve_notify_requestors",
        "On resolve, the resolution notice to the requestors",
        _resolved,
        ("requestors",),
        "resolved",
    ),
    Rule(
        "on_give_notify_new_owner",
        "When a ticket is given to someone, a notice to them (nothing on take or steal)",
        _given,
        ("owner",),
        "owner_given",
    ),
    Rule(
        "on_forward_send_to_recipients",
        "On forward, the ticket (its note and public history) to the given addresses",
        _kind("forward"),
        ("forward_to",),
        "forward",
        to_author=True,
        forwards_ticket=True,
    ),
)
RULES_BY_NAME: dict[str, Rule] = {rule.name: rule for rule in RULES}


@dataclass(frozen=True)
class QueueSettings:
    """An administrator's choices for one queue; what is not set is RT's default."""

    rules: Mapping[str, bool] = field(default_factory=dict)  # rule name → enabled
    templates: Mapping[tuple[str, str], TemplateText] = field(default_factory=dict)
    notify_actor: bool = False

    def enabled(self, rule: Rule) -> bool:
        return self.rules.get(rule.name, rule.enabled)

    def template(self, name: str, language: str) -> TemplateText:
        return self.templates.get((name, language)) or DEFAULT_TEMPLATES[name][language]


@dataclass(frozen=True)
class PlannedMail:
    rule: str
    template: str
    recipient: str
    sent_as: SentAs
    reply: bool  # an autoreply: "auto-replied", rate-limited
    copy_of_message: bool  # the transaction's files go with it
    forwards_ticket: bool  # the ticket's public history and its files go with it


def _from_a_machine(event: TicketTxnEvent) -> bool:
    return event.loop is not None and event.loop.suppress_autoreply


def _has_content(event: TicketTxnEvent) -> bool:
    message = event.transaction.message
    return message is not None and bool(message.text.strip() or message.attachments)


def plan_notifications(
    event: TicketTxnEvent, settings: QueueSettings | None = None
) -> list[PlannedMail]:
    """The mails ``event`` calls for, in rule order, at most one per person."""
    settings = settings or QueueSettings()
    ours = queue_addresses(event)
    planned: list[PlannedMail] = []
    taken: set[str] = set()
    for rule in RULES:
        if not (settings.enabled(rule) and rule.fires(event)):
            continue
        if rule.reply and _from_a_machine(event):
            continue
        if rule.copy_of_message and not _has_content(event):
            continue
        skipped = set(ours)
        if not (rule.to_author or settings.notify_actor):
            skipped.add(event.transaction.creator)
        if rule.copy_of_message:
            skipped |= already_have_the_mail(event)
        for role in rule.roles:
            for address in holders(event, role):
                if address in taken or address in skipped or not mailable(address):
                    continue
                if rule.reply and is_mailer_daemon(address):
                    continue
                taken.add(address)
                planned.append(
                    PlannedMail(
                        rule=rule.name,
                        template=rule.template,
                        recipient=address,
                        sent_as=rule.sent_as,
                        reply=rule.reply,
                        copy_of_message=rule.copy_of_message,
                        forwards_ticket=rule.forwards_ticket,
                    )
                )
    return planned
