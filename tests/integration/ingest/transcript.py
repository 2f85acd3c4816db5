"""For the ingest transcript tests: a raw SMTP/LMTP client (send lines, read the exact
replies), the ingest under test, the test certificate, and what reached the broker."""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import aio_pika

from services.ingest.adapters.routes import RouteCache
from services.ingest.listeners import server_tls_context
from shared.topology import TICKETS_MAIL

ACCEPTED = "250 2.0.0 Message accepted for delivery"
TRY_LATER = "451 4.3.0 Temporary failure, please try again later"
TLS_HOSTNAME = "ingest.test"  # the name in the test certificate


Protocol = Literal["smtp", "lmtp"]


class Session:
    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, protocol: Protocol
    ) -> None:
        self.reader, self.writer = reader, writer
        self.protocol = protocol

    @classmethod
    async def open(cls, port: int, protocol: Protocol) -> Session:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        session = cls(reader, writer, protocol)
        assert (await session.reply()).startswith("220")
        return session

    async def hello(self) -> str:
        """EHLO for SMTP, LHLO for LMTP; the reply's lines."""
        verb = "LHLO" if self.protocol == "lmtp" else "EHLO"
        return await self.cmd(f"{verb} mta.example.net")

    async def reply(self) -> str:
        """One reply, its lines joined by newlines (``250-…`` continuation lines included)."""
        lines = []
        while True:
            line = (await asyncio.wait_for(self.reader.readline(), 20)).decode().rstrip("\r\n")
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return "\n".join(lines)

    async def replies(self, count: int) -> list[str]:
        return [await self.reply() for _ in range(count)]

    async def cmd(self, line: str) -> str:
        await self.send(line)
        return await self.reply()

    async def send(self, line: str) -> None:
        self.writer.write(line.encode() + b"\r\n")
        await self.writer.drain()

    async def send_data(self, raw: bytes) -> None:
        """DATA, then the content dot-stuffed and its final dot; no reply read."""
        assert (await self.cmd("DATA")).startswith("354")
        body = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        body = b"\r\n".join(b"." + ln if ln.startswith(b".") else ln for ln in body.split(b"\r\n"))
        self.writer.write(body + b"\r\n.\r\n")
        await self.writer.drain()

    async def data(self, raw: bytes) -> str:
        await self.send_data(raw)
        return await self.reply()

    async def starttls(self, context: ssl.SSLContext, server_hostname: str) -> None:
        assert (await self.cmd("STARTTLS")).startswith("220")
        await self.writer.start_tls(context, server_hostname=server_hostname)


@dataclass
class Ingest:
    smtp_port: int
    lmtp_port: int
    spool: Path
    vhost: str
    routes: RouteCache

    async def session(self, protocol: Protocol) -> Session:
        """A session greeted (220) and introduced (EHLO or LHLO)."""
        port = self.lmtp_port if protocol == "lmtp" else self.smtp_port
        session = await Session.open(port, protocol)
        assert (await session.hello()).startswith("250")
        return session

    async def smtp(self) -> Session:
        return await self.session("smtp")

    async def lmtp(self) -> Session:
        return await self.session("lmtp")


StartIngest = Callable[..., Awaitable[Ingest]]


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        return server_tls_context(self.cert, self.key)

    def client_context(self) -> ssl.SSLContext:
        """A client that trusts this certificate only, and checks the host name."""
        return ssl.create_default_context(cafile=str(self.cert))


async def queued(vhost: str) -> list[dict[str, Any]]:
    """Every ``mail.received`` waiting for the tickets service, taken off its queue."""
    connection = await aio_pika.connect(vhost)
    try:
        channel = await connection.channel()
        queue = await channel.get_queue(TICKETS_MAIL.name, ensure=False)
        found = []
        while (message := await queue.get(no_ack=True, fail=False)) is not None:
            found.append(json.loads(message.body))
        return found
    finally:
        await connection.close()
