"""The aiosmtpd handler behind both listeners, SMTP and LMTP.

MAIL is refused to a host outside the allow-list, and before STARTTLS when TLS is
required; RCPT is checked against the queue addresses; DATA writes the raw bytes into the
spool, then publishes one ``mail.received`` per queue address, each confirmed by the
broker, while the disk syncs them. A recipient is answered 250 only once the bytes are
durable and its event confirmed; any failure of ours answers ``451 4.3.0`` so the sending
MTA tries again (the same bytes for the same address give the same ``mail_key``, so a retry
acts once). SMTP gets one reply for the mail, LMTP one per accepted recipient (RFC 2033
§4.2).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiosmtpd.lmtp import LMTP
from prometheus_client import Counter, Histogram

from services.ingest.adapters.raw_store import FileRawStore
from services.ingest.adapters.routes import RouteCache
from services.ingest.domain.peers import Network, peer_allowed
from services.ingest.domain.recipients import Destination, resolve_recipient
from shared.events.envelope import Envelope
from shared.events.mail import LoopFacts, MailReceived
from shared.mail.addresses import normalize_address
from shared.mail.loop_guard import classify_loop
from shared.mail.parsing import read_headers
from shared.messaging import EventPublisher
from shared.observability import correlation_scope

log = logging.getLogger(__name__)

SMTP_REPLIES = Counter("guichet_ingest_smtp_replies_total", "SMTP replies sent", ["stage", "code"])
DATA_SECONDS = Histogram("guichet_ingest_data_seconds", "DATA received → reply sent")

ACCEPTED = "250 2.0.0 Message accepted for delivery"
TRY_LATER = "451 4.3.0 Temporary failure, please try again later"
TLS_FIRST = "530 5.7.0 Must issue a STARTTLS command first"


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
        allowed_peers: Sequence[Network] = (),
        require_tls: bool = False,
    ) -> None:
        self._store = store
        self._routes = routes
        self._publisher = publisher
        self._max_recipients = max_recipients
        self._allowed_peers = tuple(allowed_peers)
        self._require_tls = require_tls

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        # aiosmtpd advertises AUTH once TLS is up, with a check that always fails; an MTA
        # set to log in would then defer our mail. Ingest takes mail, it has no accounts.
        session.host_name = hostname
        return [r for r in responses if not r[4:].startswith("AUTH")]

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, mail_options: list[str]
    ) -> str:
        reply = self._check_sender(session)
        if reply is None:
            envelope.mail_from = address
            envelope.mail_options.extend(mail_options)
            reply = "250 2.1.0 Sender OK"
        SMTP_REPLIES.labels(stage="mail", code=reply[:3]).inc()
        return reply

    def _check_sender(self, session: Any) -> str | None:
        # The allow-list is applied at MAIL, not with a 554 greeting: RFC 5321 §3.1 lets a
        # server greet with 554, but MTAs take that for a broken host and try the next MX
        # or keep the mail queued (Postfix's smtp_skip_5xx_greeting), so the sender learns
        # nothing for days; a 550 5.7.1 to MAIL fails the transaction at once with the
        # reason in the bounce. (550 is a reply RFC 5321 §4.3.2 lists for MAIL; 554 is not.)
        host = str(session.peer[0]) if session.peer else ""
        if not peer_allowed(host, self._allowed_peers):
            log.warning("refused mail from %s: not in the allowed peers", host)
            return f"550 5.7.1 Client host [{host}] is not allowed to send mail here"
        # Checked here rather than with aiosmtpd's require_starttls, which refuses LHLO
        # before STARTTLS and so would make LMTP unusable.
        if self._require_tls and session.ssl is None:
            return TLS_FIRST
        return None

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
                replies = await self._deliver(session, envelope, correlation_id)
            except Exception:
                log.exception("could not accept a mail from %s", envelope.mail_from)
                replies = [TRY_LATER] * len(envelope.rcpt_tos)
        if isinstance(server, LMTP):
            lines = replies  # RFC 2033 §4.2: one reply per accepted RCPT, in their order
        else:
            lines = [ACCEPTED if all(r == ACCEPTED for r in replies) else TRY_LATER]
        DATA_SECONDS.observe(time.perf_counter() - started)
        for line in lines:
            SMTP_REPLIES.labels(stage="data", code=line[:3]).inc()
        return "\r\n".join(lines)  # aiosmtpd sends it as is: one reply per line

    async def _deliver(self, session: Any, envelope: Any, correlation_id: str) -> list[str]:
        """Spool the mail, publish it once per queue address; a reply per RCPT, in order."""
        routes = self._routes.current
        if routes is None:
            return [TRY_LATER] * len(envelope.rcpt_tos)
        # A route gone since RCPT gets 451: on the retry, RCPT refuses it with 550.
        destinations = [resolve_recipient(rcpt, routes) for rcpt in envelope.rcpt_tos]
        raw: bytes = envelope.original_content or envelope.content
        spooled = await self._store.write(raw)
        sender = normalize_address(envelope.mail_from or "")
        unique = list({d.address: d for d in destinations if d is not None}.values())
        received = _Received(
            raw=raw,
            raw_sha256=spooled.sha256,
            raw_b64=base64.b64encode(raw).decode("ascii"),
            spool_ref=spooled.ref,
            sender=sender,
            loop=classify_loop(_headers(raw), sender, routes.rtname),
            all_recipients=tuple(d.address for d in unique),
            peer=str(session.peer[0]) if session.peer else "",
            helo=str(session.host_name or ""),
            received_at=datetime.now(UTC),
            correlation_id=correlation_id,
        )
        # The events go out while the disk syncs the spooled bytes: 250 waits for both.
        # They go one after the other, each confirmed: after a failure the broker is
        # likely in trouble, so the addresses left get 451 at once, not a timeout each.
        outcome: dict[str, str] = {}
        failed = False
        for dest in unique:
            if not failed:
                try:
                    await self._publish(received, dest)
                except Exception as exc:
                    failed = True
                    log.error(
                        "mail %s for %s not published: %r", spooled.sha256[:12], dest.address, exc
                    )
            outcome[dest.address] = TRY_LATER if failed else ACCEPTED
        try:
            await spooled.durable
        except Exception:
            # Rare (the bytes were written, the sync failed): events may be out already;
            # the MTA's retry has the same mail_key, so it still acts once.
            log.exception("mail %s written but not made durable", spooled.sha256[:12])
            return [TRY_LATER] * len(destinations)
        accepted = [a for a, reply in outcome.items() if reply == ACCEPTED]
        log.info("accepted %s (%d bytes) for %s", spooled.sha256[:12], len(raw), accepted)
        return [TRY_LATER if d is None else outcome[d.address] for d in destinations]

    async def _publish(self, received: _Received, dest: Destination) -> None:
        payload = MailReceived(
            mail_key=mail_key(received.raw_sha256, dest.address),
            raw_sha256=received.raw_sha256,
            raw_size=len(received.raw),
            raw_b64=received.raw_b64,
            spool_ref=received.spool_ref,
            mail_from=received.sender,
            recipient=dest.address,
            recipient_kind=dest.kind,
            queue=dest.queue,
            all_recipients=received.all_recipients,
            peer=received.peer,
            helo=received.helo,
            received_at=received.received_at,
            loop=received.loop,
        )
        await self._publisher.publish(
            Envelope.wrap(payload, producer="ingest", correlation_id=received.correlation_id)
        )


@dataclass(frozen=True, slots=True)
class _Received:
    """What every event of one mail shares."""

    raw: bytes
    raw_sha256: str
    raw_b64: str
    spool_ref: str
    sender: str
    loop: LoopFacts
    all_recipients: tuple[str, ...]
    peer: str
    helo: str
    received_at: datetime
    correlation_id: str


def _headers(raw: bytes) -> dict[str, str]:
    """The header fields, lower-cased names (only the header block is read)."""
    return {k.lower(): str(v) for k, v in read_headers(raw).items()}
