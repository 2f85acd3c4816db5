"""The queue an export is streamed to: the caller's, on a connection of the export's own.

Each message is confirmed by the broker and mandatory: one that no queue takes (the
reader went away and its queue with it) raises, as a passive declare of a queue that no
longer exists does. A connection of its own keeps those failures, which close the AMQP
channel, away from the service's other publishers.

The queue must not be exclusive: RabbitMQ refuses even a passive declare of an exclusive
queue to any other connection (RESOURCE_LOCKED), so the export could not see how much
waits in it. A temporary queue is declared auto-delete instead: it goes when its reader
does.
"""

from __future__ import annotations

import asyncio

import aio_pika
import aio_pika.abc
import aio_pika.exceptions
import aiormq.exceptions
from pamqp.commands import Basic

from shared.messaging import PublishFailedError


class ExportQueueGoneError(Exception):
    """The export's queue does not exist (any more): its reader went away."""


class ExportQueueExclusiveError(Exception):
    """The export's queue is exclusive to its reader's connection: it cannot be watched."""


class AmqpExportQueue:
    """One export's target queue, on the default exchange."""

    def __init__(
        self,
        connection: aio_pika.abc.AbstractConnection,
        channel: aio_pika.abc.AbstractChannel,
        name: str,
        timeout: float,
    ) -> None:
        self._connection = connection
        self._channel = channel
        self.name = name
        self._timeout = timeout

    async def waiting(self) -> int:
        """How many messages wait in the queue (not counting those delivered and not yet
        acknowledged: its reader should take them one or two at a time)."""
        try:
            declared = await self._channel.declare_queue(
                self.name, passive=True, timeout=self._timeout
            )
        except aio_pika.exceptions.ChannelNotFoundEntity as exc:
            raise ExportQueueGoneError(f"no queue {self.name!r}") from exc
        except aiormq.exceptions.ChannelLockedResource as exc:
            raise ExportQueueExclusiveError(f"queue {self.name!r} is exclusive") from exc
        return declared.declaration_result.message_count or 0

    async def publish(self, body: bytes, *, message_type: str) -> None:
        message = aio_pika.Message(
            body,
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            type=message_type,
        )
        try:
            frame = await self._channel.default_exchange.publish(
                message, routing_key=self.name, mandatory=True, timeout=self._timeout
            )
        except aio_pika.exceptions.DeliveryError as exc:  # returned: no such queue
            raise ExportQueueGoneError(f"queue {self.name!r} took no message") from exc
        if not isinstance(frame, Basic.Ack):
            raise PublishFailedError(f"publish to {self.name!r} not confirmed: {frame!r}")

    async def close(self) -> None:
        await asyncio.wait_for(self._connection.close(), self._timeout)


class AmqpExportQueues:
    """Opens the queues exports are streamed to."""

    def __init__(self, broker_url: str, *, timeout: float) -> None:
        self._url = broker_url
        self._timeout = timeout

    async def open(self, name: str) -> AmqpExportQueue:
        """``name``, which must exist (else :class:`ExportQueueGoneError`) and not be
        exclusive (else :class:`ExportQueueExclusiveError`)."""
        connection = await aio_pika.connect(self._url, timeout=self._timeout)
        try:
            channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
            queue = AmqpExportQueue(connection, channel, name, self._timeout)
            await queue.waiting()
        except BaseException:
            await connection.close()
            raise
        return queue
