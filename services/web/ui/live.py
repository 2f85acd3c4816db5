"""Live pages: ticket events from the broker, passed on to open pages (server-sent events).

The gateway binds a private, self-deleting queue to ``ticket.txn.*`` and tells each open
page that a ticket changed — a ticket page about its ticket, a home page about any ticket
its viewer is concerned by. The page then fetches the part that changed, through the
normal, rights-checked routes: an event carries no content to the browser, only a ticket
number the viewer may already see.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aio_pika

from shared.topology import EVENTS_EXCHANGE

log = logging.getLogger(__name__)
QUEUE_SIZE = 32
KEEPALIVE_SECONDS = 20.0


@dataclass(eq=False)
class Subscriber:
    email: str
    agent: bool  # agents hear of every ticket on their home page; others of their own
    ticket: int | None = None  # a ticket page; None: the home page
    queue: asyncio.Queue[int] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))

    def concerned(self, ticket: dict[str, Any]) -> bool:
        if self.ticket is not None:
            return int(ticket.get("id", 0)) == self.ticket
        if self.agent:
            return True
        people = {*ticket.get("requestors", ()), *ticket.get("ccs", ())}
        return self.email in {p.lower() for p in people}


def ticket_of(body: bytes) -> dict[str, Any] | None:
    """The ticket snapshot an event's envelope carries, if any (pure)."""
    try:
        envelope = json.loads(body)
        ticket = envelope["payload"]["ticket"]
    except (ValueError, KeyError, TypeError):
        return None
    return ticket if isinstance(ticket, dict) and "id" in ticket else None


class LiveHub:
    def __init__(self, broker_url: str) -> None:
        self._url = broker_url
        self._subscribers: set[Subscriber] = set()
        self._connection: aio_pika.abc.AbstractRobustConnection | None = None

    async def start(self) -> None:
        self._connection = await aio_pika.connect_robust(self._url)
        channel = await self._connection.channel()
        exchange = await channel.declare_exchange(
            EVENTS_EXCHANGE.name, aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(
            f"guichet.web.live.{uuid.uuid4().hex[:12]}",
            exclusive=True,
            auto_delete=True,
            arguments={"x-message-ttl": 10_000, "x-max-length": 10_000},
        )
        await queue.bind(exchange, routing_key="ticket.txn.#")
        await queue.consume(self._on_event, no_ack=True)

    async def stop(self) -> None:
        if self._connection is not None:
            await self._connection.close()

    async def _on_event(self, message: aio_pika.abc.AbstractIncomingMessage) -> None:
        ticket = ticket_of(message.body)
        if ticket is not None:
            self.dispatch(ticket)

    def dispatch(self, ticket: dict[str, Any]) -> None:
        for subscriber in list(self._subscribers):
            if subscriber.concerned(ticket):
                with contextlib.suppress(asyncio.QueueFull):  # a slow page misses pings
                    subscriber.queue.put_nowait(int(ticket["id"]))

    @contextlib.asynccontextmanager
    async def subscribe(self, subscriber: Subscriber) -> AsyncIterator[Subscriber]:
        self._subscribers.add(subscriber)
        try:
            yield subscriber
        finally:
            self._subscribers.discard(subscriber)

    async def stream(
        self, subscriber: Subscriber, still_open: Callable[[], Awaitable[bool]] | None = None
    ) -> AsyncIterator[str]:
        """The server-sent events of one open page: ``changed`` with a ticket number, and
        a comment now and then so proxies keep the connection open. Before each comment,
        ``still_open`` says whether the viewer's session still holds (a logout elsewhere
        ends the stream; the page's reconnection then meets the login)."""
        async with self.subscribe(subscriber):
            yield "retry: 3000\n\n"
            while True:
                try:
                    ticket_id = await asyncio.wait_for(subscriber.queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    if still_open is not None and not await still_open():
                        return
                    yield ": keep-alive\n\n"
                    continue
                yield f"event: changed\ndata: {ticket_id}\n\n"
