"""FastStream wiring of notify."""

from __future__ import annotations

from faststream.rabbit import RabbitBroker

from services.notify.service import NotifyService
from shared.events.envelope import AnyEnvelope
from shared.messaging import register_consumer
from shared.topology import NOTIFY_EVENTS


def register(
    broker: RabbitBroker, service: NotifyService | None, *, publish_timeout: float
) -> None:
    async def on_ticket_event(envelope: AnyEnvelope) -> None:
        assert service is not None
        await service.on_ticket_event(envelope)

    register_consumer(
        broker,
        NOTIFY_EVENTS,
        on_ticket_event,
        service="notify",
        publish_timeout=publish_timeout,
        description="Sends the mails each ticket transaction calls for (ticket.txn.*).",
    )
