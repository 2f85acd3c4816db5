"""shared.mail.loop_guard.classify_loop and LoopFacts.suppress_autoreply (RFC 3834)."""

from __future__ import annotations

import pytest

from shared.events.mail import LoopFacts
from shared.mail.loop_guard import LOOP_HEADER, classify_loop

HUMAN = "alice@client.example.net"
INSTANCE = "example"

FLAGS = ("auto_submitted", "bulk_or_list", "mailer_daemon", "our_loop")


def flags(facts: LoopFacts) -> set[str]:
    return {name for name in FLAGS if getattr(facts, name)}


def test_mail_from_a_person_is_not_automatic() -> None:
    facts = classify_loop({"subject": "Commande", "auto-submitted": "no"}, HUMAN, INSTANCE)
    assert flags(facts) == set()
    assert facts.reasons == ()
    assert not facts.suppress_autoreply


@pytest.mark.parametrize(
    ("headers", "flag", "reason"),
    [
        ({"auto-submitted": "auto-replied"}, "auto_submitted", "Auto-Submitted: auto-replied"),
        ({"auto-submitted": "auto-generated"}, "auto_submitted", "Auto-Submitted: auto-generated"),
        ({"auto-submitted": "Auto-Notified"}, "auto_submitted", "Auto-Submitted: auto-notified"),
        (
            {"auto-submitted": "auto-replied; owner-email=x@y"},
            "auto_submitted",
            "Auto-Submitted: auto-replied; owner-email=x@y",
        ),
        ({"x-autoreply": "yes"}, "auto_submitted", "x-autoreply: yes"),
        ({"x-autorespond": "vacation"}, "auto_submitted", "x-autorespond: vacation"),
        ({"precedence": "bulk"}, "bulk_or_list", "Precedence: bulk"),
        ({"precedence": " Junk "}, "bulk_or_list", "Precedence: junk"),
        ({"precedence": "LIST"}, "bulk_or_list", "Precedence: list"),
        ({"list-id": "<achats.lists.example.org>"}, "bulk_or_list", "list-id present"),
        ({"list-unsubscribe": "<mailto:u@x>"}, "bulk_or_list", "list-unsubscribe present"),
        ({LOOP_HEADER.lower(): INSTANCE}, "our_loop", f"{LOOP_HEADER}: {INSTANCE}"),
        ({LOOP_HEADER.lower(): "EXAMPLE"}, "our_loop", f"{LOOP_HEADER}: {INSTANCE}"),
    ],
)
def test_each_machine_marker_is_found_with_its_reason(
    headers: dict[str, str], flag: str, reason: str
) -> None:
    facts = classify_loop(headers, HUMAN, INSTANCE)
    assert flags(facts) == {flag}
    assert facts.reasons == (reason,)
    assert facts.suppress_autoreply


@pytest.mark.parametrize("value", ["no", "No", " NO ", "no; reason=manual"])
def test_auto_submitted_no_means_a_person_wrote_it(value: str) -> None:
    facts = classify_loop({"auto-submitted": value}, HUMAN, INSTANCE)
    assert not facts.auto_submitted
    assert not facts.suppress_autoreply


def test_auto_submitted_no_with_a_comment_means_a_person_wrote_it() -> None:
    assert not classify_loop(
        {"auto-submitted": "no (sent by hand)"}, HUMAN, INSTANCE
    ).auto_submitted


@pytest.mark.parametrize("precedence", ["first-class", "normal", "", "bulky"])
def test_other_precedence_values_are_not_bulk(precedence: str) -> None:
    assert not classify_loop({"precedence": precedence}, HUMAN, INSTANCE).bulk_or_list


@pytest.mark.parametrize(
    "sender",
    ["", "mailer-daemon@mx.example.org", "MAILER-DAEMON@mx.example.org", "postmaster@example.org"],
    ids=["empty-bounce", "mailer-daemon", "upper-case", "postmaster"],
)
def test_bounces_and_daemon_senders_are_mailer_daemons(sender: str) -> None:
    facts = classify_loop({}, sender, INSTANCE)
    assert flags(facts) == {"mailer_daemon"}
    assert len(facts.reasons) == 1
    assert "mailer daemon" in facts.reasons[0]
    assert facts.suppress_autoreply


@pytest.mark.parametrize("other", ["other", "autre-instance", ""])
def test_loop_header_of_another_instance_is_not_ours(other: str) -> None:
    assert not classify_loop({LOOP_HEADER.lower(): other}, HUMAN, INSTANCE).our_loop


@pytest.mark.parametrize("other", ["example-test", "counterexample"])
def test_loop_header_of_an_instance_whose_name_contains_ours_is_not_ours(other: str) -> None:
    facts = classify_loop({LOOP_HEADER.lower(): other}, HUMAN, INSTANCE)
    assert not facts.our_loop


def test_every_rule_that_matches_gives_its_reason_in_order() -> None:
    headers = {
        "auto-submitted": "auto-replied",
        "precedence": "bulk",
        LOOP_HEADER.lower(): INSTANCE,
    }
    facts = classify_loop(headers, "", INSTANCE)
    assert flags(facts) == set(FLAGS)
    assert [r.split(":")[0].split()[0] for r in facts.reasons] == [
        "Auto-Submitted",
        "Precedence",
        "sender",
        LOOP_HEADER,
    ]


@pytest.mark.parametrize(
    ("facts", "suppress"),
    [
        (LoopFacts(), False),
        (LoopFacts(reasons=("a note but no flag",)), False),
        (LoopFacts(auto_submitted=True), True),
        (LoopFacts(bulk_or_list=True), True),
        (LoopFacts(mailer_daemon=True), True),
        (LoopFacts(our_loop=True), True),
        (LoopFacts(auto_submitted=True, our_loop=True), True),
    ],
)
def test_any_flag_suppresses_the_autoreply(facts: LoopFacts, suppress: bool) -> None:
    assert facts.suppress_autoreply is suppress
