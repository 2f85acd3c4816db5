"""Notify against the real RabbitMQ (a fresh virtual host) and FerretDB (a fresh database),
sending to an in-process SMTP server that can be stopped, started, and told to refuse.

The tickets service is played by a small RPC server on the same broker, answering the
three questions notify asks it (a file's bytes, a ticket's history, the queues).
"""

from __future__ import annotations

import asyncio
import base64
import email
import email.policy
import hashlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP
from faststream.rabbit import RabbitBroker

from services.notify import handlers
from services.notify.adapters.mongo_deliveries import MongoDeliveryLog
from services.notify.adapters.mongo_queue_settings import MongoQueueSettings
from services.notify.adapters.mongo_rate_limits import MongoAutoreplyLimiter
from services.notify.adapters.smtp_sender import SmtpSender
from services.notify.adapters.tickets_rpc import TicketsClient
from services.notify.administration import NotifyAdministration
from services.notify.service import NotifyService
from shared.errors import NotFoundError
from shared.events.envelope import AnyEnvelope, Envelope, EventPayload
from shared.events.ticket import AttachmentInfo
from shared.messaging import (
    EventPublisher,
    RpcClient,
    build_broker,
    declare_topology,
    register_rpc,
)
from shared.rpc import tickets as rpc_tickets
from shared.settings import BaseServiceSettings
from tests.support import eventually


@dataclass
class CaughtMail:
    recipients: list[str]
    sender: str
    message: EmailMessage


