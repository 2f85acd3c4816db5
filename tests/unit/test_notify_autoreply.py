"""notify.domain: which mails a transaction sends (rules) and the autoreply itself (outgoing)."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import parsedate_to_datetime

import pytest

from services.notify.domain.outgoing import build_autoreply, message_id_for
from services.notify.domain.rules import PlannedMail, plan_notifications
from services.tickets.domain.mail_threading import thread_mail, ticket_ids_in_our_message_ids
from shared.events.mail import LoopFacts
from shared.events.ticket import TicketTxnEvent
from shared.mail.loop_guard import LOOP_HEADER, classify_loop
from shared.mail.parsing import parse_mail
from shared.mail.subject_tag import find_ticket_ids
from tests.unit.factories import (
    ACHATS,
    ALICE,
    BOB,
    NOW,
    RTNAME,
    message_info,
    queue_info,
    snapshot,
    ticket_created,
    txn_event,
)

# --- rules -----------------------------------------------------------------------------------


def test_creation_sends_an_autoreply_to_each_requestor() -> None:
    event = ticket_created(ticket=snapshot(requestors=(ALICE, BOB)))
    assert plan_notifications(event) == [
        PlannedMail("autoreply", ALICE, "correspond"),
        PlannedMail("autoreply", BOB, "correspond"),
    ]


@pytest.mark.parametrize(
    "loop",
    [None, LoopFacts(), LoopFacts(reasons=("noted",))],
    ids=["from-the-web", "from-a-person", "reason-without-flag"],
)
def test_creation_by_a_person_is_acknowledged(loop: LoopFacts | None) -> None:
    assert len(plan_notifications(ticket_created(loop=loop))) == 1


@pytest.mark.parametrize(
    "loop",
    [
        LoopFacts(auto_submitted=True),
        LoopFacts(bulk_or_list=True),
        LoopFacts(mailer_daemon=True),
        LoopFacts(our_loop=True),
    ],
    ids=["auto-submitted", "bulk-or-list", "mailer-daemon", "our-loop"],
)
def test_creation_by_a_machine_gets_no_autoreply(loop: LoopFacts) -> None:
    assert plan_notifications(ticket_created(loop=loop)) == []


@pytest.mark.parametrize("kind", ["correspond", "comment"])
def test_other_transactions_send_no_autoreply(kind: str) -> None:
    assert plan_notifications(txn_event(kind)) == []


def test_ticket_without_requestors_sends_nothing() -> None:
    assert plan_notifications(ticket_created(ticket=snapshot(requestors=()))) == []


# --- the autoreply ---------------------------------------------------------------------------


def autoreply(event: TicketTxnEvent | None = None, recipient: str = ALICE) -> EmailMessage:
    event = event or ticket_created()
    return build_autoreply(
        event,
        recipient,
        message_id=message_id_for(event, recipient, "autoreply"),
        now=NOW,
    )


@pytest.mark.parametrize("header", ["From", "Reply-To"])
def test_autoreply_comes_from_the_queue_under_its_name(header: str) -> None:
    (address,) = autoreply()[header].addresses
    assert (address.display_name, address.addr_spec) == ("achats", ACHATS)


def test_autoreply_goes_to_the_requestor() -> None:
    assert autoreply(recipient=BOB)["To"] == BOB


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Commande de stylos", "[example #7] Commande de stylos"),
        ("[example #7] Commande de stylos", "[example #7] Commande de stylos"),
        ("", "[example #7]"),
    ],
)
def test_autoreply_subject_carries_the_tag_exactly_once(subject: str, expected: str) -> None:
    mail = autoreply(ticket_created(ticket=snapshot(subject=subject)))
    assert mail["Subject"] == expected
    assert mail["Subject"].count("[example #7]") == 1


def test_autoreply_declares_itself_automatic_and_ours() -> None:
    mail = autoreply()
    assert mail["Auto-Submitted"] == "auto-replied"
    assert mail["Precedence"] == "bulk"
    assert mail[LOOP_HEADER] == RTNAME
    assert mail["X-Guichet-Ticket"] == "7"
    assert parsedate_to_datetime(mail["Date"]) == NOW


def test_autoreply_answers_the_requestors_message() -> None:
    mail = autoreply()
    assert mail["In-Reply-To"] == "<m1@client.example.net>"
    assert mail["References"] == "<m1@client.example.net>"


def test_autoreply_to_a_mail_without_message_id_has_no_threading_headers() -> None:
    mail = autoreply(ticket_created(message=message_info(message_id=None)))
    assert mail["In-Reply-To"] is None
    assert mail["References"] is None


def test_autoreply_is_in_french_by_default() -> None:
    body = autoreply().get_content()
    assert body.startswith("Bonjour,")
    assert "« Commande de stylos »" in body
    assert "enregistrée sous le numéro [example #7]" in body
    assert "Bonjour,\nil nous faut des stylos." in body


@pytest.mark.parametrize(
    ("language", "greeting"), [("en", "Hello,"), ("fr", "Bonjour,"), ("de", "Bonjour,")]
)
def test_autoreply_speaks_the_queue_language_and_french_otherwise(
    language: str, greeting: str
) -> None:
    mail = autoreply(ticket_created(queue=queue_info(language=language)))
    assert mail.get_content().startswith(greeting)


def test_english_autoreply_names_the_tag_and_quotes_the_request() -> None:
    body = autoreply(ticket_created(queue=queue_info(language="en"))).get_content()
    assert "It has been recorded as [example #7]" in body
    assert '"Commande de stylos"' in body
    assert "Bonjour" in body  # the requestor's own text, quoted


def test_autoreply_of_a_transaction_without_message_still_renders() -> None:
    body = autoreply(ticket_created(message=None)).get_content()
    assert "[example #7]" in body


# --- our Message-ID, and the round trip that makes replies thread -----------------------------


def test_message_id_is_stable_for_one_recipient_and_template() -> None:
    event = ticket_created()
    assert message_id_for(event, ALICE, "autoreply") == message_id_for(event, ALICE, "autoreply")


@pytest.mark.parametrize(("recipient", "template"), [(BOB, "autoreply"), (ALICE, "correspond")])
def test_message_id_differs_per_recipient_and_template(recipient: str, template: str) -> None:
    event = ticket_created()
    assert message_id_for(event, recipient, template) != message_id_for(event, ALICE, "autoreply")


def test_message_id_is_a_valid_id_at_the_queue_domain() -> None:
    mid = message_id_for(ticket_created(), ALICE, "autoreply")
    assert mid.startswith("<guichet.example.7.")
    assert mid.endswith("@example.org>")
    assert parse_mail(autoreply().as_bytes()).message_id == autoreply()["Message-ID"]


def test_our_message_id_is_recognised_by_the_tickets_service() -> None:
    mid = message_id_for(ticket_created(), ALICE, "autoreply")
    assert ticket_ids_in_our_message_ids([mid], [RTNAME]) == [7]


def test_reply_to_the_autoreply_threads_to_the_ticket() -> None:
    sent = parse_mail(autoreply().as_bytes())
    assert sent.message_id is not None
    reply = EmailMessage()
    reply["From"] = ALICE
    reply["To"] = ACHATS
    reply["Subject"] = "Re: sans le tag, perdu par le client"
    reply["In-Reply-To"] = sent.message_id
    reply["References"] = f"<m1@client.example.net> {sent.message_id}"
    reply.set_content("Merci.\n")
    parsed = parse_mail(reply.as_bytes())
    decision = thread_mail(
        subject=parsed.subject,
        referenced_ids=(*parsed.in_reply_to, *parsed.references),
        rtnames=[RTNAME],
        queue="achats",
        ticket_queues={7: "achats"},
        ticket_by_message_id=None,
    )
    assert decision.ticket_id == 7


def test_reply_keeping_the_subject_threads_by_its_tag() -> None:
    subject = parse_mail(autoreply().as_bytes()).subject
    assert find_ticket_ids(f"RE: {subject}", [RTNAME]) == [7]


def test_our_autoreply_coming_back_is_never_answered() -> None:
    sent = parse_mail(autoreply().as_bytes())
    facts = classify_loop(sent.headers, sent.from_address, RTNAME)
    assert facts.our_loop
    assert facts.auto_submitted
    assert facts.suppress_autoreply
