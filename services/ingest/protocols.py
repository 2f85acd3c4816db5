"""aiosmtpd's SMTP and LMTP protocols, changed for ingest in three ways.

* The mail data is read in bulk. aiosmtpd 1.4.6 reads it one line at a time, a coroutine
  call and a dozen Python statements per line: for a mail with a 200 KB PDF (3,700 lines
  of base64) that was 40 % of ingest's CPU (py-spy, ``bench/RESULTS.md``). Here the reader
  looks for the ``.`` line with ``StreamReader.readuntil`` in whole buffers, and the
  dot-unstuffing is one ``bytes.replace``. The handler gets the same bytes as from
  aiosmtpd (dot-unstuffed, RFC 5321 §4.5.2), and more than ``data_size_limit`` gets the
  same ``552``. One difference: a line over 1,000 octets is kept, not refused with
  aiosmtpd's ``500`` (a permanent failure). Mailers do send such lines (HTML on one line)
  and MTAs such as Postfix accept them, so refusing would bounce mail the site's MTA has
  already taken; memory stays bounded by ``data_size_limit``.
* The addresses of MAIL and RCPT are parsed as by aiosmtpd 1.4.6's ``_getaddr``, less the
  ``typing.Protocol`` class it defines on every call (about 4 % of ingest's CPU), and a
  plain ``<local@domain>`` is taken by a regular expression before the RFC 5322 parser.
* LMTP answers every end of data once per accepted recipient (RFC 2033 §4.2), even when
  the data is refused before the handler sees it.
"""

from __future__ import annotations

import asyncio
import re
from email._header_value_parser import get_addr_spec, get_angle_addr
from email.errors import HeaderParseError
from typing import AnyStr

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import MISSING, SMTP

TOO_MUCH_DATA = "552 Error: Too much mail data"
_DOT_CRLF = b".\r\n"
_CRLF = b"\r\n"
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
# <dot-atom@domain> then a space or the end: what get_angle_addr would return verbatim.
_PLAIN_PATH = re.compile(rf"<({_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)>(?=[ \t]|$)")


async def read_data(reader: asyncio.StreamReader, *, size_limit: int | None) -> bytes | None:
    """The data of a mail, up to its ``.`` line, dot-unstuffed; None when it was larger
    than ``size_limit`` (it is read to its end all the same, but not kept)."""
    pieces: list[bytes] = []
    size = 0
    too_much = False
    tail = _CRLF  # the last two bytes read: the DATA command's CRLF to begin with
    while True:
        try:
            piece = await reader.readuntil(_DOT_CRLF)
            ends = _last_two(tail, piece[:-3]) == _CRLF  # ".\r\n" alone on its line
        except asyncio.LimitOverrunError as overrun:
            # No ".\r\n" in the buffer: take all of it but what could start one.
            piece, ends = await reader.read(overrun.consumed), False
        data = piece[:-3] if ends else piece
        size += len(data)
        if size_limit and size > size_limit:
            too_much = True
            pieces.clear()  # keep reading to the end, but not in memory
        elif data:
            pieces.append(data)
        if ends:
            break
        tail = _last_two(tail, piece)
    if too_much:
        return None
    content = b"".join(pieces).replace(b"\r\n.", _CRLF)  # a leading dot is transparency
    return content[1:] if content.startswith(b".") else content


def _last_two(before: bytes, data: bytes) -> bytes:
    """The last two bytes of ``before + data``, without copying ``data``."""
    return data[-2:] if len(data) >= 2 else (before + data)[-2:]


class IngestSMTP(SMTP):
    """aiosmtpd's SMTP; ``smtp_DATA`` is 1.4.6's with its line loop replaced by ``read_data``."""

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        if not arg:
            return "", ""
        plain = _PLAIN_PATH.match(arg)
        if plain and "(" not in arg[plain.end() :]:  # no comment for the parser to drop
            addr, rest = plain[1], arg[plain.end() :].lstrip(" \t")
        else:
            parse = get_angle_addr if arg.lstrip().startswith("<") else get_addr_spec
            try:
                address, parsed_rest = parse(arg)
            except HeaderParseError:
                return None, None
            addr, rest = str(address.addr_spec), str(parsed_rest)
        local_part = addr.rpartition("@")[0]
        if self.local_part_limit and len(local_part) > self.local_part_limit:
            return None, None
        return addr, rest

    async def smtp_DATA(self, arg: str) -> None:
        if await self.check_helo_needed():
            return
        if await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        content = await read_data(self._reader, size_limit=self.data_size_limit)
        if content is None:
            await self.push(TOO_MUCH_DATA)
            self._set_post_data_state()  # type: ignore[no-untyped-call]
            return
        # Bytes as sent: the handler and the spool keep the original (decode_data is off).
        self.envelope.content = self.envelope.original_content = content
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()  # type: ignore[no-untyped-call]
        await self.push("250 OK" if status is MISSING else status)


class IngestLMTP(IngestSMTP, LMTP):
    """LMTP (``LHLO`` instead of ``EHLO``) with one reply per recipient after the data."""

    _replies_due = 0  # set once "354" is sent: the next reply closes the data

    async def push(self, status: AnyStr) -> None:
        # The handler returns one line per recipient; aiosmtpd's own refusals of the data
        # are one line, which would leave a client with several recipients waiting.
        due, self._replies_due = self._replies_due, 0
        if due > 1 and isinstance(status, str) and "\r\n" not in status:
            status = "\r\n".join([status] * due)
        await super().push(status)
        if isinstance(status, str) and status.startswith("354") and self.envelope is not None:
            self._replies_due = len(self.envelope.rcpt_tos)
