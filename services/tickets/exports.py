"""Exports (``tickets.export``): every ticket, then every transaction that carries a
message, streamed in batches to a queue the caller names, so that the search service can
rebuild its index from the source of truth.

An export runs in the background of the service; the caller is answered at once. Each
collection is read with one cursor (FerretDB answers any other query by reading the whole
collection, so nothing is looked up per ticket). The export never floods its reader:
before each batch it waits while more than a few batches wait in the queue, and it stops
when the queue is gone (the reader went away). It ends with one ``end`` message, or one
``failed`` message that says why.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import TypeVar

from services.tickets.adapters.amqp_export import (
    AmqpExportQueue,
    AmqpExportQueues,
    ExportQueueExclusiveError,
    ExportQueueGoneError,
)
from services.tickets.adapters.mongo_store import MongoTicketStore
from shared.errors import ConflictError, InvalidInputError, NotFoundError
from shared.events.ticket import TicketSnapshot
from shared.rpc import tickets as rpc

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_WAITING = 8  # batches that may wait in the reader's queue before the export pauses
POLL_SECONDS = 0.05
MAX_BATCH_BYTES = 4 * 1024 * 1024  # a batch of messages ends early past this much text
MAX_RUNNING = 2  # exports at once (each reads whole collections)
BATCH_MESSAGE_TYPE = "tickets.export.batch"


class ExportStalledError(Exception):
    """The reader stopped reading: its queue has stayed full for too long."""


class ExportStoppedError(Exception):
    """The service is stopping: the export ends before its end."""


async def batches(
    items: AsyncIterator[T],
    size: int,
    *,
    weight: Callable[[T], int] = lambda _: 0,
    budget: int = MAX_BATCH_BYTES,
) -> AsyncGenerator[list[T], None]:
    """``items`` in lists of ``size``, or fewer once their weights reach ``budget``."""
    batch: list[T] = []
    total = 0
    async for item in items:
        batch.append(item)
        total += weight(item)
        if len(batch) >= size or total >= budget:
            yield batch
            batch, total = [], 0
    if batch:
        yield batch


def message_weight(item: rpc.ExportedMessage) -> int:
    """About how many bytes a message takes in a batch (its texts, and some more)."""
    message = item.transaction.message
    if message is None:  # pragma: no cover - only transactions with a message are exported
        return 1024
    return 1024 + len(message.text) + len(message.html or "")


class TicketExporter:
    """Starts exports, keeps them running in the background, stops them with the service."""

    def __init__(
        self,
        store: MongoTicketStore,
        queues: AmqpExportQueues,
        *,
        stall_timeout: float = 600.0,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._store = store
        self._queues = queues
        self._stall_timeout = stall_timeout
        self._new_id = new_id
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._stopping = False

    @property
    def running(self) -> list[str]:
        """The ids of the exports still running."""
        return list(self._tasks)

    async def start(self, request: rpc.ExportRequest) -> rpc.ExportStarted:
        self._refuse_if_busy()
        tickets, transactions = await self._store.estimated_counts()
        try:
            target = await self._queues.open(request.reply_to)
        except ExportQueueGoneError:
            raise NotFoundError(f"no queue {request.reply_to}: declare it first") from None
        except ExportQueueExclusiveError:
            raise InvalidInputError(
                f"queue {request.reply_to} is exclusive: the export cannot see what waits in "
                "it; declare it auto-delete instead"
            ) from None
        try:
            self._refuse_if_busy()  # again: others may have started meanwhile
        except ConflictError:
            await target.close()
            raise
        export_id = self._new_id()
        task = asyncio.create_task(
            self._run(export_id, target, request.batch_size), name=f"export-{export_id}"
        )
        self._tasks[export_id] = task
        task.add_done_callback(lambda _: self._tasks.pop(export_id, None))
        log.info("export %s to %s started", export_id, request.reply_to)
        return rpc.ExportStarted(export_id=export_id, tickets=tickets, transactions=transactions)

    def _refuse_if_busy(self) -> None:
        if self._stopping:
            raise ConflictError("the tickets service is stopping")
        if len(self._tasks) >= MAX_RUNNING:
            raise ConflictError(f"{len(self._tasks)} exports are running already; try later")

    async def stop(self, grace: float = 5.0) -> None:
        """End the running exports: each tells its reader it failed at its next step (a
        batch, or a look at the queue while it waits); one still running after ``grace``
        seconds is cancelled.

        Stopping by a flag rather than by cancelling: aiormq closes a channel whose call
        is cancelled, and has been seen to swallow the cancellation (the task then waited
        on, its queue full).
        """
        self._stopping = True
        pending = set(self._tasks.values())
        if pending:
            _, pending = await asyncio.wait(pending, timeout=grace)
        for _ in range(5):
            if not pending:
                return
            for task in pending:
                task.cancel()
            _, pending = await asyncio.wait(pending, timeout=1.0)
        log.error("%d export(s) would not stop", len(pending))

    async def _run(self, export_id: str, target: AmqpExportQueue, batch_size: int) -> None:
        started = time.monotonic()
        sent = {"tickets": 0, "messages": 0}

        def batch(
            kind: rpc.ExportBatchKind,
            *,
            tickets: list[TicketSnapshot] | None = None,
            messages: list[rpc.ExportedMessage] | None = None,
            detail: str = "",
        ) -> rpc.ExportBatch:
            return rpc.ExportBatch(
                export_id=export_id,
                kind=kind,
                tickets=tickets or [],
                messages=messages or [],
                sent_tickets=sent["tickets"],
                sent_messages=sent["messages"],
                detail=detail,
            )

        try:
            async with (
                contextlib.aclosing(self._store.each_ticket()) as tickets,
                contextlib.aclosing(batches(tickets, batch_size)) as chunks,
            ):
                async for chunk in chunks:
                    sent["tickets"] += len(chunk)
                    snapshots = [t.snapshot() for t in chunk]
                    await self._send(target, batch("tickets", tickets=snapshots))
            async with (
                contextlib.aclosing(self._store.each_message_transaction()) as txns,
                contextlib.aclosing(
                    batches(
                        (
                            rpc.ExportedMessage(ticket=t.ticket, transaction=t.info())
                            async for t in txns
                        ),
                        batch_size,
                        weight=message_weight,
                    )
                ) as message_chunks,
            ):
                async for messages in message_chunks:
                    sent["messages"] += len(messages)
                    await self._send(target, batch("messages", messages=messages))
            await self._send(target, batch("end"))
            log.info(
                "export %s done: %d tickets, %d messages in %.1f s",
                export_id,
                sent["tickets"],
                sent["messages"],
                time.monotonic() - started,
            )
        except ExportQueueGoneError as exc:
            log.warning("export %s stopped, its reader went away (%s)", export_id, exc)
        except ExportStoppedError as exc:
            log.warning("export %s stopped with the service", export_id)
            await self._tell_failure(target, batch("failed", detail=str(exc)))
        except asyncio.CancelledError:
            await self._tell_failure(target, batch("failed", detail="the tickets service stopped"))
            raise
        except Exception as exc:
            log.exception("export %s failed", export_id)
            await self._tell_failure(target, batch("failed", detail=f"{type(exc).__name__}: {exc}"))
        finally:
            with contextlib.suppress(Exception):
                await target.close()

    async def _send(self, target: AmqpExportQueue, batch: rpc.ExportBatch) -> None:
        """Publish ``batch`` once the reader's queue has room for it."""
        least, since = None, time.monotonic()
        while True:
            if self._stopping:
                raise ExportStoppedError("the tickets service stopped")
            waiting = await target.waiting()
            if waiting <= MAX_WAITING:
                break
            if least is None or waiting < least:  # the reader is reading
                least, since = waiting, time.monotonic()
            elif time.monotonic() - since > self._stall_timeout:
                raise ExportStalledError(
                    f"{waiting} messages waited in {target.name} for {self._stall_timeout:.0f} s"
                )
            await asyncio.sleep(POLL_SECONDS)
        await target.publish(batch.model_dump_json().encode(), message_type=BATCH_MESSAGE_TYPE)

    async def _tell_failure(self, target: AmqpExportQueue, batch: rpc.ExportBatch) -> None:
        """Send the ``failed`` message, if that is still possible."""
        try:
            await target.publish(batch.model_dump_json().encode(), message_type=BATCH_MESSAGE_TYPE)
        except Exception as exc:
            log.info("export %s: could not say it failed (%r)", batch.export_id, exc)