@dataclass
class Catcher:
    """The smarthost's mailbox; ``refuse`` maps an address to the reply its RCPT gets."""

    mails: list[CaughtMail] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.mails.append(CaughtMail(list(envelope.rcpt_tos), envelope.mail_from, message))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m.message for m in self.mails if address in m.recipients]

    async def wait_for(self, count: int, timeout: float = 15) -> list[CaughtMail]:
        async def enough() -> list[CaughtMail] | None:
            return self.mails if len(self.mails) >= count else None

        return await eventually(enough, timeout=timeout, what=f"{count} mail(s) caught")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Smarthost:
    """An SMTP server on a port of its own, which a test may stop and start again."""

    def __init__(self) -> None:
        self.catcher = Catcher()
        self.port = free_port()
        self.connections = 0  # sessions opened with it so far
        self._server: asyncio.Server | None = None
        self._sessions: list[SMTP] = []

    async def start(self) -> None:
        self._server = await asyncio.get_running_loop().create_server(
            self._session, host="127.0.0.1", port=self.port
        )

    def _session(self) -> SMTP:
        self.connections += 1
        session = SMTP(self.catcher, hostname="smarthost")
        self._sessions.append(session)
        return session

    def drop_sessions(self) -> None:
        """Close every open session without a word, as a smarthost's idle time-out does."""
        sessions, self._sessions = self._sessions, []
        for session in sessions:
            if session.transport is not None:
                session.transport.close()

    async def stop(self) -> None:
        """Down: no new session, and the open ones cut."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        self.drop_sessions()


@pytest.fixture
async def smarthost() -> AsyncIterator[Smarthost]:
    host = Smarthost()
    await host.start()
    yield host
    await host.stop()


@dataclass
class TicketsStandIn:
    """What the tickets service would answer notify: stored files, histories, queues."""

    files: dict[str, tuple[str, str, bytes]] = field(default_factory=dict)
    histories: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    queues: tuple[str, ...] = ("achats",)
    administrators: tuple[str, ...] = ("admin@example.org",)

    def store(self, filename: str, content_type: str, content: bytes) -> AttachmentInfo:
        sha = hashlib.sha256(content).hexdigest()
        self.files[sha] = (filename, content_type, content)
        return AttachmentInfo(
            filename=filename, content_type=content_type, size=len(content), sha256=sha
        )

    def register(self, broker: RabbitBroker) -> None:
        async def attachment(body: dict[str, Any]) -> Any:
            ref = rpc_tickets.AttachmentRef.model_validate(body)
            if ref.sha256 not in self.files:
                raise NotFoundError("no such attachment")
            filename, content_type, content = self.files[ref.sha256]
            return rpc_tickets.AttachmentContent(
                sha256=ref.sha256,
                filename=filename,
                content_type=content_type,
                content_b64=base64.b64encode(content).decode(),
            ).model_dump()

        async def history(body: dict[str, Any]) -> Any:
            return self.histories.get(rpc_tickets.TicketRef.model_validate(body).id, [])

        async def mail_routes(_: dict[str, Any]) -> Any:
            routes = {
                f"{q}@tickets.example.org": rpc_tickets.MailRoute(queue=q, kind="correspond")
                for q in self.queues
            }
            return rpc_tickets.MailRoutes(rtname="example", routes=routes).model_dump()

        async def user(body: dict[str, Any]) -> Any:
            email = rpc_tickets.UserRef.model_validate(body).email
            if email not in self.administrators:
                raise NotFoundError(f"no user {email}")
            return rpc_tickets.UserDetails(email=email, privileged=True, is_admin=True).model_dump()

        register_rpc(broker, rpc_tickets.GET_ATTACHMENT, attachment, description="")
        register_rpc(broker, rpc_tickets.GET_USER, user, description="")
        register_rpc(broker, rpc_tickets.GET_HISTORY, history, description="")
        register_rpc(broker, rpc_tickets.MAIL_ROUTES, mail_routes, description="")


@dataclass
class Notify:
    """Notify's parts, wired to the test's servers, as the composition root wires them."""

    vhost: str
    mongo: Any
    database: str
    rpc_client: RpcClient
    publisher: EventPublisher
    tickets: TicketsStandIn
    smarthost: Smarthost
    service: NotifyService = field(init=False)
    administration: NotifyAdministration = field(init=False)
    deliveries: MongoDeliveryLog = field(init=False)
    settings: MongoQueueSettings = field(init=False)

    def __post_init__(self) -> None:
        self.deliveries = MongoDeliveryLog(self.mongo, self.database)
        self.settings = MongoQueueSettings(self.mongo, self.database)
        tickets = TicketsClient(self.rpc_client)
        self.service = NotifyService(
            self.deliveries,
            SmtpSender("127.0.0.1", self.smarthost.port, timeout=5),
            settings=self.settings,
            limiter=MongoAutoreplyLimiter(self.mongo, self.database, per_hour=5),
            tickets=tickets,
            publisher=self.publisher,
        )
        self.administration = NotifyAdministration(
            self.settings, self.deliveries, tickets, on_change=self.service.forget_settings
        )

    def restarted(self) -> Notify:
        """A new notify process: new objects, nothing in memory, the same database."""
        return Notify(
            self.vhost,
            self.mongo,
            self.database,
            self.rpc_client,
            self.publisher,
            self.tickets,
            self.smarthost,
        )

    async def publish(self, payload: EventPayload, *, copies: int = 1) -> AnyEnvelope:
        """Publish an event as the tickets service does (``copies`` > 1: redeliveries)."""
        envelope = Envelope.wrap(payload, producer="tickets", correlation_id="test")
        for _ in range(copies):
            await self.publisher.publish(envelope)
        return AnyEnvelope.model_validate(envelope.to_wire())

    async def handle(self, payload: EventPayload) -> AnyEnvelope:
        """Hand an event straight to the service, as the consumer would."""
        envelope = AnyEnvelope.model_validate(
            Envelope.wrap(payload, producer="tickets", correlation_id="test").to_wire()
        )
        await self.service.on_ticket_event(envelope)
        return envelope


class Consumer:
    """Notify's consumer and RPC endpoints on a broker of their own: ``stop`` is a
    graceful shutdown (in-flight work ends, the rest goes back to the queue)."""

    def __init__(self, notify: Notify) -> None:
        self._notify = notify
        self.broker = build_broker(BaseServiceSettings(broker_url=notify.vhost))
        handlers.register(self.broker, notify.service, notify.administration, publish_timeout=5)

    async def start(self) -> Consumer:
        await self.broker.start()
        return self

    async def stop(self) -> None:
        await self.broker.stop()


@pytest.fixture
async def notify(
    vhost: str, mongo: Any, namespace: str, smarthost: Smarthost
) -> AsyncIterator[Notify]:
    broker = build_broker(BaseServiceSettings(broker_url=vhost))
    stand_in = TicketsStandIn()
    stand_in.register(broker)
    await broker.start()
    await declare_topology(broker)
    rpc_client = RpcClient(vhost, timeout=5, name="notify-test")
    await rpc_client.start()
    publisher = EventPublisher(broker, timeout=5)
    notify = Notify(vhost, mongo, f"{namespace}_notify", rpc_client, publisher, stand_in, smarthost)
    await notify.deliveries.ensure_indexes()
    yield notify
    await rpc_client.stop()
    await broker.stop()
