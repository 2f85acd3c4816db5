"""The imperative shell of search: index ticket events, answer searches."""

from __future__ import annotations

import logging
from typing import Any

from services.search.adapters.opensearch_index import OpenSearchTicketIndex
from services.search.domain.documents import message_document, ticket_document
from services.search.domain.query_language import parse_quick_query, to_opensearch
from shared.errors import InvalidInputError
from shared.events.envelope import AnyEnvelope
from shared.events.ticket import TICKET_TXN_EVENTS, TicketTxnEvent
from shared.rpc.search import SearchHit, SearchResult, SearchTickets

log = logging.getLogger(__name__)


class SearchService:
    def __init__(self, index: OpenSearchTicketIndex) -> None:
        self._index = index

    async def on_ticket_event(self, envelope: AnyEnvelope) -> None:
        payload_type = TICKET_TXN_EVENTS.get(envelope.type)
        if payload_type is None:
            # A kind this version does not know: every ticket.txn.* has the common shape.
            event = TicketTxnEvent.model_validate(envelope.payload)
        else:
            event = envelope.decode(payload_type).payload
        stale = await self._index.write(ticket_document(event.ticket), message_document(event))
        if stale:
            log.info(
                "ticket #%d v%d: %d stale write(s) ignored",
                event.ticket.id,
                event.ticket.version,
                stale,
            )

    async def search_tickets(self, request: SearchTickets) -> dict[str, Any]:
        query = parse_quick_query(request.q, me=request.principal.email)
        if query.unknown:
            raise InvalidInputError(f"unknown search field(s): {', '.join(query.unknown)}")
        total, ids = await self._index.search(
            to_opensearch(query, request.principal), limit=request.limit, offset=request.offset
        )
        docs = await self._index.tickets(ids)
        items = [
            SearchHit(id=i, subject=d["subject"], status=d["status"], queue=d["queue"])
            for i in ids
            if (d := docs.get(i)) is not None
        ]
        return SearchResult(total=total, items=items).model_dump()
