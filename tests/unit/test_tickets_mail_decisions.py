"""tickets.domain.mail_decisions: what a mail does to a ticket (open it, or add to it)."""

from __future__ import annotations

import dataclasses

import pytest

from services.tickets.domain.mail_decisions import (
    NO_SUBJECT,
    add_mail_to_ticket,
    open_ticket,
    sender_of,
)
from services.tickets.domain.model import Ticket, Transaction
from shared.mail.parsing import ParsedAttachment, parse_mail
from tests.unit.factories import (
    ACHATS,
    ACHATS_COMMENT,
    ALICE,
    BOB,
    LATER,
    NOW,
    TXN_ID,
    parsed_mail,
    queue,
    ticket,
)

CARLA = "carla@finance.example.org"


def open_from(**mail: object) -> tuple[Ticket, Transaction]:
    parsed = parsed_mail(**mail)
    return open_ticket(
        ticket_id=7,
        txn_id=TXN_ID,
        queue=queue(),
        parsed=parsed,
        sender=parsed.from_address,
        now=NOW,
        threading_note="new conversation",
    )


# --- opening a ticket ------------------------------------------------------------------------


def test_new_ticket_is_new_with_the_sender_as_requestor() -> None:
    created, _ = open_from()
    assert (created.id, created.queue, created.status) == (7, "achats", "new")
    assert created.requestors == (ALICE,)
    assert created.subject == "Commande de stylos"
    assert (created.created, created.updated, created.version) == (NOW, NOW, 1)
    assert created.message_ids == ("<m1@client.example.net>",)


def test_creation_transaction_records_the_mail_and_the_threading_reason() -> None:
    _, txn = open_from()
    assert (txn.id, txn.ticket, txn.seq, txn.type) == (TXN_ID, 7, 1, "create")
    assert (txn.creator, txn.created, txn.note) == (ALICE, NOW, "new conversation")
    assert txn.message is not None
    assert txn.message.message_id == "<m1@client.example.net>"
    assert txn.message.text == "Bonjour,\nil nous faut des stylos."


@pytest.mark.parametrize(
    ("cc", "expected"),
    [
        ((BOB,), (BOB,)),
        ((BOB, CARLA), (BOB, CARLA)),
        ((ACHATS, BOB), (BOB,)),
        ((ACHATS_COMMENT, BOB), (BOB,)),
        ((ALICE, BOB), (BOB,)),
        ((ACHATS, ACHATS_COMMENT, ALICE), ()),
        ((), ()),
    ],
    ids=["one", "two", "minus-correspond", "minus-comment", "minus-sender", "only-ours", "none"],
)
def test_ccs_of_the_mail_become_ticket_ccs_minus_queue_addresses_and_sender(
    cc: tuple[str, ...], expected: tuple[str, ...]
) -> None:
    created, _ = open_from(cc=cc)
    assert created.ccs == expected


def test_ccs_of_the_mail_can_be_ignored_by_the_queue() -> None:
    created, _ = open_ticket(
        ticket_id=7,
        txn_id=TXN_ID,
        queue=dataclasses.replace(queue(), ccs_from_create=False),
        parsed=parsed_mail(cc=(BOB,)),
        sender=ALICE,
        now=NOW,
        threading_note="",
    )
    assert created.ccs == ()


def test_mail_without_subject_or_message_id_still_opens_a_ticket() -> None:
    created, txn = open_from(subject="", message_id=None)
    assert created.subject == NO_SUBJECT
    assert created.message_ids == ()
    assert txn.message is not None
    assert txn.message.message_id is None


def test_attachments_are_listed_by_name_type_size_and_hash() -> None:
    pdf = ParsedAttachment("devis.pdf", "application/pdf", b"%PDF-1.4\n")
    _, txn = open_from(attachments=(pdf,))
    assert txn.message is not None
    (info,) = txn.message.attachments
    assert (info.filename, info.content_type, info.size, info.sha256) == (
        "devis.pdf",
        "application/pdf",
        9,
        pdf.sha256,
    )


# --- adding a mail to a ticket ---------------------------------------------------------------


AGENT = "agent@example.org"


def add(
    before: Ticket,
    *,
    kind: str = "correspond",
    sender: str = ALICE,
    agent: bool | None = None,
    **mail: object,
) -> tuple[Ticket, Transaction]:
    """Add a mail; ``agent`` None leaves sender_is_agent at its default."""
    mail.setdefault("message_id", "<m2@client.example.net>")
    extra = {} if agent is None else {"sender_is_agent": agent}
    return add_mail_to_ticket(
        before,
        txn_id="txn-2",
        kind=kind,
        parsed=parsed_mail(**mail),
        sender=sender,
        now=LATER,
        threading_note="subject tag #12",
        **extra,
    )


