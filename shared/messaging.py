"""RabbitMQ plumbing shared by the services: broker, topology, confirmed publishing,
durable consumers with retry tiers and dead-lettering, and RPC endpoints/clients."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import aio_pika
import aio_pika.abc
import aio_pika.exceptions
from aiormq.abc import ConfirmationFrameType
from faststream import AckPolicy
from faststream.rabbit import Channel, RabbitBroker
from faststream.rabbit.annotations import RabbitMessage
from pamqp.commands import Basic
from pydantic import ValidationError

from shared import metrics
from shared.errors import (
    USER_ERRORS,
    PermanentError,
    RetryableError,
    ServiceUnavailableError,
    UserError,
)
from shared.events.envelope import AnyEnvelope, Envelope
from shared.observability import correlation_scope, current_correlation_id
from shared.settings import BaseServiceSettings
from shared.topology import (
    CONSUMER_QUEUES,
    EVENTS_EXCHANGE,
    MAX_ATTEMPTS,
    ConsumerQueue,
    retry_tier,
    rpc_queue,
)

log = logging.getLogger(__name__)

ATTEMPT_HEADER = "x-guichet-attempt"
ERROR_HEADER = "x-guichet-error"
ORIGIN_HEADER = "x-guichet-origin"


class PublishFailedError(RetryableError):
    """The broker did not confirm a message."""


def _channel(prefetch: int | None = None) -> Channel:
    # Confirms on, and a mandatory message that no queue takes raises (never silently lost).
    return Channel(prefetch_count=prefetch, publisher_confirms=True, on_return_raises=True)


def build_broker(settings: BaseServiceSettings) -> RabbitBroker:
    return RabbitBroker(
        settings.broker_url,
        default_channel=_channel(),
        graceful_timeout=15.0,
        logger=logging.getLogger("faststream"),
        log_level=logging.DEBUG,
    )


async def declare_topology(broker: RabbitBroker) -> None:
    """Declare the events exchange and every consumer's queues and bindings (idempotent).

    Producers call it too: a queue must exist before the first event is published, or
    the event would be unroutable.
    """
    exchange = await broker.declare_exchange(EVENTS_EXCHANGE)
    for consumer in CONSUMER_QUEUES:
        for queue in consumer.all_queues():
            await broker.declare_queue(queue)
        work = await broker.declare_queue(consumer.work_queue())
        for key in consumer.binding_keys:
            await work.bind(exchange, routing_key=key)


def _confirmed(frame: ConfirmationFrameType | None) -> bool:
    return isinstance(frame, Basic.Ack)


async def publish_confirmed(
    broker: RabbitBroker,
    body: dict[str, Any],
    *,
    routing_key: str,
    exchange: Any = None,
    timeout: float,
    message_id: str | None = None,
    correlation_id: str | None = None,
    message_type: str | None = None,
    headers: dict[str, Any] | None = None,
) -> None:
    """Publish a persistent message and wait for the broker's confirm; raise otherwise."""
    try:
        frame = await asyncio.wait_for(
            broker.publish(
                body,
                exchange=exchange,
                routing_key=routing_key,
                persist=True,
                mandatory=True,
                message_id=message_id,
                correlation_id=correlation_id,
                message_type=message_type,
                headers=headers,
                timeout=timeout,
            ),
            timeout=timeout,
        )
    except Exception as exc:  # timeouts, connection lost, channel closed, message returned…
        raise PublishFailedError(f"publish to {routing_key!r} failed: {exc!r}") from exc
    if not _confirmed(frame):
        raise PublishFailedError(f"publish to {routing_key!r} not confirmed: {frame!r}")


class EventPublisher:
    """Publishes events on the events exchange, each confirmed by the broker."""

    def __init__(self, broker: RabbitBroker, *, timeout: float) -> None:
        self._broker = broker
        self._timeout = timeout

    async def publish(self, envelope: Envelope[Any] | AnyEnvelope) -> None:
        await publish_confirmed(
            self._broker,
            envelope.model_dump(mode="json"),
            exchange=EVENTS_EXCHANGE,
            routing_key=envelope.type,
            timeout=self._timeout,
            message_id=str(envelope.id),
            correlation_id=envelope.correlation_id,
            message_type=envelope.type,
        )
        metrics.EVENTS_PUBLISHED.labels(type=envelope.type).inc()


EnvelopeHandler = Callable[[AnyEnvelope], Awaitable[None]]


def current_message(broker: RabbitBroker) -> RabbitMessage:
    """The message being handled, read from the broker's context.

    Not a ``msg: RabbitMessage`` parameter of the handler: FastStream resolves such a
    parameter through a synchronous context look-up that its dependency injection runs in
    a worker thread, a thread hop per message (17 % of the search service's event loop
    while it indexed)."""
    msg: RabbitMessage = broker.context.get_local("message")
    return msg


