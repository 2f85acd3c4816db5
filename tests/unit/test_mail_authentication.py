"""shared.mail.authentication: the trusted MTA's verdict from Authentication-Results."""

from __future__ import annotations

import pytest

from shared.mail.authentication import authentication_of, header_values

TRUSTED = ("mx.example.org",)
FROM = "acheteur@example.org"


def verdict(*values: str, sender: str = FROM) -> str:
    return authentication_of(values, sender, TRUSTED).verdict


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("mx.example.org; dmarc=pass header.from=example.org", "pass"),
        ("mx.example.org; dkim=pass header.d=example.org; spf=fail", "pass"),
        ("mx.example.org; dkim=pass header.d=mail.example.org", "pass"),  # relaxed alignment
        ("mx.example.org; spf=pass smtp.mailfrom=bounce@example.org", "pass"),
        ("mx.example.org; dkim=pass header.d=evil.example.net", "fail"),  # not aligned
        ("mx.example.org; spf=pass smtp.mailfrom=x@evil.example.net", "fail"),
        (
            "mx.example.org; dmarc=fail header.from=example.org; dkim=pass header.d=example.org",
            "fail",
        ),
        ("mx.example.org; dkim=fail; spf=softfail", "fail"),
        ("mx.example.org; none", "none"),
        ("MX.Example.ORG 1; dmarc=pass (p=reject dis=none) header.from=example.org", "pass"),
    ],
)
def test_the_verdict_of_a_trusted_header(value: str, expected: str) -> None:
    assert verdict(value) == expected


def test_a_header_from_an_untrusted_server_is_ignored() -> None:
    forged = "attacker.example.net; dmarc=pass header.from=example.org"
    assert verdict(forged) == "none"


def test_the_topmost_trusted_header_wins_over_a_forged_copy_below() -> None:
    ours = "mx.example.org; dmarc=fail header.from=example.org"
    forged_below = "mx.example.org; dmarc=pass header.from=example.org"
    info = authentication_of([ours, forged_below], FROM, TRUSTED)
    assert info.verdict == "fail"
    assert (info.authserv_id, info.dmarc) == ("mx.example.org", "fail")


def test_comments_and_quoted_values_are_read() -> None:
    value = 'mx.example.org (Postfix); dkim=pass (2048-bit key) header.d="example.org"'
    assert verdict(value) == "pass"


def test_no_header_means_no_verdict() -> None:
    assert verdict() == "none"


def test_header_values_are_read_topmost_first() -> None:
    raw = (
        b"Authentication-Results: mx.example.org; dmarc=pass\r\n"
        b"Authentication-Results: other; dmarc=fail\r\nSubject: x\r\n\r\nbody"
    )
    assert header_values(raw, "Authentication-Results") == [
        "mx.example.org; dmarc=pass",
        "other; dmarc=fail",
    ]