@pytest.mark.parametrize(
    ("status", "kind", "sender", "agent", "expected"),
    [
        ("resolved", "correspond", ALICE, None, "open"),
        ("stalled", "correspond", ALICE, None, "open"),
        ("resolved", "comment", ALICE, None, "resolved"),
        ("stalled", "comment", ALICE, None, "stalled"),
        ("resolved", "correspond", BOB, None, "open"),
        ("stalled", "correspond", CARLA, None, "open"),
        ("resolved", "correspond", AGENT, True, "open"),
        ("stalled", "correspond", AGENT, True, "open"),
        ("resolved", "comment", AGENT, True, "resolved"),
        ("stalled", "comment", AGENT, True, "stalled"),
        ("new", "correspond", ALICE, None, "new"),
        ("new", "correspond", CARLA, False, "new"),
        ("new", "correspond", AGENT, True, "open"),
        ("new", "comment", AGENT, True, "new"),
        ("open", "correspond", ALICE, None, "open"),
        ("open", "correspond", AGENT, True, "open"),
        ("rejected", "correspond", ALICE, None, "rejected"),
        ("rejected", "correspond", AGENT, True, "rejected"),
        ("deleted", "correspond", ALICE, None, "deleted"),
        ("deleted", "correspond", AGENT, True, "deleted"),
    ],
)
def test_any_correspondence_reopens_a_resolved_or_stalled_ticket_and_a_comment_never_moves_it(
    status: str, kind: str, sender: str, agent: bool | None, expected: str
) -> None:
    after, txn = add(ticket(status=status), kind=kind, sender=sender, agent=agent)
    assert after.status == expected
    assert txn.type == kind


@pytest.mark.parametrize("sender", [ALICE, BOB, CARLA], ids=["requestor", "cc", "other"])
def test_reopening_a_resolved_ticket_by_mail_clears_its_resolved_date(sender: str) -> None:
    after, txn = add(ticket(status="resolved", resolved=NOW), sender=sender)
    assert (after.status, after.resolved) == ("open", None)
    assert (txn.old_value, txn.new_value) == ("resolved", "open")


@pytest.mark.parametrize(
    ("status", "kind"),
    [("resolved", "comment"), ("rejected", "correspond"), ("rejected", "comment")],
)
def test_a_mail_that_leaves_the_status_unchanged_keeps_the_resolved_date(
    status: str, kind: str
) -> None:
    after, txn = add(ticket(status=status, resolved=NOW), kind=kind, sender=BOB)
    assert (after.status, after.resolved) == (status, NOW)
    assert (txn.old_value, txn.new_value) == (None, None)


def test_reopening_is_recorded_as_old_and_new_value() -> None:
    _, txn = add(ticket(status="resolved"))
    assert (txn.old_value, txn.new_value) == ("resolved", "open")


def test_no_status_change_records_no_values() -> None:
    _, txn = add(ticket(status="open"))
    assert (txn.old_value, txn.new_value) == (None, None)


def test_an_agents_mail_opening_a_new_ticket_is_recorded_as_old_and_new_value() -> None:
    after, txn = add(ticket(status="new"), sender=AGENT, agent=True)
    assert (after.status, txn.old_value, txn.new_value) == ("open", "new", "open")


def test_each_mail_makes_the_next_version_and_the_next_sequence_number() -> None:
    before = ticket(version=3)
    after, txn = add(before)
    assert after.version == 4
    assert txn.seq == 4
    assert (after.created, after.updated) == (NOW, LATER)
    again, txn2 = add(after, message_id="<m3@client.example.net>")
    assert (again.version, txn2.seq) == (5, 5)


def test_transaction_records_who_when_and_why() -> None:
    _, txn = add(ticket(), sender=BOB)
    assert (txn.id, txn.ticket, txn.creator, txn.created) == ("txn-2", 12, BOB, LATER)
    assert txn.note == "subject tag #12"


@pytest.mark.parametrize(
    ("message_id", "expected"),
    [
        ("<m2@client.example.net>", ("<m1@client.example.net>", "<m2@client.example.net>")),
        ("<m1@client.example.net>", ("<m1@client.example.net>",)),
        (None, ("<m1@client.example.net>",)),
    ],
    ids=["new-id", "already-seen", "no-id"],
)
def test_message_ids_accumulate_without_duplicates(
    message_id: str | None, expected: tuple[str, ...]
) -> None:
    after, _ = add(ticket(), message_id=message_id)
    assert after.message_ids == expected


def test_people_and_queue_are_untouched_by_a_mail() -> None:
    before = ticket()
    after, _ = add(before, cc=(CARLA,))
    assert (after.requestors, after.ccs, after.queue, after.owner) == (
        before.requestors,
        before.ccs,
        before.queue,
        before.owner,
    )


def test_the_ticket_before_is_left_as_it_was() -> None:
    before = ticket(status="resolved")
    copy = dataclasses.replace(before)
    add(before)
    assert before == copy
    with pytest.raises(dataclasses.FrozenInstanceError):
        before.status = "open"  # type: ignore[misc]


# --- the sender ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("from_address", "envelope_from", "expected"),
    [
        (ALICE, "bounce-x@relay.example", ALICE),
        ("", "alice@relay.example", "alice@relay.example"),
        ("", "", "unknown@invalid"),
    ],
)
def test_sender_is_the_from_address_then_the_envelope_sender(
    from_address: str, envelope_from: str, expected: str
) -> None:
    assert sender_of(parsed_mail(from_address=from_address), envelope_from) == expected


@pytest.mark.parametrize("from_header", [b"Alice", b"not an address", b"=?utf-8?q?=?="])
def test_from_header_without_an_address_falls_back_to_the_envelope_sender(
    from_header: bytes,
) -> None:
    parsed = parse_mail(b"From: " + from_header + b"\nSubject: s\n\ncorps\n")
    assert sender_of(parsed, "alice@relay.example") == "alice@relay.example"