def register_consumer(
    broker: RabbitBroker,
    consumer: ConsumerQueue,
    handler: EnvelopeHandler,
    *,
    service: str,
    publish_timeout: float,
    description: str,
    concurrency: int = 1,
) -> None:
    """Subscribe ``handler`` to a consumer queue with explicit acknowledgement.

    With ``concurrency`` > 1, up to that many messages are handled at once (each acked when
    its own handler is done): for handlers that batch their writes, like search's bulk
    indexing. Order between messages is then not kept; such handlers must not need it.

    Success → ack (the handler returns only once its effect is durable). A retryable
    failure → the message is re-published to its delay tier, then acked; after
    ``MAX_ATTEMPTS``, or at once for a permanent failure, it goes to ``<queue>.dlq`` with
    the error and its origin. If even that publish fails, the message is requeued.
    """

    async def consume(body: dict[str, Any]) -> None:
        await handle(body, current_message(broker))

    async def handle(body: dict[str, Any], msg: RabbitMessage) -> None:
        attempt = int((msg.headers or {}).get(ATTEMPT_HEADER, 0)) + 1
        started = time.perf_counter()
        outcome = "ok"
        try:
            envelope = AnyEnvelope.model_validate(body)
        except ValidationError as exc:
            await _park(
                broker, msg, body, consumer, attempt, f"invalid envelope: {exc}", publish_timeout
            )
            metrics.MESSAGES_CONSUMED.labels(queue=consumer.name, outcome="invalid").inc()
            return
        with correlation_scope(envelope.correlation_id):
            try:
                await handler(envelope)
                await msg.ack()
            except (PermanentError, ValidationError, UserError) as exc:
                outcome = "dead_lettered"
                log.error("permanent failure on %s %s: %r", envelope.type, envelope.id, exc)
                await _park(broker, msg, body, consumer, attempt, repr(exc), publish_timeout)
            except Exception as exc:
                outcome = "retried" if attempt < MAX_ATTEMPTS else "dead_lettered"
                log.warning(
                    "attempt %d on %s %s failed: %r",
                    attempt,
                    envelope.type,
                    envelope.id,
                    exc,
                    exc_info=not isinstance(exc, RetryableError),
                )
                if attempt < MAX_ATTEMPTS:
                    await _retry_later(
                        broker, msg, body, consumer, attempt, repr(exc), publish_timeout
                    )
                else:
                    await _park(broker, msg, body, consumer, attempt, repr(exc), publish_timeout)
            finally:
                metrics.MESSAGES_CONSUMED.labels(queue=consumer.name, outcome=outcome).inc()
                metrics.HANDLER_SECONDS.labels(queue=consumer.name).observe(
                    time.perf_counter() - started
                )

    subscriber = broker.subscriber(
        consumer.work_queue(),
        EVENTS_EXCHANGE,
        channel=_channel(max(consumer.prefetch, concurrency)),
        ack_policy=AckPolicy.MANUAL,
        title=f"{service}:{consumer.name}",
        description=description,
    )
    if concurrency <= 1:
        subscriber(consume)
        return
    slots = asyncio.Semaphore(concurrency)
    running: set[asyncio.Task[None]] = set()

    async def consume_concurrently(body: dict[str, Any]) -> None:
        # Returns once the message is handed to a task; the task acks (or retries) it.
        msg = current_message(broker)
        await slots.acquire()
        task = asyncio.create_task(handle(body, msg))
        running.add(task)

        def finished(done: asyncio.Task[None]) -> None:
            running.discard(done)
            slots.release()

        task.add_done_callback(finished)

    subscriber(consume_concurrently)


async def _retry_later(
    broker: RabbitBroker,
    msg: RabbitMessage,
    body: dict[str, Any],
    consumer: ConsumerQueue,
    attempt: int,
    error: str,
    timeout: float,
) -> None:
    queue = consumer.retry_queue(retry_tier(attempt))
    await _move(broker, msg, body, queue.name, consumer, attempt, error, timeout)


async def _park(
    broker: RabbitBroker,
    msg: RabbitMessage,
    body: dict[str, Any],
    consumer: ConsumerQueue,
    attempt: int,
    error: str,
    timeout: float,
) -> None:
    await _move(
        broker, msg, body, consumer.dead_letter_queue.name, consumer, attempt, error, timeout
    )


async def _move(
    broker: RabbitBroker,
    msg: RabbitMessage,
    body: dict[str, Any],
    routing_key: str,
    consumer: ConsumerQueue,
    attempt: int,
    error: str,
    timeout: float,
) -> None:
    """Re-publish ``body`` to another queue (default exchange), then ack the original.

    The envelope stays untouched; headers say which attempt failed, why, and where it came
    from, so ``guichet dlq replay`` can send it back.
    """
    headers = {ATTEMPT_HEADER: attempt, ERROR_HEADER: error[:1000], ORIGIN_HEADER: consumer.name}
    try:
        await publish_confirmed(
            broker,
            body,
            routing_key=routing_key,
            timeout=timeout,
            message_id=msg.message_id,
            correlation_id=msg.correlation_id,
            headers=headers,
        )
    except PublishFailedError:
        log.exception("could not move a message to %s; requeueing it", routing_key)
        await asyncio.sleep(1)
        await msg.nack(requeue=True)
        return
    await msg.ack()


