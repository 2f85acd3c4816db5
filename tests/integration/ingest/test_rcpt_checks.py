"""The checks at MAIL and RCPT, the same on both listeners (SMTP and LMTP), over a real
socket: exact reply codes for an unknown recipient, postmaster, too many recipients and
a size announced too large."""

from __future__ import annotations

import pytest

from tests.integration.ingest.transcript import Ingest, Session


@pytest.fixture(params=["smtp", "lmtp"])
async def session(request: pytest.FixtureRequest, ingest: Ingest) -> Session:
    return await ingest.session(request.param)


async def test_unknown_recipient_is_refused_with_550_5_1_1(session: Session) -> None:
    assert (await session.cmd("MAIL FROM:<alice@example.net>")).startswith("250")
    reply = await session.cmd("RCPT TO:<nobody@tickets.example.org>")
    assert reply == "550 5.1.1 <nobody@tickets.example.org>: no such queue address here"


async def test_postmaster_is_accepted_as_rfc_5321_requires(session: Session) -> None:
    await session.cmd("MAIL FROM:<alice@example.net>")
    assert await session.cmd("RCPT TO:<postmaster>") == "250 2.1.5 Recipient OK"
    assert await session.cmd("RCPT TO:<postmaster@tickets.example.org>") == "250 2.1.5 Recipient OK"


async def test_too_many_recipients_get_452_4_5_3(session: Session) -> None:
    await session.cmd("MAIL FROM:<alice@example.net>")
    for address in (
        "achats@tickets.example.org",
        "achats-comment@tickets.example.org",
        "postmaster",
    ):
        assert (await session.cmd(f"RCPT TO:<{address}>")).startswith("250")
    reply = await session.cmd("RCPT TO:<Achats@tickets.example.org>")
    assert reply == "452 4.5.3 Too many recipients"


async def test_a_size_announced_too_large_is_refused_at_mail_with_552(session: Session) -> None:
    reply = await session.cmd(f"MAIL FROM:<alice@example.net> SIZE={1024 * 1024}")
    assert reply.startswith("552")
