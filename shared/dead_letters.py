"""Operator tools for dead-lettered messages: look at them, and send them back."""

from __future__ import annotations

from dataclasses import dataclass

import aio_pika

from shared.messaging import ATTEMPT_HEADER, ERROR_HEADER, ORIGIN_HEADER
from shared.topology import CONSUMER_QUEUES, ConsumerQueue


@dataclass(frozen=True)
class DeadLetter:
    message_id: str | None
    origin: str
    attempts: int
    error: str


def consumer_queue(name: str) -> ConsumerQueue:
    for consumer in CONSUMER_QUEUES:
        if name in (consumer.name, consumer.dead_letter_queue.name):
            return consumer
    known = ", ".join(c.name for c in CONSUMER_QUEUES)
    raise ValueError(f"unknown queue {name!r}; one of: {known}")


async def inspect(broker_url: str, queue: str, limit: int = 20) -> tuple[int, list[DeadLetter]]:
    """How many messages wait in the queue's DLQ, and the first ``limit`` of them (they stay)."""
    dlq = consumer_queue(queue).dead_letter_queue.name
    connection = await aio_pika.connect(broker_url)
    try:
        channel = await connection.channel()
        declared = await channel.declare_queue(dlq, passive=True)
        count = declared.declaration_result.message_count or 0
        seen: list[DeadLetter] = []
        for _ in range(min(limit, count)):
            message = await declared.get(no_ack=False, fail=False)
            if message is None:
                break
            headers = message.headers or {}
            seen.append(
                DeadLetter(
                    message.message_id,
                    str(headers.get(ORIGIN_HEADER, "")),
                    int(str(headers.get(ATTEMPT_HEADER) or 0)),
                    str(headers.get(ERROR_HEADER, "")),
                )
            )
        # Closing the channel returns the un-acked messages to the DLQ, in order.
        await channel.close()
        return count, seen
    finally:
        await connection.close()


async def replay(broker_url: str, queue: str, limit: int | None = None) -> int:
    """Move messages from the DLQ back to their work queue (attempts start again)."""
    consumer = consumer_queue(queue)
    connection = await aio_pika.connect(broker_url)
    moved = 0
    try:
        channel = await connection.channel(publisher_confirms=True)
        dlq = await channel.declare_queue(consumer.dead_letter_queue.name, passive=True)
        while limit is None or moved < limit:
            message = await dlq.get(no_ack=False, fail=False)
            if message is None:
                break
            headers = {
                k: v
                for k, v in (message.headers or {}).items()
                if k not in {ATTEMPT_HEADER, ERROR_HEADER, ORIGIN_HEADER}
            }
            await channel.default_exchange.publish(
                aio_pika.Message(
                    message.body,
                    headers=headers,
                    content_type=message.content_type,
                    message_id=message.message_id,
                    correlation_id=message.correlation_id,
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key=consumer.name,
            )
            await message.ack()
            moved += 1
        return moved
    finally:
        await connection.close()
