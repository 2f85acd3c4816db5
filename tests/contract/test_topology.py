"""The RabbitMQ topology every service declares: work queues, retry tiers, dead letters,
and which events reach which queue."""

from __future__ import annotations

from itertools import pairwise

import pytest

from shared.events import ALL_EVENTS
from shared.events.notify import DELIVERY_EVENTS
from shared.topology import (
    CONSUMER_QUEUES,
    EVENTS_EXCHANGE,
    MAX_ATTEMPTS,
    RETRY_DELAYS_SECONDS,
    ConsumerQueue,
    retry_tier,
    rpc_queue,
)

CONSUMERS = pytest.mark.parametrize("consumer", CONSUMER_QUEUES, ids=lambda c: c.name)


def _topic_matches(binding_key: str, routing_key: str) -> bool:
    """AMQP topic matching: ``*`` is exactly one word, ``#`` zero or more."""

    def match(binding: list[str], key: list[str]) -> bool:
        if not binding:
            return not key
        if binding[0] == "#":
            return any(match(binding[1:], key[i:]) for i in range(len(key) + 1))
        return bool(key) and binding[0] in ("*", key[0]) and match(binding[1:], key[1:])

    return match(binding_key.split("."), routing_key.split("."))


@CONSUMERS
def test_work_queue_is_a_durable_quorum_queue(consumer: ConsumerQueue) -> None:
    work = consumer.work_queue()

    assert work.name == consumer.name
    assert work.durable
    assert not work.auto_delete and not work.exclusive
    assert work.arguments["x-queue-type"] == "quorum"
    assert work.routing() == consumer.binding_keys[0]


@CONSUMERS
def test_retry_queues_send_each_message_back_to_the_work_queue(consumer: ConsumerQueue) -> None:
    for tier, delay in enumerate(RETRY_DELAYS_SECONDS):
        retry = consumer.retry_queue(tier)
        assert retry.name == f"{consumer.name}.retry.{delay}s"
        assert retry.durable
        args = retry.arguments
        assert args["x-message-ttl"] == delay * 1000
        # The default exchange ("") routes by queue name: straight back to the work queue.
        assert args["x-dead-letter-exchange"] == ""
        assert args["x-dead-letter-routing-key"] == consumer.work_queue().name


@CONSUMERS
def test_dead_letter_queue_is_durable_and_kept(consumer: ConsumerQueue) -> None:
    dlq = consumer.dead_letter_queue

    assert dlq.name == f"{consumer.name}.dlq"
    assert dlq.durable
    assert dlq.arguments["x-queue-type"] == "quorum"
    assert "x-message-ttl" not in dlq.arguments  # parked messages never expire
    assert "x-dead-letter-exchange" not in dlq.arguments


@CONSUMERS
def test_all_queues_lists_work_retry_and_dead_letter_queues(consumer: ConsumerQueue) -> None:
    names = [q.name for q in consumer.all_queues()]

    assert names == [
        consumer.name,
        *(f"{consumer.name}.retry.{d}s" for d in RETRY_DELAYS_SECONDS),
        f"{consumer.name}.dlq",
    ]


def test_queue_names_are_unique_across_consumers() -> None:
    names = [q.name for c in CONSUMER_QUEUES for q in c.all_queues()]
    assert len(names) == len(set(names)), names
    assert not {rpc_queue("tickets.get").name} & set(names)


def test_retry_delays_grow() -> None:
    assert RETRY_DELAYS_SECONDS
    assert all(a < b for a, b in pairwise(RETRY_DELAYS_SECONDS))
    assert len(RETRY_DELAYS_SECONDS) < MAX_ATTEMPTS


def test_retry_tier_is_monotonic_and_capped() -> None:
    attempts = range(-2, MAX_ATTEMPTS + 20)
    tiers = [retry_tier(a) for a in attempts]

    assert all(a <= b for a, b in pairwise(tiers))
    assert min(tiers) == 0
    assert max(tiers) == len(RETRY_DELAYS_SECONDS) - 1
    assert retry_tier(1) == 0  # the first failure waits the shortest delay
    assert retry_tier(10_000) == len(RETRY_DELAYS_SECONDS) - 1
    # Every tier is used, in order, before the last one repeats.
    assert [retry_tier(a) for a in range(1, len(RETRY_DELAYS_SECONDS) + 1)] == list(
        range(len(RETRY_DELAYS_SECONDS))
    )


def test_events_exchange_is_a_durable_topic_exchange() -> None:
    assert EVENTS_EXCHANGE.name == "guichet.events"
    assert EVENTS_EXCHANGE.type.value == "topic"
    assert EVENTS_EXCHANGE.durable


@pytest.mark.parametrize(
    "payload_type", (*ALL_EVENTS, *DELIVERY_EVENTS), ids=lambda t: t.event_type
)
def test_every_event_reaches_at_least_one_consumer_queue(payload_type: type) -> None:
    # Events are published mandatory: an event no queue takes is returned and raises.
    event_type = payload_type.event_type  # type: ignore[attr-defined]
    takers = [
        c.name
        for c in CONSUMER_QUEUES
        if any(_topic_matches(key, event_type) for key in c.binding_keys)
    ]
    assert takers, f"no consumer queue is bound to {event_type}"


@pytest.mark.parametrize(
    ("binding", "key", "matches"),
    [
        ("ticket.txn.*", "ticket.txn.create", True),
        ("ticket.txn.*", "ticket.txn", False),
        ("ticket.txn.*", "ticket.txn.a.b", False),
        ("ticket.#", "ticket.txn.create", True),
        ("ticket.#", "ticket", True),
        ("mail.received", "mail.received", True),
        ("mail.received", "mail.receivedx", False),
    ],
)
def test_topic_matching_helper(binding: str, key: str, matches: bool) -> None:
    assert _topic_matches(binding, key) is matches
