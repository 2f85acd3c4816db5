"""SMTP transcripts over a real socket against the real broker: exact reply codes for each
case, and 250 only once the mail is spooled and its event confirmed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aio_pika
import pytest
from aiosmtpd.smtp import SMTP

from services.ingest.adapters.raw_store import FileRawStore
from services.ingest.adapters.routes import RouteCache
from services.ingest.smtp_handler import IngestHandler
from shared.messaging import EventPublisher, RpcClient, build_broker, declare_topology
from shared.rpc.tickets import MailRoute, MailRoutes
from shared.settings import BaseServiceSettings
from shared.topology import TICKETS_MAIL
from tests.support import raw_mail

ROUTES = MailRoutes(
    rtname="example",
    routes={
        "achats@tickets.example.org": MailRoute(queue="achats", kind="correspond"),
        "achats-comment@tickets.example.org": MailRoute(queue="achats", kind="comment"),
    },
)


class Session:
    """A raw SMTP client: send lines, read the exact replies."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def reply(self) -> str:
        lines = []
        while True:
            line = (await asyncio.wait_for(self.reader.readline(), 20)).decode().rstrip("\r\n")
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return "\n".join(lines)

    async def cmd(self, line: str) -> str:
        self.writer.write(line.encode() + b"\r\n")
        await self.writer.drain()
        return await self.reply()

    async def data(self, raw: bytes) -> str:
        assert (await self.cmd("DATA")).startswith("354")
        body = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        body = b"\r\n".join(b"." + ln if ln.startswith(b".") else ln for ln in body.split(b"\r\n"))
        self.writer.write(body + b"\r\n.\r\n")
        await self.writer.drain()
        return await self.reply()


@dataclass
class Ingest:
    port: int
    spool: Path
    vhost: str
    handler: IngestHandler

    async def session(self) -> Session:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        s = Session(reader, writer)
        assert (await s.reply()).startswith("220")
        assert (await s.cmd("EHLO client.example.net")).startswith("250")
        return s


@pytest.fixture
async def ingest(vhost: str, tmp_path: Path) -> AsyncIterator[Ingest]:
    broker = build_broker(BaseServiceSettings(broker_url=vhost))
    await broker.start()
    await declare_topology(broker)
    routes = RouteCache(RpcClient(vhost, timeout=1), tmp_path / "routes.json")
    routes.current = ROUTES  # what tickets would answer; the RPC itself is tested elsewhere
    spool = tmp_path / "spool"
    handler = IngestHandler(
        store=FileRawStore(spool),
        routes=routes,
        publisher=EventPublisher(broker, timeout=3),
        max_recipients=3,
    )
    server = await asyncio.get_running_loop().create_server(
        lambda: SMTP(handler, hostname="ingest", data_size_limit=64 * 1024, enable_SMTPUTF8=True),
        host="127.0.0.1",
        port=0,
    )
    port = server.sockets[0].getsockname()[1]
    yield Ingest(port, spool, vhost, handler)
    server.close()
    await broker.stop()


async def queued(vhost: str) -> list[dict[str, Any]]:
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


async def test_unknown_recipient_is_refused_with_550_5_1_1(ingest: Ingest) -> None:
    s = await ingest.session()
    assert (await s.cmd("MAIL FROM:<alice@example.net>")).startswith("250")
    reply = await s.cmd("RCPT TO:<nobody@tickets.example.org>")
    assert reply == "550 5.1.1 <nobody@tickets.example.org>: no such queue address here"


async def test_postmaster_is_accepted_as_rfc_5321_requires(ingest: Ingest) -> None:
    s = await ingest.session()
    await s.cmd("MAIL FROM:<alice@example.net>")
    assert (await s.cmd("RCPT TO:<postmaster>")).startswith("250")
    assert (await s.cmd("RCPT TO:<postmaster@tickets.example.org>")).startswith("250")


async def test_too_many_recipients_get_452_4_5_3(ingest: Ingest) -> None:
    s = await ingest.session()
    await s.cmd("MAIL FROM:<alice@example.net>")
    for address in (
        "achats@tickets.example.org",
        "achats-comment@tickets.example.org",
        "postmaster",
    ):
        assert (await s.cmd(f"RCPT TO:<{address}>")).startswith("250")
    assert await s.cmd("RCPT TO:<Achats@tickets.example.org>") == "452 4.5.3 Too many recipients"


async def test_an_oversized_mail_gets_552(ingest: Ingest) -> None:
    s = await ingest.session()
    await s.cmd("MAIL FROM:<alice@example.net>")
    await s.cmd("RCPT TO:<achats@tickets.example.org>")
    reply = await s.data(raw_mail(body="x" * 100 + ("y" * 70 + "\n") * 2000))
    assert reply.startswith("552")
    assert await queued(ingest.vhost) == []


async def test_250_means_spooled_and_one_confirmed_event_per_queue_address(ingest: Ingest) -> None:
    s = await ingest.session()
    await s.cmd("MAIL FROM:<alice@example.net>")
    await s.cmd("RCPT TO:<achats@tickets.example.org>")
    await s.cmd("RCPT TO:<ACHATS-comment@tickets.example.org>")
    raw = raw_mail(subject="Demande de devis écran")
    assert await s.data(raw) == "250 2.0.0 Message accepted for delivery"
    events = await queued(ingest.vhost)
    assert sorted(e["payload"]["recipient"] for e in events) == [
        "achats-comment@tickets.example.org",
        "achats@tickets.example.org",
    ]
    assert {e["payload"]["recipient_kind"] for e in events} == {"correspond", "comment"}
    assert len({e["payload"]["mail_key"] for e in events}) == 2
    sha = events[0]["payload"]["raw_sha256"]
    spooled = list(ingest.spool.rglob(f"{sha}.eml"))
    assert len(spooled) == 1
    # aiosmtpd hands over the bytes as sent (dot-unstuffed): the spool holds exactly them.
    assert b"Demande de devis" in spooled[0].read_bytes()


async def test_loop_facts_travel_with_the_event(ingest: Ingest) -> None:
    s = await ingest.session()
    await s.cmd("MAIL FROM:<>")
    await s.cmd("RCPT TO:<achats@tickets.example.org>")
    raw = raw_mail(headers={"Auto-Submitted": "auto-replied", "Precedence": "bulk"})
    assert (await s.data(raw)).startswith("250")
    [event] = await queued(ingest.vhost)
    loop = event["payload"]["loop"]
    assert loop["auto_submitted"] and loop["bulk_or_list"] and loop["mailer_daemon"]


async def test_broker_gone_answers_451_and_never_250(ingest: Ingest, delete_vhost: Any) -> None:
    s = await ingest.session()
    await s.cmd("MAIL FROM:<alice@example.net>")
    await s.cmd("RCPT TO:<achats@tickets.example.org>")
    delete_vhost(ingest.vhost)  # the broker closes every connection to it
    await asyncio.sleep(0.5)
    assert await s.data(raw_mail()) == "451 4.3.0 Temporary failure, please try again later"


async def test_storage_failure_answers_451(ingest: Ingest) -> None:
    s = await ingest.session()
    await s.cmd("MAIL FROM:<alice@example.net>")
    await s.cmd("RCPT TO:<achats@tickets.example.org>")
    # The spool disappears and a plain file takes its place: no directory can be made there.
    import shutil

    shutil.rmtree(ingest.spool)
    ingest.spool.write_text("not a directory")
    assert await s.data(raw_mail()) == "451 4.3.0 Temporary failure, please try again later"
    assert await queued(ingest.vhost) == []
