"""The imperative shell of notify: plan (domain), then send each mail exactly once.

For each ``ticket.txn.*`` event: the queue's settings, the mails the rules call for, and
for each mail a claim in the delivery log (a unique insert), the mail built and sent over
one SMTP session, and its outcome recorded. A redelivered event finds its mails done; a
mail deferred by the smarthost, or one another worker is sending, makes the whole event
come back later (the consumer's retry tiers), and only what is left is sent then.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from jinja2 import TemplateError
from prometheus_client import Counter, Histogram

from services.notify.adapters.mongo_deliveries import MongoDeliveryLog
from services.notify.adapters.mongo_queue_settings import MongoQueueSettings
from services.notify.adapters.mongo_rate_limits import MongoAutoreplyLimiter
from services.notify.adapters.smtp_sender import (
    DeferredDeliveryError,
    PermanentDeliveryError,
    SmtpBatch,
    SmtpSender,
)
from services.notify.adapters.tickets_rpc import TicketsClient
from services.notify.domain.forwarding import (
    HistoryEntry,
    forwarded_attachments,
    forwarded_history,
)
from services.notify.domain.outgoing import (
    AttachedFile,
    build_mail,
    message_id_for,
    sender_address,
)
from services.notify.domain.rules import PlannedMail, QueueSettings, plan_notifications
from services.notify.domain.templates import (
    DEFAULT_TEMPLATES,
    RenderedMail,
    language_of,
    render,
    template_context,
)
from shared.errors import RetryableError
from shared.events.envelope import AnyEnvelope, Envelope
from shared.events.notify import DeliveryFailed
from shared.events.ticket import TICKET_TXN_EVENTS, AttachmentInfo, TicketTxnEvent
from shared.mail.addresses import normalize_address
from shared.messaging import EventPublisher

log = logging.getLogger(__name__)

# A mail claimed this long ago and still "sending" was abandoned by a dead worker. One
# mail's send is bounded by the SMTP timeouts (connect, MAIL, RCPT, DATA: 30 s each).
STALE_CLAIM = timedelta(minutes=3)
SETTINGS_TTL_SECONDS = 2.0

MAILS = Counter("guichet_notify_mails_total", "Notification mails", ["template", "outcome"])
EVENT_TO_SENT = Histogram(
    "guichet_notify_event_to_sent_seconds",
    "From a transaction to its mail accepted by the smarthost",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900),
)
_FAILURE_IDS = uuid.UUID("6f1c9a52-3c1e-4d0a-9a55-0e5b8f2f7d11")


def delivery_key(event: TicketTxnEvent, recipient: str) -> str:
    """At most one mail per (transaction, recipient), whatever rule sends it."""
    return f"{event.transaction.id}:{recipient}"


@dataclass
class _EventMaterial:
    """What an event's mails may need from the tickets service, fetched once per event."""

    tickets: TicketsClient
    event: TicketTxnEvent
    _files: dict[str, AttachedFile | None] = field(default_factory=dict)
    _history: list[HistoryEntry] | None = None

    async def history(self) -> list[HistoryEntry]:
        if self._history is None:
            self._history = forwarded_history(await self.tickets.history(self.event.ticket.id))
        return self._history

    async def files(self, infos: tuple[AttachmentInfo, ...]) -> list[AttachedFile]:
        for info in infos:
            if info.sha256 not in self._files:
                self._files[info.sha256] = await self.tickets.attachment(info)
        return [f for f in (self._files[i.sha256] for i in infos) if f is not None]