RpcHandler = Callable[[dict[str, Any]], Awaitable[Any]]


def register_rpc(broker: RabbitBroker, name: str, handler: RpcHandler, *, description: str) -> None:
    """Serve ``guichet.rpc.<name>``: the reply is ``{"ok": true, "result": …}`` or
    ``{"ok": false, "error": {code, status, detail}}`` — a user error is an answer, not a
    failure; an unexpected error is logged and answered as ``internal``."""

    async def serve(body: dict[str, Any]) -> dict[str, Any]:
        started = time.perf_counter()
        msg = current_message(broker)
        with correlation_scope((msg.headers or {}).get("x-correlation-id") or None):
            try:
                result = await handler(body)
                outcome = "ok"
                return {"ok": True, "result": result}
            except UserError as exc:
                outcome = exc.code
                return {"ok": False, "error": exc.to_dict()}
            except ValidationError as exc:
                outcome = "invalid"
                detail = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
                )
                return {"ok": False, "error": {"code": "invalid", "status": 422, "detail": detail}}
            except Exception:
                outcome = "internal"
                log.exception("rpc %s failed", name)
                return {
                    "ok": False,
                    "error": {"code": "internal", "status": 500, "detail": "internal error"},
                }
            finally:
                metrics.RPC_SERVED.labels(endpoint=name, outcome=outcome).inc()
                metrics.RPC_SECONDS.labels(endpoint=name).observe(time.perf_counter() - started)

    broker.subscriber(rpc_queue(name), title=f"rpc:{name}", description=description)(serve)


class RpcClient:
    """Calls RPC endpoints, many at once, over one private reply queue (aio-pika).

    FastStream's ``broker.request`` serialises requests behind one lock; the web gateway
    needs many in flight. Replies are matched to callers by correlation id; a request
    expires in the queue when its caller has given up. Error answers become
    :class:`UserError`s again; no answer in time is :class:`ServiceUnavailableError`.
    """

    def __init__(self, broker_url: str, *, timeout: float, name: str = "client") -> None:
        self._url = broker_url
        self._timeout = timeout
        self._reply_queue_name = f"guichet.reply.{name}.{uuid.uuid4().hex[:12]}"
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._connection: aio_pika.abc.AbstractRobustConnection | None = None
        self._channel: aio_pika.abc.AbstractChannel | None = None

    async def start(self) -> None:
        self._connection = await aio_pika.connect_robust(self._url)
        self._channel = await self._connection.channel(publisher_confirms=False)
        queue = await self._channel.declare_queue(
            self._reply_queue_name, exclusive=True, auto_delete=True
        )
        await queue.consume(self._on_reply, no_ack=True)

    @property
    def connected(self) -> bool:
        return self._connection is not None and not self._connection.is_closed

    async def stop(self) -> None:
        for future in self._pending.values():
            future.cancel()
        if self._connection is not None:
            await self._connection.close()

    async def _on_reply(self, message: aio_pika.abc.AbstractIncomingMessage) -> None:
        future = self._pending.pop(message.correlation_id or "", None)
        if future is None or future.done():
            return
        try:
            future.set_result(json.loads(message.body))
        except ValueError as exc:
            future.set_exception(ServiceUnavailableError(f"malformed RPC answer: {exc}"))

    async def call(
        self, name: str, payload: dict[str, Any], *, correlation_id: str | None = None
    ) -> Any:
        if self._channel is None:
            raise ServiceUnavailableError("RPC client not started")
        request_id = uuid.uuid4().hex
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            await self._channel.default_exchange.publish(
                aio_pika.Message(
                    json.dumps(payload, default=str).encode(),
                    content_type="application/json",
                    correlation_id=request_id,
                    reply_to=self._reply_queue_name,
                    expiration=self._timeout,
                    headers={"x-correlation-id": correlation_id or current_correlation_id() or ""},
                ),
                routing_key=rpc_queue(name).name,
            )
            body = await asyncio.wait_for(future, self._timeout)
        except (TimeoutError, ConnectionError, OSError, aio_pika.exceptions.AMQPError) as exc:
            raise ServiceUnavailableError(f"rpc {name}: no answer ({exc!r})") from exc
        finally:
            self._pending.pop(request_id, None)
        return _unwrap_reply(name, body)


def _unwrap_reply(name: str, body: Any) -> Any:
    if not isinstance(body, dict) or "ok" not in body:
        raise ServiceUnavailableError(f"rpc {name}: malformed answer")
    if body["ok"]:
        return body.get("result")
    error = body.get("error") or {}
    code = error.get("code", "internal")
    if code not in USER_ERRORS:
        raise ServiceUnavailableError(f"rpc {name}: {error.get('detail', 'internal error')}")
    extra = {k: v for k, v in error.items() if k not in {"code", "status", "detail"}}
    raise USER_ERRORS[code](error.get("detail", code), **extra)
