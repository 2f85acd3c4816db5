"""An ingest of its own for each test: the service's handler and listeners (SMTP and LMTP,
built as the app builds them) on free ports, against a fresh RabbitMQ virtual host."""

from __future__ import annotations

import asyncio
import re
import ssl
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from services.ingest.adapters.raw_store import FileRawStore
from services.ingest.adapters.routes import RouteCache
from services.ingest.domain.peers import Network
from services.ingest.listeners import (
    ListenerOptions,
    listen,
    lmtp_protocol,
    smtp_protocol,
)
from services.ingest.smtp_handler import IngestHandler
from shared.messaging import EventPublisher, RpcClient, build_broker, declare_topology
from shared.rpc.tickets import MailRoute, MailRoutes
from shared.settings import BaseServiceSettings
from shared.topology import TICKETS_MAIL
from tests.integration.ingest.transcript import TLS_HOSTNAME, Certificate, Ingest, StartIngest

if TYPE_CHECKING:
    from tests.integration.conftest import Servers

ROUTES = MailRoutes(
    rtname="example",
    routes={
        "achats@tickets.example.org": MailRoute(queue="achats", kind="correspond"),
        "achats-comment@tickets.example.org": MailRoute(queue="achats", kind="comment"),
    },
)
MAX_RECIPIENTS = 3
MAX_MESSAGE_BYTES = 64 * 1024


@pytest.fixture
async def start_ingest(vhost: str, tmp_path: Path) -> AsyncIterator[StartIngest]:
    """``await start_ingest(allowed_peers=…, tls=…, require_tls=…)`` → a running ingest."""
    broker = build_broker(BaseServiceSettings(broker_url=vhost))
    await broker.start()
    await declare_topology(broker)
    servers: list[asyncio.Server] = []

    async def start(
        *,
        allowed_peers: Sequence[Network] = (),
        tls: ssl.SSLContext | None = None,
        require_tls: bool = False,
    ) -> Ingest:
        routes = RouteCache(RpcClient(vhost, timeout=1), tmp_path / "routes.json")
        routes.current = ROUTES  # what tickets would answer; the RPC itself is tested elsewhere
        spool = tmp_path / "spool"
        handler = IngestHandler(
            store=FileRawStore(spool),
            routes=routes,
            publisher=EventPublisher(broker, timeout=3),
            max_recipients=MAX_RECIPIENTS,
            allowed_peers=allowed_peers,
            require_tls=require_tls,
        )
        options = ListenerOptions("ingest", max_message_bytes=MAX_MESSAGE_BYTES, tls=tls)
        smtp = await listen(lambda: smtp_protocol(handler, options), host="127.0.0.1", port=0)
        lmtp = await listen(lambda: lmtp_protocol(handler, options), host="127.0.0.1", port=0)
        servers.extend((smtp, lmtp))
        return Ingest(
            smtp.sockets[0].getsockname()[1],
            lmtp.sockets[0].getsockname()[1],
            spool,
            vhost,
            routes,
        )

    yield start
    for server in servers:
        server.close()
    await broker.stop()


@pytest.fixture
async def ingest(start_ingest: StartIngest) -> Ingest:
    return await start_ingest()


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Certificate]:
    """A self-signed certificate for ``ingest.test``, made by the openssl command."""
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "1", "-subj", f"/CN={TLS_HOSTNAME}",
            "-addext", f"subjectAltName=DNS:{TLS_HOSTNAME}",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    yield Certificate(cert, key)


@pytest.fixture
def mail_queue_takes(servers: Servers, vhost: str) -> Callable[[int], None]:
    """``mail_queue_takes(n)``: the tickets queue, empty, takes ``n`` more events; the broker
    refuses (nacks) the next ones, as it does when a queue is full."""

    def limit(events: int) -> None:
        name = vhost.rsplit("/", 1)[1]
        with httpx.Client(base_url=servers.management, auth=("guest", "guest"), timeout=10) as h:
            h.put(
                f"/api/policies/{name}/mail-queue-full",
                json={
                    "pattern": f"^{re.escape(TICKETS_MAIL.name)}$",
                    "apply-to": "queues",
                    # A quorum queue refuses once it holds *more* than max-length.
                    "definition": {"max-length": events - 1, "overflow": "reject-publish"},
                },
            ).raise_for_status()

    return limit
