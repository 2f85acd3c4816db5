"""The mail corpus: every mail parses to its expected text, attachments and ticket decision;
none crashes; none is lost (tests/fixtures/mail/, and CPython's own email test data).

The corpus and its checks are described in tests/fixtures/mail/corpus.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.mail.parsing import ParsedMail, parse_mail
from tests.fixtures.mail.corpus import (
    CorpusMail,
    corpus,
    cpython_mail_files,
    expectations_table,
    handmade_files,
    lost_parts,
    mismatches,
    unsafe_values,
)
from tests.fixtures.mail.generate import charset_mails, generated_mails, loop_mails

CORPUS = corpus()
CLIENT_KINDS = (
    "outlook", "gmail", "apple", "thunderbird", "phones", "lists", "autoresponders", "bounces",
)  # fmt: skip


def test_every_fixture_has_an_expectation_and_every_expectation_a_fixture() -> None:
    assert handmade_files() == sorted(expectations_table())


def test_the_corpus_holds_at_least_300_mails_without_cpythons() -> None:
    handmade, generated = len(handmade_files()), len(generated_mails())
    assert handmade >= 80
    assert handmade + generated >= 300


def test_corpus_names_are_unique() -> None:
    names = [mail.name for mail in CORPUS]
    assert len(names) == len(set(names))


def test_the_hand_made_mails_imitate_every_kind_of_sender() -> None:
    folders = {name.split("/", 1)[0] for name in handmade_files()}
    assert set(CLIENT_KINDS) <= folders


def test_the_corpus_expects_every_kind_of_ticket_decision() -> None:
    decisions = " | ".join(mail.expected.decision for mail in CORPUS)
    for kind in ("new ticket", "reply to #", "bounce", *(f"({r}" for r in ("auto_submitted",))):
        assert kind in decisions
    for rule in ("auto_submitted", "bulk_or_list", "mailer_daemon", "our_loop"):
        assert rule in decisions


def test_generation_is_deterministic() -> None:
    assert [m.raw for m in charset_mails()] == [m.raw for m in charset_mails()]
    assert [m.raw for m in loop_mails()] == [m.raw for m in loop_mails()]


@pytest.mark.parametrize("mail", CORPUS, ids=[m.name for m in CORPUS])
def test_corpus_mail_parses_to_what_is_expected(mail: CorpusMail) -> None:
    parsed = parse_mail(mail.raw)
    problems = mismatches(parsed, mail.expected) + unsafe_values(parsed)
    if mail.expected.parts_accounted:
        problems += lost_parts(mail.raw, parsed)
    assert problems == [], mail.expected.about


CPYTHON_FILES = cpython_mail_files()


@pytest.mark.skipif(not CPYTHON_FILES, reason="this Python keeps no test/test_email/data")
@pytest.mark.parametrize("path", CPYTHON_FILES, ids=[p.name for p in CPYTHON_FILES])
def test_cpythons_email_test_mail_parses_and_nothing_is_lost(path: Path) -> None:
    raw = path.read_bytes()
    parsed = parse_mail(raw)
    assert isinstance(parsed, ParsedMail)
    assert unsafe_values(parsed) + lost_parts(raw, parsed) == []
    assert not any(d.startswith("unparsed") for d in parsed.defects)
