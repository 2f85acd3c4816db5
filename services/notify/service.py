"""The imperative shell of notify: plan (domain), then send each mail exactly once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from prometheus_client import Counter

from services.notify.adapters.mongo_deliveries import MongoDeliveryLog
from services.notify.adapters.smtp_sender import PermanentDeliveryError, SmtpSender
from services.notify.domain.outgoing import build_autoreply, message_id_for
from services.notify.domain.rules import plan_notifications
from shared.events.envelope import AnyEnvelope
from shared.events.ticket import TICKET_TXN_EVENTS, TicketTxnEvent

log = logging.getLogger(__name__)

MAILS = Counter("guichet_notify_mails_total", "Notification mails", ["template", "outcome"])


class NotifyService:
    def __init__(
        self,
        deliveries: MongoDeliveryLog,
        sender: SmtpSender,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._deliveries = deliveries
        self._sender = sender
        self._clock = clock

    async def on_ticket_event(self, envelope: AnyEnvelope) -> None:
        payload_type = TICKET_TXN_EVENTS.get(envelope.type)
        if payload_type is None:
            return  # a kind of transaction that sends nothing (yet)
        event: TicketTxnEvent = envelope.decode(payload_type).payload
        for planned in plan_notifications(event):
            key = f"{event.transaction.id}:{planned.recipient}:{planned.template}"
            if await self._deliveries.status(key) in {"sent", "failed"}:
                MAILS.labels(template=planned.template, outcome="duplicate").inc()
                continue
            now = self._clock()
            message_id = message_id_for(event, planned.recipient, planned.template)
            mail = build_autoreply(event, planned.recipient, message_id=message_id, now=now)
            await self._deliveries.record(
                key,
                ticket=event.ticket.id,
                transaction=event.transaction.id,
                recipient=planned.recipient,
                template=planned.template,
                message_id=message_id,
                status="sending",
                created=now,
            )
            try:
                await self._sender.send(
                    mail, sender=event.queue.correspond_address, recipient=planned.recipient
                )
            except PermanentDeliveryError as exc:
                log.warning("delivery to %s failed for good: %s", planned.recipient, exc)
                await self._deliveries.mark(key, "failed", self._clock(), str(exc))
                MAILS.labels(template=planned.template, outcome="failed").inc()
                continue
            await self._deliveries.mark(key, "sent", self._clock())
            MAILS.labels(template=planned.template, outcome="sent").inc()
