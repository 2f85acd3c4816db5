"""Two Guichet instances, or Guichet and a vacation auto-responder, answering each other:
the exchange stops after at most one autoreply each.

Each side is played with the real code of its path: ingest's loop classification of the
mail it receives, notify's rules, templates and mail building for what it sends back. A
mail to an address nobody plays (a person) ends there.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

from services.notify.domain.outgoing import build_mail, message_id_for
from services.notify.domain.rules import plan_notifications
from services.notify.domain.templates import DEFAULT_TEMPLATES, render, template_context
from shared.events.ticket import (
    TICKET_TXN_EVENTS,
    MessageInfo,
    QueueInfo,
    TicketSnapshot,
    TransactionInfo,
)
from shared.mail.loop_guard import classify_loop
from shared.mail.parsing import parse_mail
from shared.mail.subject_tag import find_ticket_ids

NOW = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)
ALPHA = "achats@alpha.example.org"
BETA = "support@beta.example.com"
AWAY = "paul@client.example.net"


@dataclass
class Guichet:
    """One instance, one queue; a mail with its tag adds to a ticket, any other opens one."""

    rtname: str
    address: str
    requestors: dict[int, str] = field(default_factory=dict)
    autoreplies: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def receive(self, mail: EmailMessage) -> list[EmailMessage]:
        parsed = parse_mail(mail.as_bytes())
        loop = classify_loop(parsed.headers, parsed.from_address, self.rtname)
        tagged = [i for i in find_ticket_ids(parsed.subject, [self.rtname]) if i in self.requestors]
        ticket_id = tagged[0] if tagged else next(self._ids)
        kind = "correspond" if tagged else "create"
        self.requestors.setdefault(ticket_id, parsed.from_address)
        queue = QueueInfo(
            name=self.rtname,
            correspond_address=self.address,
            comment_address=self.address.replace("@", "-comment@"),
            rtname=self.rtname,
        )
        event = TICKET_TXN_EVENTS[f"ticket.txn.{kind}"](
            ticket=TicketSnapshot(
                id=ticket_id,
                queue=self.rtname,
                subject=parsed.subject,
                status="new",
                requestors=(self.requestors[ticket_id],),
                created=NOW,
                updated=NOW,
                version=1,
            ),
            transaction=TransactionInfo(
                id=f"{self.rtname}-{ticket_id}-{len(self.requestors)}-{kind}",
                seq=1,
                type=kind,
                creator=parsed.from_address,
                created=NOW,
                message=MessageInfo(
                    message_id=parsed.message_id,
                    subject=parsed.subject,
                    from_address=parsed.from_address,
                    to=parsed.to,
                    text=parsed.text,
                ),
            ),
            queue=queue,
            loop=loop,
        )
        out = []
        for planned in plan_notifications(event):
            context = template_context(event, recipient=planned.recipient, language="fr")
            out.append(
                build_mail(
                    event,
                    planned,
                    render(DEFAULT_TEMPLATES[planned.template]["fr"], context),
                    message_id=message_id_for(event, planned.recipient, planned.template),
                    now=NOW,
                )
            )
            self.autoreplies += planned.reply
        return out


@dataclass
class VacationResponder:
    """Answers mail while its owner is away. A well-behaved one (RFC 3834) answers each
    sender once and never a machine, and marks its answer; a careless one answers all."""

    address: str
    careful: bool
    answered: set[str] = field(default_factory=set)
    autoreplies: int = 0

    def receive(self, mail: EmailMessage) -> list[EmailMessage]:
        parsed = parse_mail(mail.as_bytes())
        sender = parsed.reply_to[0] if parsed.reply_to else parsed.from_address
        if self.careful:
            facts = classify_loop(parsed.headers, parsed.from_address, "vacation")
            if facts.suppress_autoreply or sender in self.answered:
                return []
        self.answered.add(sender)
        self.autoreplies += 1
        answer = EmailMessage()
        answer["From"] = self.address
        answer["To"] = sender
        answer["Subject"] = f"Absent : {parsed.subject}"
        answer["Message-ID"] = f"<away-{self.autoreplies}@client.example.net>"
        if parsed.message_id:
            answer["In-Reply-To"] = parsed.message_id
        if self.careful:
            answer["Auto-Submitted"] = "auto-replied"
        answer.set_content("Je suis absent jusqu'au 12 mai.")
        return [answer]


Party = Guichet | VacationResponder


def exchange(first: EmailMessage, parties: list[Party], limit: int = 50) -> int:
    """Deliver mail between the parties until none is left; the number of mails sent."""
    by_address = {p.address: p for p in parties}
    pending, delivered = [first], 0
    while pending:
        mail = pending.pop(0)
        delivered += 1
        assert delivered <= limit, "the parties answer each other without end"
        party = by_address.get(str(mail["To"]))
        if party is not None:
            pending.extend(party.receive(mail))
    return delivered


def first_mail(sender: str, to: str) -> EmailMessage:
    """A mail as a person writes it: nothing marks it automatic."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = "Demande de devis"
    mail["Message-ID"] = "<first@example.net>"
    mail.set_content("Bonjour,\nun devis svp.")
    return mail


def test_two_guichets_writing_to_each_other_stop_after_one_autoreply() -> None:
    # Beta's queue address writes to Alpha (say, a forward rule on Beta's side).
    alpha, beta = Guichet("alpha", ALPHA), Guichet("beta", BETA)
    exchange(first_mail(BETA, ALPHA), [alpha, beta])
    assert (alpha.autoreplies, beta.autoreplies) == (1, 0)
    assert len(beta.requestors) == 1  # Beta recorded Alpha's autoreply, and said nothing


def test_two_guichets_with_the_same_name_stop_too() -> None:
    # Same rtname on both sides: each sees its own loop header on the other's mail.
    alpha, beta = Guichet("example", ALPHA), Guichet("example", BETA)
    exchange(first_mail(BETA, ALPHA), [alpha, beta])
    assert (alpha.autoreplies, beta.autoreplies) == (1, 0)


@pytest.mark.parametrize("careful", [True, False], ids=["rfc3834-responder", "careless-responder"])
def test_guichet_and_a_vacation_responder_stop_after_one_autoreply_each(careful: bool) -> None:
    guichet, away = Guichet("example", ALPHA), VacationResponder(AWAY, careful=careful)
    # The person wrote before leaving; their responder answers Guichet's acknowledgement.
    exchange(first_mail(AWAY, ALPHA), [guichet, away])
    assert guichet.autoreplies == 1
    assert away.autoreplies <= 1
    # A careless responder's answer lands on the ticket as correspondence from the
    # requestor, who is its author: nobody else is on the ticket, so nothing goes out.
    assert len(guichet.requestors) == 1
