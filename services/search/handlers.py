"""FastStream wiring of search."""

from __future__ import annotations

from typing import Any

from faststream.rabbit import RabbitBroker

from services.search.service import SearchService
from shared.events.envelope import AnyEnvelope
from shared.messaging import register_consumer, register_rpc
from shared.rpc.search import SEARCH_TICKETS, SearchTickets
from shared.topology import SEARCH_EVENTS


def register(
    broker: RabbitBroker, service: SearchService | None, *, publish_timeout: float
) -> None:
    async def on_ticket_event(envelope: AnyEnvelope) -> None:
        assert service is not None
        await service.on_ticket_event(envelope)

    async def search_tickets(body: dict[str, Any]) -> Any:
        assert service is not None
        return await service.search_tickets(SearchTickets.model_validate(body))

    register_consumer(
        broker,
        SEARCH_EVENTS,
        on_ticket_event,
        service="search",
        publish_timeout=publish_timeout,
        description="Indexes tickets and their messages from ticket.txn.* events.",
    )
    register_rpc(broker, SEARCH_TICKETS, search_tickets, description="Quick search of tickets.")
