"""FastStream wiring of search."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from faststream.rabbit import RabbitBroker
from pydantic import BaseModel

from services.search.service import SearchService
from shared.events.envelope import AnyEnvelope
from shared.messaging import register_consumer, register_rpc
from shared.rpc import search as rpc
from shared.topology import SEARCH_EVENTS

# Events handled at once: their writes share bulk requests.
INDEXING_CONCURRENCY = 64


def register(
    broker: RabbitBroker, service: SearchService | None, *, publish_timeout: float
) -> None:
    async def on_ticket_event(envelope: AnyEnvelope) -> None:
        assert service is not None
        await service.on_ticket_event(envelope)

    register_consumer(
        broker,
        SEARCH_EVENTS,
        on_ticket_event,
        service="search",
        publish_timeout=publish_timeout,
        description="Indexes tickets, their messages and the text of their files from "
        "ticket.txn.* events, in bulk.",
        concurrency=INDEXING_CONCURRENCY,
    )

    # name, request model, the service's method, description
    searches: list[tuple[str, type[BaseModel], Callable[[SearchService], Any], str]] = [
        (
            rpc.SEARCH_TICKETS,
            rpc.SearchTickets,
            lambda s: s.search_tickets,
            "Quick search of tickets: words, phrases, field:value tokens.",
        ),
        (
            rpc.SEARCH_ADVANCED,
            rpc.AdvancedSearch,
            lambda s: s.advanced,
            "Advanced search: a structured condition, sort, search_after paging, highlights.",
        ),
        (
            rpc.SEARCH_ATTACHMENTS,
            rpc.SearchAttachments,
            lambda s: s.attachments,
            "The archive of attachments across tickets, with the text inside them.",
        ),
        (
            rpc.SEARCH_AGGREGATE,
            rpc.Aggregate,
            lambda s: s.aggregate,
            "Counts for dashboards: by status, queue, owner; created and resolved per week; "
            "time to resolution.",
        ),
        (
            rpc.SEARCH_MANY,
            rpc.SearchMany,
            lambda s: s.many,
            "Quick searches and counts of one asker at once (a home page's boxes), in one "
            "request to the index.",
        ),
    ]
    for name, model, method, description in searches:
        register_rpc(broker, name, _endpoint(service, model, method), description=description)


def _endpoint(
    service: SearchService | None,
    model: type[BaseModel],
    method: Callable[[SearchService], Callable[[Any], Awaitable[Any]]],
) -> Callable[[dict[str, Any]], Awaitable[Any]]:
    async def handle(body: dict[str, Any]) -> Any:
        assert service is not None
        return await method(service)(model.model_validate(body))

    return handle
