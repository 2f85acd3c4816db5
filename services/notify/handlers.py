"""FastStream wiring of notify: the ticket events it sends mail for, the administrator's
RPC endpoints, and the event it publishes when a mail is refused for good."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from faststream.rabbit import RabbitBroker
from pydantic import BaseModel

from services.notify.administration import NotifyAdministration
from services.notify.service import NotifyService
from shared.events.envelope import AnyEnvelope, Envelope
from shared.events.notify import DeliveryFailed
from shared.messaging import register_consumer, register_rpc
from shared.rpc import notify as rpc
from shared.topology import EVENTS_EXCHANGE, NOTIFY_EVENTS

RpcMethod = Callable[[Any], Awaitable[Any]]


def register(
    broker: RabbitBroker,
    service: NotifyService | None,
    administration: NotifyAdministration | None,
    *,
    publish_timeout: float,
) -> None:
    """Subscribe every handler; ``service`` and ``administration`` may be None when only
    documenting (AsyncAPI)."""

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

    def endpoint(model: type[BaseModel], method: str) -> Callable[[dict[str, Any]], Awaitable[Any]]:
        async def handle(body: dict[str, Any]) -> Any:
            assert administration is not None
            call: RpcMethod = getattr(administration, method)
            return await call(model.model_validate(body))

        return handle

    endpoints: list[tuple[str, type[BaseModel], str, str]] = [
        (rpc.QUEUE_SETTINGS, rpc.QueueRef, "queue", "A queue's rules and templates."),
        (rpc.SET_RULE, rpc.SetRule, "set_rule", "Switch a rule on or off for a queue."),
        (rpc.SET_TEMPLATE, rpc.SetTemplate, "set_template", "Replace a queue's template."),
        (rpc.RESET_TEMPLATE, rpc.TemplateRef, "reset_template", "Back to the default template."),
        (rpc.SET_OPTIONS, rpc.SetOptions, "set_options", "A queue's notification options."),
        (rpc.FAILING_ADDRESSES, rpc.ActorOnly, "failing_addresses", "Addresses that fail."),
    ]
    for name, model, method, description in endpoints:
        register_rpc(broker, name, endpoint(model, method), description=description)

    broker.publisher(
        exchange=EVENTS_EXCHANGE,
        routing_key=DeliveryFailed.event_type,
        persist=True,
        title=DeliveryFailed.event_type,
        description="A mail the smarthost refused for good, for the ticket's history.",
        schema=Envelope[DeliveryFailed],
    )
