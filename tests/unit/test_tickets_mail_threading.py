"""tickets.domain.mail_threading: which ticket a mail belongs to, and why."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from services.tickets.domain.mail_threading import (
    ThreadingDecision,
    thread_mail,
    ticket_ids_in_our_message_ids,
)

RTNAMES = ["example", "old-name"]
# Tickets that exist, and their queue.
TICKETS = {12: "achats", 13: "achats", 40: "ventes"}


def our_id(ticket_id: int, rtname: str = "example") -> str:
    return f"<guichet.{rtname}.{ticket_id}.0b8f6c1e-8a3c-4a53.2dea228a53@example.org>"


def decide(
    subject: str = "",
    referenced: Sequence[str] = (),
    *,
    seen_by: int | None = None,
    queue: str = "achats",
    rtnames: Sequence[str] = RTNAMES,
) -> ThreadingDecision:
    return thread_mail(
        subject=subject,
        referenced_ids=referenced,
        rtnames=rtnames,
        queue=queue,
        ticket_queues=TICKETS,
        ticket_by_message_id=seen_by,
    )


@pytest.mark.parametrize(
    ("subject", "ticket_id"),
    [
        ("[example #12] Commande", 12),
        ("Re: [example #12] Commande", 12),
        ("RE: [Example  # 12] Commande", 12),
        ("AW: [ EXAMPLE #12 ] Bestellung", 12),
        ("TR: RE: [example #13]", 13),
        ("Re: [old-name #12] from before the rename", 12),
    ],
)
def test_tag_of_this_instance_threads_the_reply(subject: str, ticket_id: int) -> None:
    assert decide(subject) == ThreadingDecision(ticket_id, f"subject tag #{ticket_id}")


def test_tag_of_another_instance_is_not_trusted() -> None:
    assert decide("[other #12] Commande") == ThreadingDecision(None, "new conversation")


def test_reply_with_unknown_tag_opens_new_ticket() -> None:
    decision = decide("Re: [example #999] Commande")
    assert decision.ticket_id is None
    assert decision.reason == "tag #999 ignored: no such ticket"


def test_tag_of_a_ticket_in_another_queue_is_not_trusted_and_the_reason_says_why() -> None:
    decision = decide("Re: [example #40] Devis")
    assert decision.ticket_id is None
    assert decision.reason == "tag #40 ignored: ticket is in another queue (ventes)"


def test_every_refused_tag_is_explained() -> None:
    decision = decide("[example #40] [example #999]")
    assert decision.ticket_id is None
    assert decision.reason == (
        "tag #40 ignored: ticket is in another queue (ventes); tag #999 ignored: no such ticket"
    )


def test_first_acceptable_tag_wins_after_refused_ones() -> None:
    assert decide("[example #40] [example #13] [example #12]").ticket_id == 13


def test_same_tag_sent_to_its_own_queue_is_trusted() -> None:
    assert decide("[example #40] Devis", queue="ventes").ticket_id == 40


@pytest.mark.parametrize(
    "referenced",
    [
        [our_id(12)],
        ["<x@client.example.net>", our_id(12)],
        [our_id(12).upper()],
        [our_id(999), our_id(12)],
    ],
    ids=["only", "among-others", "case-mangled", "after-unknown"],
)
def test_reply_found_by_our_message_id_in_references(referenced: list[str]) -> None:
    assert decide("Re: Commande", referenced) == ThreadingDecision(
        12, "reply to our message about #12"
    )


def test_our_message_id_of_a_ticket_in_another_queue_is_not_trusted() -> None:
    assert decide("Re: Devis", [our_id(40)]).ticket_id is None


def test_message_id_of_another_instance_is_not_ours() -> None:
    assert decide("Re: Commande", [our_id(12, rtname="other")]).ticket_id is None


def test_reply_to_a_message_sent_under_a_former_name_threads_by_references() -> None:
    assert decide("Re: Commande", [our_id(12, rtname="old-name")]).ticket_id == 12


def test_reply_found_by_a_message_id_the_ticket_has_seen() -> None:
    decision = decide("Re: Commande", ["<m1@client.example.net>"], seen_by=13)
    assert decision == ThreadingDecision(13, "References/In-Reply-To")


def test_ticket_that_has_seen_the_message_id_in_another_queue_is_not_trusted() -> None:
    assert decide("Re: Devis", ["<m1@client.example.net>"], seen_by=40).ticket_id is None


@pytest.mark.parametrize(
    ("subject", "referenced", "seen_by", "expected"),
    [
        ("[example #12]", [our_id(13)], 13, 12),
        ("Re: Commande", [our_id(13)], 12, 13),
        ("[example #40]", [our_id(13)], None, 13),
        ("[example #999]", [], 12, 12),
    ],
    ids=[
        "tag-before-our-message-id",
        "our-message-id-before-seen-message-id",
        "refused-tag-then-message-id",
        "unknown-tag-then-seen-message-id",
    ],
)
def test_clues_are_tried_in_order_tag_then_our_message_ids_then_seen_ones(
    subject: str, referenced: list[str], seen_by: int | None, expected: int
) -> None:
    assert decide(subject, referenced, seen_by=seen_by).ticket_id == expected


def test_mail_without_any_clue_is_a_new_conversation() -> None:
    assert decide("Nouvelle demande") == ThreadingDecision(None, "new conversation")


def test_without_names_only_seen_message_ids_can_thread() -> None:
    assert decide("[example #12]", [our_id(12)], rtnames=[]).ticket_id is None
    assert decide("[example #12]", [], seen_by=12, rtnames=[]).ticket_id == 12


@pytest.mark.parametrize(
    ("message_ids", "rtname", "expected"),
    [
        ([our_id(7)], "example", [7]),
        ([our_id(7), our_id(8), our_id(7)], "example", [7, 8]),
        ([our_id(7).replace("example", "EXAMPLE")], "example", [7]),
        ([our_id(7, "other")], "example", []),
        (["<guichet.example.notanumber.x@y>"], "example", []),
        (["<m1@client.example.net>", "guichet.example.7.x@y"], "example", []),
        (["<x.guichet.example.7.x@y>"], "example", []),
        ([our_id(3, "ex.ample")], "ex.ample", [3]),
        (["<guichet.exXample.3.t.d@example.org>"], "ex.ample", []),
        ([], "example", []),
    ],
)
def test_ticket_ids_are_read_back_from_our_message_ids(
    message_ids: list[str], rtname: str, expected: list[int]
) -> None:
    assert ticket_ids_in_our_message_ids(message_ids, [rtname]) == expected