class NotifyService:
    def __init__(
        self,
        deliveries: MongoDeliveryLog,
        sender: SmtpSender,
        *,
        settings: MongoQueueSettings,
        limiter: MongoAutoreplyLimiter,
        tickets: TicketsClient,
        publisher: EventPublisher,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._deliveries = deliveries
        self._sender = sender
        self._settings = settings
        self._limiter = limiter
        self._tickets = tickets
        self._publisher = publisher
        self._clock = clock
        self._settings_cache: dict[str, tuple[float, QueueSettings]] = {}

    async def on_ticket_event(self, envelope: AnyEnvelope) -> None:
        payload_type = TICKET_TXN_EVENTS.get(envelope.type)
        if payload_type is None:
            return  # not a ticket transaction: nothing to send
        event: TicketTxnEvent = envelope.decode(payload_type).payload
        if event.transaction.type == "bounce":
            await self._record_bounce(event)
            return
        settings = await self.queue_settings(event.queue.name)
        planned = plan_notifications(event, settings)
        if not planned:
            return
        material = _EventMaterial(self._tickets, event)
        later: list[str] = []
        async with self._sender.batch() as smtp:
            for mail in planned:
                outcome = await self._deliver(envelope, event, settings, mail, material, smtp)
                if outcome is not None:
                    later.append(outcome)
        if later:
            raise RetryableError(f"{len(later)} mail(s) to send later: {'; '.join(later)[:500]}")

    async def queue_settings(self, queue: str) -> QueueSettings:
        """A queue's settings, read at most every SETTINGS_TTL seconds (they rarely change;
        every event needs them)."""
        now = time.monotonic()
        hit = self._settings_cache.get(queue)
        if hit is not None and hit[0] > now:
            return hit[1]
        settings = await self._settings.get(queue)
        self._settings_cache[queue] = (now + SETTINGS_TTL_SECONDS, settings)
        return settings

    def forget_settings(self) -> None:
        self._settings_cache.clear()

    async def _deliver(
        self,
        envelope: AnyEnvelope,
        event: TicketTxnEvent,
        settings: QueueSettings,
        planned: PlannedMail,
        material: _EventMaterial,
        smtp: SmtpBatch,
    ) -> str | None:
        """Send one planned mail unless it is done already; the reason to come back later,
        if any. A smarthost that cannot be reached stops the event at once (raises)."""
        key = delivery_key(event, planned.recipient)
        message_id = message_id_for(event, planned.recipient, planned.template)
        now = self._clock()
        claim = await self._deliveries.claim(key, now, STALE_CLAIM)
        if claim.state == "done":
            MAILS.labels(template=planned.template, outcome="duplicate").inc()
            if claim.outcome.get("status") == "failed" and not claim.outcome.get("reported"):
                await self._report_failure(envelope, event, planned, claim.outcome)
            return None
        if claim.state == "busy":
            return f"{planned.recipient}: being sent by another worker"
        details = {
            "ticket": event.ticket.id,
            "transaction": event.transaction.id,
            "recipient": planned.recipient,
            "rule": planned.rule,
            "template": planned.template,
            "message_id": message_id,
        }
        try:
            if planned.reply and not await self._within_rate(key, planned, now):
                log.warning("autoreply to %s skipped: rate limit reached", planned.recipient)
                await self._deliveries.record(
                    key, "skipped", now, reason="autoreply rate limit", **details
                )
                MAILS.labels(template=planned.template, outcome="rate_limited").inc()
                return None
            mail = build_mail(
                event,
                planned,
                await self._render(event, settings, planned, material),
                message_id=message_id,
                now=now,
                attachments=await self._attachments(event, planned, material),
            )
        except BaseException:
            await self._deliveries.release(key)  # nothing was sent: the retry may claim it
            raise
        try:
            await smtp.send(
                mail, sender=sender_address(event, planned.sent_as), recipient=planned.recipient
            )
        except DeferredDeliveryError as exc:
            await self._deliveries.release(key)
            MAILS.labels(template=planned.template, outcome="deferred").inc()
            return f"{planned.recipient}: {exc}"
        except RetryableError:  # the smarthost is gone: what is left waits for the retry
            await self._deliveries.release(key)
            raise
        except PermanentDeliveryError as exc:
            log.warning("the smarthost refused %s for good: %s", planned.recipient, exc)
            failed_at = self._clock()
            failed = {**details, "error": str(exc)[:1000], "smtp_code": exc.code}
            await self._deliveries.record(key, "failed", failed_at, reported=False, **failed)
            await self._deliveries.mark_failing(
                planned.recipient, failed_at, ticket=event.ticket.id, reason=str(exc)
            )
            MAILS.labels(template=planned.template, outcome="failed").inc()
            await self._report_failure(envelope, event, planned, {**failed, "at": failed_at})
            return None
        sent = self._clock()
        await self._deliveries.record(key, "sent", sent, **details)
        MAILS.labels(template=planned.template, outcome="sent").inc()
        EVENT_TO_SENT.observe(max(0.0, (sent - event.transaction.created).total_seconds()))
        return None

    async def _within_rate(self, key: str, planned: PlannedMail, now: datetime) -> bool:
        """Whether one more autoreply may go to its recipient this hour. (A mail tried
        again after a deferral or a crash counts again: it errs towards fewer mails.)"""
        return await self._limiter.take_slot(planned.recipient, now, key) is not None

    async def _render(
        self,
        event: TicketTxnEvent,
        settings: QueueSettings,
        planned: PlannedMail,
        material: _EventMaterial,
    ) -> RenderedMail:
        language = language_of(event.queue.language)
        history = await material.history() if planned.forwards_ticket else []
        context = template_context(
            event, recipient=planned.recipient, language=language, history=history
        )
        template = settings.template(planned.template, language)
        try:
            return render(template, context)
        except TemplateError:
            # Checked when saved, so only a change of the context can break it: the
            # default never fails, and the mail still goes.
            log.exception(
                "the %s template of %s fails; the default is used",
                planned.template,
                event.queue.name,
            )
            return render(DEFAULT_TEMPLATES[planned.template][language], context)

    async def _attachments(
        self, event: TicketTxnEvent, planned: PlannedMail, material: _EventMaterial
    ) -> list[AttachedFile]:
        message = event.transaction.message
        if planned.forwards_ticket:
            note_files = message.attachments if message is not None else ()
            return await material.files(forwarded_attachments(await material.history(), note_files))
        if planned.copy_of_message and message is not None and message.attachments:
            return await material.files(message.attachments)
        return []

    async def _report_failure(
        self,
        envelope: AnyEnvelope,
        event: TicketTxnEvent,
        planned: PlannedMail,
        delivery: dict[str, Any],
    ) -> None:
        """Publish ``notify.delivery.failed``, then note it was: a crash in between means
        one more publication of the same event (same id), never none."""
        key = delivery_key(event, planned.recipient)
        failure = DeliveryFailed(
            ticket=event.ticket.id,
            queue=event.queue.name,
            transaction=event.transaction.id,
            recipient=planned.recipient,
            rule=delivery.get("rule", planned.rule),
            template=delivery.get("template", planned.template),
            message_id=delivery.get("message_id")
            or message_id_for(event, planned.recipient, planned.template),
            smtp_code=delivery.get("smtp_code"),
            error=delivery.get("error") or "refused",
            failed_at=delivery.get("at") or self._clock(),
        )
        await self._publisher.publish(
            Envelope.wrap(
                failure,
                producer="notify",
                correlation_id=envelope.correlation_id,
                causation_id=str(envelope.id),
                event_id=uuid.uuid5(_FAILURE_IDS, key),
            )
        )
        await self._deliveries.note(key, reported=True)

    async def _record_bounce(self, event: TicketTxnEvent) -> None:
        """A delivery report on a ticket sends nothing; its addresses are marked failing."""
        txn = event.transaction
        failed = txn.mail.failed_recipients if txn.mail is not None else ()
        if not failed:
            failed = tuple(a.strip() for a in (txn.new_value or "").split(",") if a.strip())
        reason = txn.note or "delivery report"
        for address in dict.fromkeys(normalize_address(a) for a in failed):
            await self._deliveries.mark_failing(
                address, txn.created, ticket=event.ticket.id, reason=reason
            )
