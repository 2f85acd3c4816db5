"""notify.domain.outgoing: the mails themselves — who they come from, their subject tag,
our Message-ID and the threading headers, RFC 3834 markers, parts and files — and the
round trip that makes replies find their ticket."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import parsedate_to_datetime

import pytest

from services.notify.domain.outgoing import (
    AttachedFile,
    build_mail,
    message_id_for,
    root_message_id,
)
from services.notify.domain.rules import PlannedMail, plan_notifications
from services.notify.domain.templates import (
    DEFAULT_TEMPLATES,
    language_of,
    render,
    template_context,
)
from services.tickets.domain.mail_threading import thread_mail, ticket_ids_in_our_message_ids
from shared.events.ticket import TicketTxnEvent
from shared.mail.loop_guard import LOOP_HEADER, classify_loop
from shared.mail.parsing import parse_mail
from shared.mail.subject_tag import find_ticket_ids
from tests.unit.factories import (
    ACHATS,
    ACHATS_COMMENT,
    ALICE,
    BOB,
    NOW,
    RTNAME,
    message_info,
    queue_info,
    snapshot,
)
from tests.unit.notify_factories import AGENT, BOSS, SUPPLIER, event, watched

QUOTE = AttachedFile("devis.pdf", "application/pdf", b"%PDF-1.4 quote")


def outgoing(
    ticket_event: TicketTxnEvent | None = None,
    recipient: str = ALICE,
    attachments: tuple[AttachedFile, ...] = (),
) -> EmailMessage:
    """The mail ``recipient`` gets for ``ticket_event`` (by default: the autoreply)."""
    ticket_event = ticket_event or event("create")
    [planned] = [p for p in plan_notifications(ticket_event) if p.recipient == recipient]
    return mail_for(ticket_event, planned, attachments)


def mail_for(
    ticket_event: TicketTxnEvent, planned: PlannedMail, attachments: tuple[AttachedFile, ...] = ()
) -> EmailMessage:
    language = language_of(ticket_event.queue.language)
    context = template_context(ticket_event, recipient=planned.recipient, language=language)
    return build_mail(
        ticket_event,
        planned,
        render(DEFAULT_TEMPLATES[planned.template][language], context),
        message_id=message_id_for(ticket_event, planned.recipient, planned.template),
        now=NOW,
        attachments=attachments,
    )


def reply_from_agent() -> TicketTxnEvent:
    return event("correspond", ticket=watched(), creator=AGENT)


def comment_from_agent() -> TicketTxnEvent:
    return event("comment", ticket=watched(), creator=AGENT)


# --- who it comes from and goes to --------------------------------------------------------


@pytest.mark.parametrize("header", ["From", "Reply-To"])
def test_mail_comes_from_the_queue_under_its_name(header: str) -> None:
    (address,) = outgoing()[header].addresses
    assert (address.display_name, address.addr_spec) == ("achats", ACHATS)


@pytest.mark.parametrize("header", ["From", "Reply-To"])
def test_a_comment_comes_from_the_comment_address_so_replies_stay_comments(header: str) -> None:
    (address,) = outgoing(comment_from_agent(), BOSS)[header].addresses
    assert (address.display_name, address.addr_spec) == ("achats", ACHATS_COMMENT)


def test_each_mail_is_to_its_recipient_alone() -> None:
    mail = outgoing(reply_from_agent(), SUPPLIER)
    assert mail["To"] == SUPPLIER
    assert mail["Cc"] is None and mail["Bcc"] is None
    assert BOSS not in mail.as_string()  # an AdminCc's address never shows to a Cc


# --- subject ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Commande de stylos", "[example #7] Commande de stylos"),
        ("[example #7] Commande de stylos", "[example #7] Commande de stylos"),
        ("", "[example #7]"),
    ],
)
def test_subject_carries_the_tag_exactly_once(subject: str, expected: str) -> None:
    mail = outgoing(event("create", ticket=snapshot(subject=subject)))
    assert mail["Subject"] == expected


def test_a_copy_keeps_the_subject_of_the_mail_it_copies() -> None:
    reply = event(
        "correspond",
        ticket=watched(),
        creator=SUPPLIER,
        message=message_info(subject="RE: [example #7] Commande de stylos", from_address=SUPPLIER),
    )
    assert outgoing(reply, ALICE)["Subject"] == "RE: [example #7] Commande de stylos"


def test_a_comment_says_so_in_its_subject() -> None:
    assert outgoing(comment_from_agent(), BOSS)["Subject"] == (
        "[example #7] [Commentaire] Commande de stylos"
    )


# --- RFC 3834 and our loop header ----------------------------------------------------------


def test_the_autoreply_declares_itself_an_automatic_reply_and_ours() -> None:
    mail = outgoing()
    assert mail["Auto-Submitted"] == "auto-replied"
    assert mail["Precedence"] == "bulk"
    assert mail["X-Auto-Response-Suppress"] == "All"
    assert mail[LOOP_HEADER] == RTNAME
    assert mail["X-Guichet-Ticket"] == "7"
    assert parsedate_to_datetime(mail["Date"]) == NOW


@pytest.mark.parametrize("recipient", [ALICE, BOSS])
def test_copies_are_auto_generated(recipient: str) -> None:
    mail = outgoing(reply_from_agent(), recipient)
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail[LOOP_HEADER] == RTNAME


def test_our_mail_coming_back_is_never_answered() -> None:
    for mail in (outgoing(), outgoing(reply_from_agent(), ALICE)):
        sent = parse_mail(mail.as_bytes())
        facts = classify_loop(sent.headers, sent.from_address, RTNAME)
        assert facts.our_loop and facts.auto_submitted and facts.suppress_autoreply


# --- threading ----------------------------------------------------------------------------


def test_a_mail_answers_the_mail_of_its_transaction_under_the_tickets_root() -> None:
    mail = outgoing()
    root = root_message_id(event("create"))
    assert mail["In-Reply-To"] == "<m1@client.example.net>"
    assert mail["References"] == f"{root} <m1@client.example.net>"


def test_a_transaction_without_mail_threads_under_the_root() -> None:
    from_the_web = event(
        "correspond", ticket=watched(), creator=AGENT, message=message_info(message_id=None)
    )
    mail = outgoing(from_the_web, ALICE)
    root = root_message_id(from_the_web)
    assert mail["In-Reply-To"] == root
    assert mail["References"] == root


def test_the_root_is_the_same_for_every_transaction_and_names_the_ticket() -> None:
    roots = {root_message_id(event(kind)) for kind in ("create", "correspond", "comment")}
    assert roots == {"<guichet.example.7.0.root@example.org>"}
    assert ticket_ids_in_our_message_ids(roots, [RTNAME]) == [7]


def test_message_id_is_stable_for_one_recipient_and_template() -> None:
    created = event("create")
    assert message_id_for(created, ALICE, "autoreply") == message_id_for(
        created, ALICE, "autoreply"
    )


@pytest.mark.parametrize(("recipient", "template"), [(BOB, "autoreply"), (ALICE, "correspondence")])
def test_message_id_differs_per_recipient_and_template(recipient: str, template: str) -> None:
    created = event("create")
    assert message_id_for(created, recipient, template) != message_id_for(
        created, ALICE, "autoreply"
    )


def test_message_id_is_a_valid_id_at_the_queue_domain() -> None:
    mid = message_id_for(event("create"), ALICE, "autoreply")
    assert mid.startswith("<guichet.example.7.")
    assert mid.endswith("@example.org>")
    assert parse_mail(outgoing().as_bytes()).message_id == outgoing()["Message-ID"]


def test_our_message_id_is_recognised_by_the_tickets_service() -> None:
    mid = message_id_for(event("create"), ALICE, "autoreply")
    assert ticket_ids_in_our_message_ids([mid], [RTNAME]) == [7]


def test_a_reply_that_lost_the_tag_still_threads_to_the_ticket() -> None:
    sent = parse_mail(outgoing().as_bytes())
    assert sent.message_id is not None
    reply = EmailMessage()
    reply["From"] = ALICE
    reply["To"] = ACHATS
    reply["Subject"] = "Re: sans le tag, perdu par le client"
    reply["In-Reply-To"] = sent.message_id
    reply["References"] = f"{' '.join(sent.references)} {sent.message_id}"
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


def test_a_reply_keeping_the_subject_threads_by_its_tag() -> None:
    subject = parse_mail(outgoing().as_bytes()).subject
    assert find_ticket_ids(f"RE: {subject}", [RTNAME]) == [7]


# --- parts and files -------------------------------------------------------------------------


def test_a_mail_has_a_text_and_an_html_part() -> None:
    mail = outgoing(reply_from_agent(), ALICE)
    text = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert text is not None and "Bonjour,\nil nous faut des stylos." in text.get_content()
    assert html is not None and "il nous faut des stylos." in html.get_content()


def test_the_html_part_shows_the_sanitised_html_of_the_message() -> None:
    html_reply = event(
        "correspond",
        ticket=watched(),
        creator=AGENT,
        message=message_info(html="<p>Voici <b>le devis</b></p><script>alert(1)</script>"),
    )
    html = outgoing(html_reply, ALICE).get_body(("html",))
    assert html is not None
    content = html.get_content()
    assert "<b>le devis</b>" in content and "<script>" not in content


def test_the_html_part_escapes_a_text_message() -> None:
    text_reply = event(
        "correspond", ticket=watched(), creator=AGENT, message=message_info(text="a < b & <i>c</i>")
    )
    html = outgoing(text_reply, ALICE).get_body(("html",))
    assert html is not None and "a &lt; b &amp; &lt;i&gt;c&lt;/i&gt;" in html.get_content()


def test_the_files_of_the_transaction_are_attached() -> None:
    mail = outgoing(reply_from_agent(), ALICE, attachments=(QUOTE,))
    [attached] = list(mail.iter_attachments())
    assert attached.get_filename() == "devis.pdf"
    assert attached.get_content_type() == "application/pdf"
    assert attached.get_content() == b"%PDF-1.4 quote"


@pytest.mark.parametrize("content_type", ["", "nonsense", "multipart/mixed", "message/rfc822"])
def test_a_file_of_unusable_type_goes_as_bytes(content_type: str) -> None:
    odd = AttachedFile("x.bin", content_type, b"\x00\x01")
    [attached] = list(outgoing(reply_from_agent(), ALICE, attachments=(odd,)).iter_attachments())
    assert attached.get_content_type() == "application/octet-stream"


def test_the_autoreply_is_in_the_queues_language() -> None:
    english = event("create", queue=queue_info(language="en"))
    body = outgoing(english).get_body(("plain",))
    assert body is not None and body.get_content().startswith("Hello,")
