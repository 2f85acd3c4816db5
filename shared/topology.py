"""Every exchange and queue of Guichet, declared in one place.

Events go through one durable topic exchange, routed by their ``type``. Each consuming
service owns one durable quorum queue. A failed message is re-published by the consumer
to a delay queue of its tier (TTL, then back to the work queue through the default
exchange); after ``MAX_ATTEMPTS`` it goes to ``<queue>.dlq`` for an operator to inspect and
replay. RPC (commands and queries) uses one queue per endpoint and direct reply-to.
"""

from __future__ import annotations

from dataclasses import dataclass

from faststream.rabbit import ExchangeType, QueueType, RabbitExchange, RabbitQueue

EVENTS_EXCHANGE = RabbitExchange("guichet.events", type=ExchangeType.TOPIC, durable=True)

# Delay before the n-th retry (index n-1); the last tier repeats.
RETRY_DELAYS_SECONDS: tuple[int, ...] = (1, 10, 60)
MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class ConsumerQueue:
    name: str
    binding_keys: tuple[str, ...]
    prefetch: int = 16

    def work_queue(self, routing_key: str | None = None) -> RabbitQueue:
        return RabbitQueue(
            self.name,
            queue_type=QueueType.QUORUM,
            durable=True,
            routing_key=routing_key or self.binding_keys[0],
        )

    def retry_queue(self, tier: int) -> RabbitQueue:
        delay = RETRY_DELAYS_SECONDS[tier]
        return RabbitQueue(
            f"{self.name}.retry.{delay}s",
            durable=True,
            arguments={
                "x-message-ttl": delay * 1000,
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": self.name,
            },
        )

    @property
    def dead_letter_queue(self) -> RabbitQueue:
        return RabbitQueue(f"{self.name}.dlq", queue_type=QueueType.QUORUM, durable=True)

    def all_queues(self) -> list[RabbitQueue]:
        return [
            self.work_queue(),
            *(self.retry_queue(t) for t in range(len(RETRY_DELAYS_SECONDS))),
            self.dead_letter_queue,
        ]


TICKETS_MAIL = ConsumerQueue("guichet.tickets.mail", ("mail.received",))
NOTIFY_EVENTS = ConsumerQueue("guichet.notify.events", ("ticket.txn.*",))
SEARCH_EVENTS = ConsumerQueue("guichet.search.events", ("ticket.txn.*",), prefetch=64)
# Mails the smarthost refused for good, for the tickets service to put on their ticket;
# they wait here, durably, until it does.
TICKETS_DELIVERIES = ConsumerQueue("guichet.tickets.deliveries", ("notify.delivery.*",))

CONSUMER_QUEUES: tuple[ConsumerQueue, ...] = (
    TICKETS_MAIL,
    NOTIFY_EVENTS,
    SEARCH_EVENTS,
    TICKETS_DELIVERIES,
)


def rpc_queue(name: str) -> RabbitQueue:
    """Queue of one RPC endpoint, e.g. ``tickets.get`` → ``guichet.rpc.tickets.get``."""
    return RabbitQueue(f"guichet.rpc.{name}", durable=True, auto_delete=False)


def retry_tier(attempt: int) -> int:
    """Index of the delay tier for the given (1-based) failed attempt."""
    return min(max(attempt, 1), len(RETRY_DELAYS_SECONDS)) - 1
