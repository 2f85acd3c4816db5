"""``guichet search reindex``: build a fresh index from the tickets service, beside the
live one, and swap the alias to it in one atomic step.

1. A new index (the current mapping) is created, with the rebuild alias on it: from then on
   the running search service writes every event to it as well as to the live index.
2. After a pause longer than the service's look-up of that alias, the tickets service
   streams every ticket and every message into a private queue; each batch is written in
   bulk with the tickets' versions (external versioning: whichever of the stream and the
   live events is newer wins, in any order — no update is lost).
3. Files keep the text read from them before (same extractor version), or are read now.
4. The alias moves to the new index and the old one is deleted. Searches never stop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aio_pika
from opensearchpy import AsyncOpenSearch, NotFoundError

from services.search.adapters.opensearch_index import (
    TARGETS_TTL_SECONDS,
    OpenSearchTicketIndex,
)
from services.search.adapters.tickets_rpc import TicketsClient
from services.search.app import extraction_pool
from services.search.domain.documents import (
    Action,
    attachment_id,
    message_action,
    ticket_action,
)
from services.search.service import SearchService
from services.search.settings import SearchSettings
from shared.messaging import RpcClient
from shared.rpc import tickets as rpc

log = logging.getLogger(__name__)

# Batches written at once: OpenSearch indexes one while the next is being prepared.
CONCURRENT_BATCHES = 3
# The tickets service sends a batch at least this often while it exports.
EXPORT_SILENCE_SECONDS = 120.0


@dataclass
class Progress:
    tickets: int = 0
    messages: int = 0
    files: int = 0
    expected_tickets: int = 0
    expected_messages: int = 0
    stale: int = 0


@dataclass(frozen=True)
class RebuildReport:
    index: str
    replaced: str | None
    tickets: int
    messages: int
    files: int
    seconds: float


class ReindexError(RuntimeError):
    pass


ProgressCallback = Callable[[Progress], None]


class Rebuild:
    def __init__(
        self,
        index: OpenSearchTicketIndex,
        service: SearchService,
        rpc_client: RpcClient,
        broker_url: str,
        *,
        batch_size: int = 500,
        settle_seconds: float = 2 * TARGETS_TTL_SECONDS + 0.5,
    ) -> None:
        self._index = index
        self._service = service
        self._rpc = rpc_client
        self._broker_url = broker_url
        self._batch_size = batch_size
        self._settle = settle_seconds
        self.progress = Progress()

    async def run(
        self, on_progress: ProgressCallback, *, keep_old: bool = False, force: bool = False
    ) -> RebuildReport:
        started = time.monotonic()
        index = self._index
        await self._discard_leftovers(force=force)
        live = await index.live_index()
        new = index.new_index_name()
        await index.create_index(new, refresh_interval="-1")
        await index.client.indices.put_alias(index=new, name=index.rebuild_alias)
        log.info("rebuilding into %s (live: %s)", new, live)
        try:
            # The running service now writes each event to the new index too.
            await asyncio.sleep(self._settle)
            await self._copy(new, live, on_progress)
            await index.client.indices.put_settings(
                index=new, body={"index": {"refresh_interval": index.refresh_interval}}
            )
            await index.client.indices.refresh(index=new)
            swap: list[dict[str, Any]] = [
                {"add": {"index": new, "alias": index.alias}},
                {"remove": {"index": new, "alias": index.rebuild_alias}},
            ]
            if live is not None:
                swap.insert(0, {"remove": {"index": live, "alias": index.alias}})
            await index.client.indices.update_aliases(body={"actions": swap})
        except BaseException:
            await index.client.indices.delete(index=new, ignore_unavailable=True)
            raise
        if live is not None and not keep_old:
            await index.client.indices.delete(index=live, ignore_unavailable=True)
        return RebuildReport(
            index=new,
            replaced=live,
            tickets=self.progress.tickets,
            messages=self.progress.messages,
            files=self.progress.files,
            seconds=round(time.monotonic() - started, 1),
        )

    async def _discard_leftovers(self, *, force: bool) -> None:
        """One rebuild at a time: an index under the rebuild alias is another rebuild's, or
        was left by one that was killed (the live service still writes to it)."""
        index = self._index
        try:
            leftovers = sorted(await index.client.indices.get_alias(name=index.rebuild_alias))
        except NotFoundError:
            return
        if not force:
            raise ReindexError(
                f"a rebuild is running or was interrupted ({', '.join(leftovers)}); if none "
                "is running, run again with --force to discard it"
            )
        for name in leftovers:
            log.warning("discarding %s, left by an interrupted rebuild", name)
            await index.client.indices.delete(index=name, ignore_unavailable=True)

    async def _copy(self, new: str, live: str | None, on_progress: ProgressCallback) -> None:
        connection = await aio_pika.connect_robust(self._broker_url)
        try:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=CONCURRENT_BATCHES + 1)
            # Not exclusive: the tickets service watches its length to pace the export.
            # Auto-delete: it goes, and the export stops, when this reader does.
            queue = await channel.declare_queue(
                f"guichet.search.reindex.{uuid.uuid4().hex}", auto_delete=True
            )
            started = rpc.ExportStarted.model_validate(
                await self._rpc.call(
                    rpc.EXPORT,
                    {
                        "actor": rpc.SYSTEM_ACTOR,
                        "reply_to": queue.name,
                        "batch_size": self._batch_size,
                    },
                )
            )
            self.progress.expected_tickets = started.tickets
            self.progress.expected_messages = started.transactions
            on_progress(self.progress)
            await self._consume(queue, started.export_id, new, live, on_progress)
        finally:
            await connection.close()

    async def _consume(
        self,
        queue: aio_pika.abc.AbstractQueue,
        export_id: str,
        new: str,
        live: str | None,
        on_progress: ProgressCallback,
    ) -> None:
        writing: set[asyncio.Task[None]] = set()
        slots = asyncio.Semaphore(CONCURRENT_BATCHES)
        async with queue.iterator(timeout=EXPORT_SILENCE_SECONDS) as messages:
            async for message in messages:
                batch = rpc.ExportBatch.model_validate(json.loads(message.body))
                if batch.export_id != export_id:
                    await message.ack()
                    continue
                if batch.kind == "failed":
                    raise ReindexError(f"the tickets service stopped the export: {batch.detail}")
                if batch.kind == "end":
                    await message.ack()
                    if writing:
                        await asyncio.gather(*writing)
                    self._check_complete(batch)
                    return
                await slots.acquire()
                task = asyncio.create_task(self._write(batch, message, new, live, on_progress))
                writing.add(task)
                task.add_done_callback(writing.discard)
                task.add_done_callback(lambda _: slots.release())
                for done in [t for t in writing if t.done()]:
                    done.result()  # a failed batch ends the rebuild
        raise ReindexError("the export ended without its last message")

    async def _write(
        self,
        batch: rpc.ExportBatch,
        message: aio_pika.abc.AbstractIncomingMessage,
        new: str,
        live: str | None,
        on_progress: ProgressCallback,
    ) -> None:
        actions: list[Action] = [ticket_action(t) for t in batch.tickets]
        files = 0
        if batch.messages:
            # The text already read from these files, in the index being replaced.
            ids, routing = [], {}
            for item in batch.messages:
                info = item.transaction.message
                for position in range(len(info.attachments) if info else 0):
                    doc_id = attachment_id(item.transaction.id, position)
                    ids.append(doc_id)
                    routing[doc_id] = str(item.ticket)
            known = await self._index.children(ids, routing, index=live) if live else {}
            for item in batch.messages:
                message_doc = message_action(item.ticket, item.transaction, item.transaction.seq)
                if message_doc is not None:
                    actions.append(message_doc)
            # the ticket's version right after a transaction is its place in the history
            read = await asyncio.gather(
                *(
                    self._service.attachment_actions(
                        item.ticket, item.transaction, item.transaction.seq, known=known
                    )
                    for item in batch.messages
                )
            )
            for found in read:
                files += len(found)
                actions += found
        outcomes = await self._index.bulk(actions, targets=[new])
        failures = [o for o in outcomes if o not in ("ok", "stale")]
        if failures:
            raise ReindexError(f"{len(failures)} document(s) refused, first: {failures[0]}")
        await message.ack()
        self.progress.tickets += len(batch.tickets)
        self.progress.messages += len(batch.messages)
        self.progress.files += files
        self.progress.stale += outcomes.count("stale")
        on_progress(self.progress)

    def _check_complete(self, end: rpc.ExportBatch) -> None:
        if (end.sent_tickets, end.sent_messages) != (
            self.progress.tickets,
            self.progress.messages,
        ):
            raise ReindexError(
                f"the export sent {end.sent_tickets} tickets and {end.sent_messages} messages, "
                f"{self.progress.tickets} and {self.progress.messages} were written"
            )


async def reindex(
    settings: SearchSettings,
    on_progress: ProgressCallback,
    *,
    keep_old: bool = False,
    force: bool = False,
) -> RebuildReport:
    """Rebuild the index of ``settings``' namespace (what the CLI runs)."""
    client = AsyncOpenSearch(hosts=[settings.opensearch_url], timeout=120)
    index = OpenSearchTicketIndex(
        client, settings.namespace, refresh_interval=settings.index_refresh
    )
    rpc_client = RpcClient(
        settings.broker_url, timeout=settings.rpc_timeout_seconds, name="reindex"
    )
    # A rebuild may have many files to read (a new extractor): every core helps.
    extraction = extraction_pool(
        settings, workers=max(settings.extraction_workers, os.cpu_count() or 1)
    )
    await rpc_client.start()
    try:
        service = SearchService(index, TicketsClient(rpc_client), extraction)
        rebuild = Rebuild(index, service, rpc_client, settings.broker_url)
        return await rebuild.run(on_progress, keep_old=keep_old, force=force)
    finally:
        await rpc_client.stop()
        await extraction.close()
        await client.close()
