"""Ingest: which queue an RCPT address is for, and the idempotency key of a mail."""

from __future__ import annotations

import hashlib

import pytest

from services.ingest.domain.recipients import Destination, resolve_recipient
from services.ingest.smtp_handler import mail_key
from shared.rpc.tickets import MailRoute, MailRoutes

ROUTES = MailRoutes(
    rtname="example",
    routes={
        "achats@example.org": MailRoute(queue="achats", kind="correspond"),
        "achats-comment@example.org": MailRoute(queue="achats", kind="comment"),
        "support@help.example.net": MailRoute(queue="support", kind="correspond"),
    },
)


@pytest.mark.parametrize(
    ("rcpt", "expected"),
    [
        ("achats@example.org", Destination("achats@example.org", "correspond", "achats")),
        (
            "achats-comment@example.org",
            Destination("achats-comment@example.org", "comment", "achats"),
        ),
        ("Achats@EXAMPLE.org", Destination("achats@example.org", "correspond", "achats")),
        (
            "<ACHATS-COMMENT@example.org>",
            Destination("achats-comment@example.org", "comment", "achats"),
        ),
        (
            "support@help.example.net",
            Destination("support@help.example.net", "correspond", "support"),
        ),
    ],
)
def test_queue_addresses_resolve_to_their_queue_and_kind(rcpt: str, expected: Destination) -> None:
    assert resolve_recipient(rcpt, ROUTES) == expected


@pytest.mark.parametrize(
    ("rcpt", "address"),
    [
        ("postmaster", "postmaster"),
        ("PostMaster", "postmaster"),
        ("postmaster@example.org", "postmaster@example.org"),
        ("Postmaster@Help.Example.NET", "postmaster@help.example.net"),
    ],
)
def test_postmaster_bare_or_at_a_served_domain_is_accepted_for_an_operator(
    rcpt: str, address: str
) -> None:
    assert resolve_recipient(rcpt, ROUTES) == Destination(address, "postmaster", None)


@pytest.mark.parametrize(
    "rcpt",
    [
        "postmaster@foreign.example.com",
        "postmaster@sub.example.org",
        "nobody@example.org",
        "achats@example.com",
        "achats@example.org.evil.example",
        "achats",
        "",
    ],
)
def test_addresses_no_queue_serves_are_refused(rcpt: str) -> None:
    assert resolve_recipient(rcpt, ROUTES) is None


def test_no_routes_at_all_still_accepts_bare_postmaster_only() -> None:
    empty = MailRoutes(rtname="example", routes={})
    assert resolve_recipient("postmaster", empty) == Destination("postmaster", "postmaster", None)
    assert resolve_recipient("postmaster@example.org", empty) is None


SHA_A = hashlib.sha256(b"mail A").hexdigest()
SHA_B = hashlib.sha256(b"mail B").hexdigest()


def test_same_bytes_for_the_same_recipient_give_the_same_key() -> None:
    assert mail_key(SHA_A, "achats@example.org") == mail_key(SHA_A, "achats@example.org")


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ((SHA_A, "achats@example.org"), (SHA_A, "achats-comment@example.org")),
        ((SHA_A, "achats@example.org"), (SHA_B, "achats@example.org")),
        ((SHA_A, "achats@example.org"), (SHA_A + "a", "chats@example.org")),
    ],
    ids=["other-recipient", "other-bytes", "no-ambiguous-concatenation"],
)
def test_key_differs_per_recipient_and_per_mail(
    left: tuple[str, str], right: tuple[str, str]
) -> None:
    assert mail_key(*left) != mail_key(*right)


def test_key_is_a_sha256_hex_digest() -> None:
    key = mail_key(SHA_A, "achats@example.org")
    assert len(key) == 64
    assert int(key, 16) >= 0
