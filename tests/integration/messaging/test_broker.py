"""Confirmed publishing, durable consumers with retry and dead-lettering, and RPC — all
against the real RabbitMQ, each test in its own virtual host."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aio_pika
import pytest

from shared.errors import NotFoundError, PermanentError, ServiceUnavailableError
from shared.events.envelope import AnyEnvelope, Envelope
from shared.messaging import (
    ATTEMPT_HEADER,
    ERROR_HEADER,
    ORIGIN_HEADER,
    EventPublisher,
    PublishFailedError,
    RpcClient,
    build_broker,
    declare_topology,
    publish_confirmed,
    register_consumer,
    register_rpc,
)
from shared.settings import BaseServiceSettings
from shared.topology import TICKETS_MAIL
from tests.support import eventually, mail_received, raw_mail


def settings_for(vhost: str) -> BaseServiceSettings:
    return BaseServiceSettings(broker_url=vhost)


@pytest.fixture
async def broker(vhost: str) -> AsyncIterator[Any]:
    broker = build_broker(settings_for(vhost))
    yield broker
    await broker.stop()


async def start_consuming(broker: Any, handler: Any) -> None:
    """Subscribe ``handler`` to the tickets' mail queue, with the whole topology, and start."""
    register_consumer(broker, TICKETS_MAIL, handler, service="t", publish_timeout=5, description="")
    await broker.connect()
    await declare_topology(broker)
    await broker.start()


def sample_envelope() -> Envelope[Any]:
    return Envelope.wrap(mail_received(raw_mail()), producer="test", correlation_id="c-1")


async def get_one(
    vhost: str, queue: str, timeout: float = 10.0
) -> aio_pika.abc.AbstractIncomingMessage:
    connection = await aio_pika.connect(vhost)
    try:
        channel = await connection.channel()
        q = await channel.get_queue(queue, ensure=False)

        async def probe() -> Any:
            return await q.get(no_ack=True, fail=False)

        return await eventually(probe, timeout=timeout, what=f"a message in {queue}")
    finally:
        await connection.close()


async def test_an_event_with_no_queue_to_take_it_is_refused_not_lost(broker: Any) -> None:
    await broker.start()
    with pytest.raises(PublishFailedError):
        await publish_confirmed(broker, {"x": 1}, routing_key="nowhere.at.all", timeout=5)


async def test_a_published_event_lands_in_its_consumer_queue(broker: Any, vhost: str) -> None:
    await broker.start()
    await declare_topology(broker)
    envelope = sample_envelope()
    await EventPublisher(broker, timeout=5).publish(envelope)
    message = await get_one(vhost, TICKETS_MAIL.name)
    assert message.message_id == str(envelope.id)
    assert message.correlation_id == "c-1"
    assert AnyEnvelope.model_validate(json.loads(message.body)).id == envelope.id


async def test_a_failing_handler_is_retried_after_a_delay_then_succeeds(
    broker: Any, vhost: str
) -> None:
    calls: list[AnyEnvelope] = []

    async def flaky(envelope: AnyEnvelope) -> None:
        calls.append(envelope)
        if len(calls) == 1:
            raise ConnectionError("database briefly away")

    await start_consuming(broker, flaky)
    envelope = sample_envelope()
    await EventPublisher(broker, timeout=5).publish(envelope)

    async def handled_twice() -> bool:
        return len(calls) >= 2

    await eventually(handled_twice, timeout=15, what="a second attempt")
    assert [c.id for c in calls] == [envelope.id, envelope.id]


async def test_a_permanent_failure_goes_to_the_dead_letter_queue_with_its_reason(
    broker: Any, vhost: str
) -> None:
    async def refuse(envelope: AnyEnvelope) -> None:
        raise PermanentError("this mail can never be recorded")

    await start_consuming(broker, refuse)
    envelope = sample_envelope()
    await EventPublisher(broker, timeout=5).publish(envelope)
    parked = await get_one(vhost, TICKETS_MAIL.dead_letter_queue.name)
    assert parked.headers[ORIGIN_HEADER] == TICKETS_MAIL.name
    assert "can never be recorded" in str(parked.headers[ERROR_HEADER])
    assert parked.headers[ATTEMPT_HEADER] == 1
    # The envelope is kept whole, so it can be replayed.
    assert AnyEnvelope.model_validate(json.loads(parked.body)).id == envelope.id


async def test_a_message_that_is_not_an_envelope_is_parked_not_dropped(
    broker: Any, vhost: str
) -> None:
    async def never(envelope: AnyEnvelope) -> None:  # pragma: no cover - must not run
        raise AssertionError("called")

    await start_consuming(broker, never)
    await publish_confirmed(broker, {"hello": "world"}, routing_key=TICKETS_MAIL.name, timeout=5)
    parked = await get_one(vhost, TICKETS_MAIL.dead_letter_queue.name)
    assert json.loads(parked.body) == {"hello": "world"}
    assert "invalid envelope" in str(parked.headers[ERROR_HEADER])


async def test_rpc_answers_many_concurrent_calls_and_maps_user_errors(
    broker: Any, vhost: str
) -> None:
    async def echo(body: dict[str, Any]) -> Any:
        if body.get("n") == -1:
            raise NotFoundError("ticket #-1 does not exist")
        await asyncio.sleep(0.01)
        return {"twice": body["n"] * 2}

    register_rpc(broker, "test.echo", echo, description="")
    await broker.start()
    client = RpcClient(vhost, timeout=10, name="test")
    await client.start()
    try:
        results = await asyncio.gather(*(client.call("test.echo", {"n": n}) for n in range(60)))
        assert [r["twice"] for r in results] == [n * 2 for n in range(60)]
        with pytest.raises(NotFoundError, match="does not exist"):
            await client.call("test.echo", {"n": -1})
    finally:
        await client.stop()


async def test_rpc_without_a_server_times_out_as_unavailable(vhost: str) -> None:
    client = RpcClient(vhost, timeout=0.5, name="test")
    await client.start()
    try:
        with pytest.raises(ServiceUnavailableError):
            await client.call("nobody.listens", {})
    finally:
        await client.stop()
