"""Ingest's changes to aiosmtpd: the bulk data reader and the address parser give what
aiosmtpd 1.4.6 gives (the socket-level behaviour is in the transcript tests)."""

from __future__ import annotations

import asyncio

import pytest
from aiosmtpd.smtp import SMTP

from services.ingest.protocols import IngestSMTP, read_data

pytestmark = pytest.mark.unit


async def read(*chunks: bytes, size_limit: int | None = 1_000_000) -> bytes | None:
    """What read_data makes of the data arriving in these chunks (then the next command)."""
    reader = asyncio.StreamReader(limit=1001)  # aiosmtpd's line length limit
    for chunk in chunks:
        reader.feed_data(chunk)
    reader.feed_data(b"QUIT\r\n")
    data = await read_data(reader, size_limit=size_limit)
    assert await reader.readline() == b"QUIT\r\n"  # nothing read beyond the final dot
    return data


async def test_an_empty_mail_is_just_the_final_dot() -> None:
    assert await read(b".\r\n") == b""


async def test_leading_dots_are_unstuffed_on_every_line_and_trailing_ones_kept() -> None:
    sent = b"..a\r\nb.\r\n...\r\n.c\r\nend.\r\n.\r\n"
    assert await read(sent) == b".a\r\nb.\r\n..\r\nc\r\nend.\r\n"


@pytest.mark.parametrize("cut", range(1, 9))
async def test_the_final_dot_is_found_wherever_the_reads_split_it(cut: int) -> None:
    sent = b"x" * 2000 + b"\r\nfin.\r\n.\r\n"
    at = len(sent) - cut
    assert await read(sent[:at], sent[at:]) == b"x" * 2000 + b"\r\nfin.\r\n"


async def test_a_dot_line_split_from_its_crlf_is_still_the_end() -> None:
    assert await read(b"a" * 1500 + b"\r", b"\n.\r\n") == b"a" * 1500 + b"\r\n"


async def test_too_much_data_is_read_to_its_end_and_not_kept() -> None:
    assert await read(b"y" * 70 + b"\r\n" * 100 + b".\r\n", size_limit=100) is None


async def test_a_long_line_is_kept() -> None:
    assert await read(b"z" * 5000 + b"\r\n.\r\n") == b"z" * 5000 + b"\r\n"


@pytest.mark.parametrize(
    "arg",
    [
        "<alice@example.net>",
        "<alice@example.net> SIZE=1000 BODY=8BITMIME",
        "<a.b+c=d@x.example.org>\tSIZE=1",
        "<>",
        "  <a@b>",
        '<"q x"@y>',
        "<a..b@x>",
        "<a@[192.0.2.1]>",
        "bob@example.net",
        "<@relay.example:a@b>",
        "<a@b",
        "<a@b>x",
        "<a@b> (comment) SIZE=1",
        "<postmaster>",
        "<Éloïse@example.fr>",
        "<a@x.>",
        "",
    ],
)
def test_addresses_are_parsed_as_aiosmtpd_parses_them(arg: str) -> None:
    ours, theirs = IngestSMTP.__new__(IngestSMTP), SMTP.__new__(SMTP)
    assert ours._getaddr(arg) == theirs._getaddr(arg)
