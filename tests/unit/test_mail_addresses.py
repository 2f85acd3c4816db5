"""shared.mail.addresses: the comparable form of an address, lists, and mailer daemons."""

from __future__ import annotations

import pytest

from shared.mail.addresses import is_mailer_daemon, normalize_address, parse_address_list


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ('"Alice" <Alice@Example.NET>', "alice@example.net"),
        ("Alice Martin <alice@example.net>", "alice@example.net"),
        ("<bob@x.example>", "bob@x.example"),
        ("  BOB@X.EXAMPLE  ", "bob@x.example"),
        ("carla@y.example (Carla)", "carla@y.example"),
        ('"Dupont, Jean" <jean@x.example>', "jean@x.example"),
        ("postmaster", "postmaster"),
        ("<>", ""),
        ("", ""),
    ],
)
def test_address_is_normalised_to_its_lower_case_addr_spec(address: str, expected: str) -> None:
    assert normalize_address(address) == expected


def test_normalising_is_idempotent() -> None:
    once = normalize_address('"Alice" <Alice@Example.NET>')
    assert normalize_address(once) == once


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["Alice <A@x.example>, bob@y.example"], ["a@x.example", "bob@y.example"]),
        (["a@x.example", "A@X.EXAMPLE, b@y.example"], ["a@x.example", "b@y.example"]),
        (("b@y.example", "a@x.example"), ["b@y.example", "a@x.example"]),
        (['"Dupont, Jean" <jean@x.example>'], ["jean@x.example"]),
        (["team: t1@x.example, t2@x.example;"], ["t1@x.example", "t2@x.example"]),
        (["undisclosed-recipients:;"], []),
        (["nobody, also nobody"], []),
        ([], []),
    ],
)
def test_address_list_keeps_real_addresses_in_order_without_duplicates(
    values: list[str] | tuple[str, ...], expected: list[str]
) -> None:
    assert parse_address_list(values) == expected


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("MAILER-DAEMON@mx.example.org", True),
        ("mailer-daemon", True),
        ("Mail Delivery System <Mailer-Daemon@mx.example.org>", True),
        ("postmaster@example.org", True),
        ("mail-daemon@x.example", True),
        ("MailerDaemon@x.example", True),
        ("bounce@x.example", True),
        ("bounce-12345@lists.example", True),
        ("bounces+abc=def@lists.example", True),
        ("alice@example.net", False),
        ("bouncer@example.net", False),
        ("post.master@example.net", False),
        ("daemon-fan@example.net", False),
    ],
)
def test_mailer_daemons_are_recognised_by_local_part(address: str, expected: bool) -> None:
    assert is_mailer_daemon(address) is expected
