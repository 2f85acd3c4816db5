"""Helpers of the tickets integration tests: a tap on the published events."""

from __future__ import annotations

import json
import uuid
from typing import Any

import aio_pika

from services.tickets.domain.model import Queue
from shared.events.envelope import AnyEnvelope, Envelope
from shared.rpc import tickets as rpc
from shared.topology import EVENTS_EXCHANGE
from tests.support import eventually, mail_received

QUEUE = Queue("achats", "achats@tickets.example.org", "achats-comment@tickets.example.org")


class EventTap:
    """A private queue bound to ticket.txn.*: what the service published."""

    def __init__(self, amqp_url: str) -> None:
        self._url = amqp_url
        self.events: list[AnyEnvelope] = []

    async def start(self) -> None:
        self._connection = await aio_pika.connect(self._url)
        channel = await self._connection.channel()
        exchange = await channel.declare_exchange(
            EVENTS_EXCHANGE.name, aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(exclusive=True)
        await queue.bind(exchange, "ticket.txn.*")

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            self.events.append(AnyEnvelope.model_validate(json.loads(message.body)))

        await queue.consume(on_message, no_ack=True)

    async def stop(self) -> None:
        await self._connection.close()

    async def wait_for(self, count: int) -> list[AnyEnvelope]:
        async def enough() -> list[AnyEnvelope] | None:
            return self.events if len(self.events) >= count else None

        return await eventually(enough, timeout=10, what=f"{count} event(s)")


def envelope_of(raw: bytes, **extra: Any) -> Envelope[Any]:
    return Envelope.wrap(mail_received(raw, **extra), producer="ingest", correlation_id="smtp-1")


def ticket_command(ticket: int, action: str, actor: str, **params: Any) -> rpc.TicketCommand:
    """A command with a fresh id, as the web gateway would send it."""
    return rpc.TicketCommand(
        command_id=f"test-{uuid.uuid4()}",
        actor=actor,
        ticket=ticket,
        action=action,
        **params,
    )


def queue_change(name: str = "achats", **changes: Any) -> rpc.UpsertQueue:
    """An administrator's edit of a queue (``achats`` keeps its usual addresses)."""
    addresses = {
        "correspond_address": f"{name}@tickets.example.org",
        "comment_address": f"{name}-comment@tickets.example.org",
    }
    return rpc.UpsertQueue(actor=rpc.SYSTEM_ACTOR, name=name, **{**addresses, **changes})
