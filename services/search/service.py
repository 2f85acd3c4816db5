"""The imperative shell of search: index ticket events, answer searches."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from services.search.adapters.extraction_pool import ExtractionPool
from services.search.adapters.opensearch_index import OpenSearchTicketIndex
from services.search.adapters.tickets_rpc import TicketsClient
from services.search.domain.documents import (
    Action,
    attachment_action,
    attachment_id,
    event_actions,
)
from services.search.domain.extraction import EXTRACTOR_VERSION, Extracted
from services.search.domain.queries import QueryBuilder
from services.search.domain.query_language import parse_quick_query
from services.search.domain.results import aggregation_result, attachment_result, ticket_result
from shared.errors import InvalidInputError, NotFoundError, UserError
from shared.events.envelope import AnyEnvelope
from shared.events.ticket import (
    TICKET_TXN_EVENTS,
    AttachmentInfo,
    TicketTxnEvent,
    TransactionInfo,
)
from shared.rpc.search import (
    AdvancedSearch,
    Aggregate,
    Condition,
    Counts,
    ManyResults,
    Principal,
    QuickSearch,
    SearchAttachments,
    SearchMany,
    SearchTickets,
)

log = logging.getLogger(__name__)

# More files than this on one message are listed, not read (a mail of 300 scans…).
MAX_ATTACHMENTS_READ = 50
# Files fetched and read at once (the extraction pool bounds the CPU work itself).
CONCURRENT_READS = 4
# What reading the same bytes again would find again; timeouts and failures are retried.
LASTING_OUTCOMES = ("ok", "empty", "unsupported", "too_large")


def decode_ticket_event(envelope: AnyEnvelope) -> TicketTxnEvent:
    payload_type = TICKET_TXN_EVENTS.get(envelope.type)
    if payload_type is None:
        # A kind this version does not know: every ticket.txn.* has the common shape.
        return TicketTxnEvent.model_validate(envelope.payload)
    return envelope.decode(payload_type).payload


class SearchService:
    def __init__(
        self, index: OpenSearchTicketIndex, tickets: TicketsClient, extraction: ExtractionPool
    ) -> None:
        self._index = index
        self._tickets = tickets
        self._extraction = extraction
        self._reading = asyncio.Semaphore(CONCURRENT_READS)

    # indexing -------------------------------------------------------------------------------
    async def on_ticket_event(self, envelope: AnyEnvelope) -> None:
        event = decode_ticket_event(envelope)
        actions = event_actions(event)
        actions += await self.attachment_actions(
            event.ticket.id, event.transaction, event.ticket.version
        )
        stale = await self._index.write(actions)
        if stale:
            log.info(
                "ticket #%d v%d: %d stale write(s) ignored",
                event.ticket.id,
                event.ticket.version,
                stale,
            )

    async def attachment_actions(
        self,
        ticket_id: int,
        txn: TransactionInfo,
        version: int,
        *,
        known: dict[str, dict[str, Any]] | None = None,
    ) -> list[Action]:
        """The files of a transaction with their text: a file indexed already (by id, or
        the same bytes elsewhere) is not read again. ``known``: the files stored in the
        index a rebuild replaces, whose text it keeps."""
        if txn.message is None or not txn.message.attachments:
            return []
        files = list(enumerate(txn.message.attachments))[:MAX_ATTACHMENTS_READ]
        ids = [attachment_id(txn.id, i) for i, _ in files]
        stored_docs = known
        if stored_docs is None:
            stored_docs = await self._index.children(ids, {i: str(ticket_id) for i in ids})

        async def action(position: int, info: AttachmentInfo, doc_id: str) -> Action | None:
            stored = stored_docs.get(doc_id)
            if (
                stored is not None
                and stored.get("extractor_version") == EXTRACTOR_VERSION
                and stored.get("extraction") in LASTING_OUTCOMES  # a timeout is tried again
            ):
                if known is None:
                    return None  # an event delivered again: this file is in the index
                extracted = Extracted(stored.get("text", ""), stored.get("extraction", "ok"))
            else:
                async with self._reading:
                    extracted = await self._read(info.sha256, info.content_type, info.filename)
            return attachment_action(
                ticket_id, txn, version, position, info, extracted, EXTRACTOR_VERSION
            )

        found = await asyncio.gather(
            *(action(p, info, doc_id) for (p, info), doc_id in zip(files, ids, strict=True))
        )
        return [a for a in found if a is not None]

    async def _read(self, sha256: str, content_type: str, filename: str) -> Extracted:
        same = await self._index.search(
            {
                "size": 1,
                "query": {
                    "bool": {
                        "filter": [
                            {"term": {"sha256": sha256}},
                            {"term": {"extractor_version": EXTRACTOR_VERSION}},
                            # a failure may not repeat: read the file again
                            {"terms": {"extraction": list(LASTING_OUTCOMES)}},
                        ]
                    }
                },
                "_source": ["text", "extraction"],
            }
        )
        for hit in same["hits"]["hits"]:
            return Extracted(hit["_source"].get("text", ""), hit["_source"]["extraction"])
        try:
            content = await self._tickets.attachment(sha256)
        except NotFoundError:
            return Extracted("", "failed", "the tickets service has no such file")
        except UserError as exc:
            return Extracted("", "failed", str(exc)[:200])
        return await self._extraction.extract(content, content_type=content_type, filename=filename)

    # searching ------------------------------------------------------------------------------
    async def _builder(self, principal: Principal) -> QueryBuilder:
        return QueryBuilder(await self._tickets.visibility(principal.email))

    @staticmethod
    def _quick(text: str, principal: Principal) -> tuple[Condition | None, int | None]:
        query = parse_quick_query(text, me=principal.email.lower())
        if query.unknown:
            raise InvalidInputError(f"unknown search field(s): {', '.join(query.unknown)}")
        if query.invalid:
            raise InvalidInputError(f"invalid search value(s): {', '.join(query.invalid)}")
        return query.condition, query.ticket_id

    async def search_tickets(self, request: SearchTickets) -> dict[str, Any]:
        builder = await self._builder(request.principal)
        body, ticket_id = self._quick_body(builder, request, request.principal)
        result = await self._index.search(body)
        return ticket_result(result, ticket_asked=ticket_id).model_dump(mode="json")

    def _quick_body(
        self, builder: QueryBuilder, search: QuickSearch, principal: Principal
    ) -> tuple[dict[str, Any], int | None]:
        """The body of a quick search, and the ticket number it names alone, if so."""
        condition, ticket_id = self._quick(search.q, principal)
        body = builder.tickets_body(
            condition, sort=search.sort, limit=search.limit, offset=search.offset
        )
        return body, ticket_id

    async def advanced(self, request: AdvancedSearch) -> dict[str, Any]:
        builder = await self._builder(request.principal)
        body = builder.tickets_body(
            request.query,
            sort=request.sort,
            limit=request.limit,
            search_after=request.search_after,
            highlight=request.highlight,
        )
        return ticket_result(await self._index.search(body)).model_dump(mode="json")

    async def attachments(self, request: SearchAttachments) -> dict[str, Any]:
        builder = await self._builder(request.principal)
        result = await self._index.search(builder.attachments_body(request))
        return attachment_result(result).model_dump(mode="json")

    async def aggregate(self, request: Aggregate) -> dict[str, Any]:
        builder = await self._builder(request.principal)
        body = self._counts_body(builder, request, request.principal)
        return aggregation_result(await self._index.search(body)).model_dump(mode="json")

    async def many(self, request: SearchMany) -> dict[str, Any]:
        """Quick searches and counts of one asker, in one request to the index."""
        builder = await self._builder(request.principal)
        quick = [self._quick_body(builder, part, request.principal) for part in request.tickets]
        bodies = [body for body, _ in quick]
        bodies += [self._counts_body(builder, part, request.principal) for part in request.counts]
        results = await self._index.search_many(bodies)
        found = len(request.tickets)
        return ManyResults(
            tickets=[
                ticket_result(result, ticket_asked=ticket_id)
                for result, (_, ticket_id) in zip(results[:found], quick, strict=True)
            ],
            counts=[aggregation_result(result) for result in results[found:]],
        ).model_dump(mode="json")

    def _counts_body(
        self, builder: QueryBuilder, counts: Counts, principal: Principal
    ) -> dict[str, Any]:
        condition = counts.query
        if condition is None and counts.q:
            condition, _ = self._quick(counts.q, principal)
        return builder.aggregation_body(condition, weeks=counts.weeks, time_zone=counts.time_zone)
