"""The aiosmtpd handler: RCPT is checked against the queue addresses; DATA answers 250 only
once the raw bytes are in the spool and every ``mail.received`` is confirmed by the broker.
Any failure of ours answers ``451 4.3.0`` so the sending MTA tries again."""

from __future__ import annotations

import base64
import hashlib
import logging
import time
import uuid
from datetime import UTC, datetime
from email import policy
from email.parser import BytesHeaderParser
from typing import Any

from prometheus_client import Counter, Histogram

from services.ingest.adapters.raw_store import FileRawStore
from services.ingest.adapters.routes import RouteCache
from services.ingest.domain.recipients import Destination, resolve_recipient
from shared.events.envelope import Envelope
from shared.events.mail import MailReceived
from shared.mail.addresses import normalize_address
from shared.mail.loop_guard import classify_loop
from shared.messaging import EventPublisher
from shared.observability import correlation_scope

log = logging.getLogger(__name__)

SMTP_REPLIES = Counter("guichet_ingest_smtp_replies_total", "SMTP replies sent", ["stage", "code"])
DATA_SECONDS = Histogram("guichet_ingest_data_seconds", "DATA received → reply sent")

ACCEPTED = "250 2.0.0 Message accepted for delivery"
TRY_LATER = "451 4.3.0 Temporary failure, please try again later"


def mail_key(raw_sha256: str, recipient: str) -> str:
    """Idempotency key of one mail for one queue address (same bytes, same address)."""
    return hashlib.sha256(f"{raw_sha256}\0{recipient}".encode()).hexdigest()


class IngestHandler:
    def __init__(
        self,
        *,
        store: FileRawStore,
        routes: RouteCache,
        publisher: EventPublisher,
        max_recipients: int,
    ) -> None:
        self._store = store
        self._routes = routes
        self._publisher = publisher
        self._max_recipients = max_recipients

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        reply = self._check_recipient(envelope, address)
        SMTP_REPLIES.labels(stage="rcpt", code=reply[:3]).inc()
        return reply

    def _check_recipient(self, envelope: Any, address: str) -> str:
        if len(envelope.rcpt_tos) >= self._max_recipients:
            return "452 4.5.3 Too many recipients"
        routes = self._routes.current
        if routes is None:
            return "451 4.3.0 Recipient addresses not known yet, please try again later"
        if resolve_recipient(address, routes) is None:
            return f"550 5.1.1 <{address}>: no such queue address here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Recipient OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        started = time.perf_counter()
        correlation_id = f"smtp-{uuid.uuid4()}"
        with correlation_scope(correlation_id):
            try:
                reply = await self._accept(session, envelope, correlation_id)
            except Exception:
                log.exception("could not accept a mail from %s", envelope.mail_from)
                reply = TRY_LATER
        DATA_SECONDS.observe(time.perf_counter() - started)
        SMTP_REPLIES.labels(stage="data", code=reply[:3]).inc()
        return reply

    async def _accept(self, session: Any, envelope: Any, correlation_id: str) -> str:
        routes = self._routes.current
        if routes is None:
            return TRY_LATER
        raw: bytes = envelope.original_content or envelope.content
        raw_sha256, spool_ref = await self._store.store(raw)
        headers_msg = BytesHeaderParser(policy=policy.compat32).parsebytes(raw)
        headers = {k.lower(): str(v) for k, v in headers_msg.items()}
        sender = normalize_address(envelope.mail_from or "")
        loop = classify_loop(headers, sender, routes.rtname)
        received_at = datetime.now(UTC)
        destinations: list[Destination] = []
        for rcpt in envelope.rcpt_tos:
            dest = resolve_recipient(rcpt, routes)
            if dest is not None and dest.address not in {d.address for d in destinations}:
                destinations.append(dest)
        all_recipients = tuple(d.address for d in destinations)
        for dest in destinations:
            payload = MailReceived(
                mail_key=mail_key(raw_sha256, dest.address),
                raw_sha256=raw_sha256,
                raw_size=len(raw),
                raw_b64=_b64(raw),
                spool_ref=spool_ref,
                mail_from=sender,
                recipient=dest.address,
                recipient_kind=dest.kind,
                queue=dest.queue,
                all_recipients=all_recipients,
                peer=str(session.peer[0]) if session.peer else "",
                helo=str(session.host_name or ""),
                received_at=received_at,
                loop=loop,
            )
            await self._publisher.publish(
                Envelope.wrap(payload, producer="ingest", correlation_id=correlation_id)
            )
        log.info("accepted %s (%d bytes) for %s", raw_sha256[:12], len(raw), all_recipients)
        return ACCEPTED


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
