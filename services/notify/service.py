"""The imperative shell of notify: plan (domain), then send each mail exactly once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from prometheus_client import Counter

from services.notify.adapters.mongo_deliveries import MongoDeliveryLog
from services.notify.adapters.smtp_sender import PermanentDeliveryError, SmtpSender
from services.notify.domain.outgoing import build_autoreply, message_id_for
from services.notify.domain.rules import plan_notifications
from shared.errors import RetryableError
from shared.events.envelope import AnyEnvelope
from shared.events.ticket import TICKET_TXN_EVENTS, TicketTxnEvent

log = logging.getLogger(__name__)

# A delivery claimed this long ago and still "sending" was abandoned by a dead worker.
STALE_CLAIM = timedelta(minutes=5)

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
            now = self._clock()
            message_id = message_id_for(event, planned.recipient, planned.template)
            claim = await self._deliveries.claim(
                key,
                now,
                STALE_CLAIM,
                ticket=event.ticket.id,
                transaction=event.transaction.id,
                recipient=planned.recipient,
                template=planned.template,
                message_id=message_id,
            )
            if claim == "done":
                MAILS.labels(template=planned.template, outcome="duplicate").inc()
                continue
            if claim == "busy":  # another worker holds it; look again later
                raise RetryableError(f"delivery {key} is being sent by another worker")
            mail = build_autoreply(event, planned.recipient, message_id=message_id, now=now)
            try:
                await self._sender.send(
                    mail, sender=event.queue.correspond_address, recipient=planned.recipient
                )
            except RetryableError:
                await self._deliveries.release(key)  # not sent: the next attempt may claim it
                raise
            except PermanentDeliveryError as exc:
                log.warning("delivery to %s failed for good: %s", planned.recipient, exc)
                await self._deliveries.mark(key, "failed", self._clock(), str(exc))
                MAILS.labels(template=planned.template, outcome="failed").inc()
                continue
            await self._deliveries.mark(key, "sent", self._clock())
            MAILS.labels(template=planned.template, outcome="sent").inc()
