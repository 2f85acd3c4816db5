"""Notify alone, against the running stack: how fast ticket events become mails.

``GUICHET_BENCH_NOTIFY_EVENTS`` (300) ``ticket.txn.create`` events, each with its own
requestor, Cc and AdminCc (three mails each: the autoreply, the creating message to the
Cc, the copy to the AdminCc), are published straight into
notify's work queue (``guichet.notify.events``, through the default exchange, so no other
service sees them: the tickets they name do not exist), as fast as the broker confirms.
The running notify sends them to the catcher, which files them in ``var/outbox``.

Measured, from the catcher's files (their mtime, by their ``X-Envelope-To``):

* notifications/s: mails caught over the time from the first publish to the last mail;
* event→delivered p50/p95/max: a mail's file time minus its event's publish time (same
  clock); in the burst the first mails wait for nothing, the last ones for the whole
  queue before them; then ``GUICHET_BENCH_NOTIFY_PACED`` (20) events one at a time give
  the latency of an event on an idle notify.

The run is ``ok`` when every expected mail arrives once before
``GUICHET_BENCH_NOTIFY_DRAIN_S`` (300) and none twice.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from faststream.rabbit import RabbitBroker

from bench.bench_skeleton import _envelope, _maildir_names, fig, ms, percentile, wait_ready
from shared.events.envelope import Envelope
from shared.events.ticket import (
    MessageInfo,
    QueueInfo,
    TicketCreated,
    TicketSnapshot,
    TransactionInfo,
)
from shared.messaging import build_broker, publish_confirmed
from shared.settings import BaseServiceSettings
from shared.topology import NOTIFY_EVENTS

NAME = "notify"
DESCRIPTION = "ticket events straight into notify: notifications/s, event→delivered latency"

QUEUE = QueueInfo(
    name="achats",
    correspond_address="achats@tickets.example.org",
    comment_address="achats-comment@tickets.example.org",
    rtname="example",
)
DOMAIN = "bench-notify.example.net"
FIRST_TICKET = 900_000_000  # far above the dev database's own tickets


def created(run: str, number: int) -> TicketCreated:
    now = datetime.now(UTC)
    requestor = f"{run}-{number}@{DOMAIN}"
    text = "Bonjour,\nmerci de nous faire une offre pour 12 écrans 27 pouces.\n" * 5
    return TicketCreated(
        ticket=TicketSnapshot(
            id=FIRST_TICKET + number,
            queue=QUEUE.name,
            subject=f"Bench {number}: demande de devis",
            status="new",
            requestors=(requestor,),
            ccs=(f"{run}-{number}-cc@{DOMAIN}",),
            admin_ccs=(f"{run}-{number}-chief@{DOMAIN}",),
            created=now,
            updated=now,
            version=1,
        ),
        transaction=TransactionInfo(
            id=str(uuid.uuid4()),
            seq=1,
            type="create",
            creator=requestor,
            created=now,
            message=MessageInfo(
                message_id=f"<{run}-{number}@{DOMAIN}>",
                subject=f"Bench {number}: demande de devis",
                from_address=requestor,
                to=(QUEUE.correspond_address,),
                text=text,
            ),
        ),
        queue=QUEUE,
    )


class Catches:
    """The catcher's new files, read once each: recipient → the file times of their mails."""

    def __init__(self) -> None:
        self._seen = set(_maildir_names())
        self.times: dict[str, list[float]] = {}

    def poll(self, wanted: set[str]) -> None:
        for name, path in _maildir_names().items():
            if name in self._seen:
                continue
            self._seen.add(name)
            found = _envelope(path)
            if found is not None:
                recipients, _, mtime = found
                for address in recipients:
                    if address in wanted:
                        self.times.setdefault(address, []).append(mtime)

    def count(self, addresses: set[str]) -> int:
        return sum(len(self.times.get(a, ())) for a in addresses)


def recipients_of(event: TicketCreated) -> set[str]:
    return {*event.ticket.requestors, *event.ticket.ccs, *event.ticket.admin_ccs}


async def publish(broker: RabbitBroker, event: TicketCreated) -> float:
    """Into notify's own queue (the default exchange routes by queue name); the time of
    the broker's confirm."""
    envelope = Envelope.wrap(event, producer="bench", correlation_id="bench-notify")
    await publish_confirmed(
        broker,
        envelope.to_wire(),
        routing_key=NOTIFY_EVENTS.name,
        timeout=10,
        message_id=str(envelope.id),
        correlation_id=envelope.correlation_id,
    )
    return time.time()


async def burst(
    broker: RabbitBroker, events: list[TicketCreated], drain_s: float
) -> dict[str, Any]:
    """Every event at once: throughput, and latency with the queue's wait in it."""
    catches = Catches()
    wanted = {a for e in events for a in recipients_of(e)}
    event_of = {a: i for i, e in enumerate(events) for a in recipients_of(e)}
    started = time.time()
    published_at = [await publish(broker, e) for e in events]
    deadline = time.monotonic() + drain_s
    while catches.count(wanted) < len(wanted) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        catches.poll(wanted)
    times = catches.times
    latencies = [t - published_at[event_of[a]] for a, ts in times.items() for t in ts]
    last = max((t for ts in times.values() for t in ts), default=None)
    return {
        "published_per_s": len(events) / (published_at[-1] - started),
        "expected": len(wanted),
        "delivered": len(times),
        "doubled": sum(len(ts) - 1 for ts in times.values()),
        "per_s": len(times) / (last - started) if last else 0.0,
        "latencies": latencies,
    }


async def paced(broker: RabbitBroker, events: list[TicketCreated]) -> dict[str, Any]:
    """One event at a time, each once the last one's mails are all out: the latency of an
    event on an idle notify."""
    catches = Catches()
    latencies: list[float] = []
    missing = 0
    for event in events:
        wanted = recipients_of(event)
        published = await publish(broker, event)
        deadline = time.monotonic() + 30
        while catches.count(wanted) < len(wanted) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
            catches.poll(wanted)
        latencies += [t - published for a in wanted for t in catches.times.get(a, ())]
        missing += len(wanted) - catches.count(wanted)
    return {"latencies": latencies, "missing": missing}


async def run() -> dict[str, Any]:
    count = int(os.environ.get("GUICHET_BENCH_NOTIFY_EVENTS", "300"))
    one_by_one = int(os.environ.get("GUICHET_BENCH_NOTIFY_PACED", "20"))
    drain_s = float(os.environ.get("GUICHET_BENCH_NOTIFY_DRAIN_S", "300"))
    not_ready = await wait_ready(time.perf_counter() + 60)
    if not_ready:
        return {"ok": False, "notes": [f"not ready: {', '.join(not_ready)}"]}
    run_id = f"bn{uuid.uuid4().hex[:8]}"
    broker = build_broker(BaseServiceSettings())
    await broker.connect()
    try:
        loaded = await burst(broker, [created(run_id, i) for i in range(count)], drain_s)
        idle = await paced(broker, [created(f"{run_id}p", i) for i in range(one_by_one)])
    finally:
        await broker.stop()
    queued, alone, total = loaded["latencies"], idle["latencies"], loaded["expected"]
    ok = (
        loaded["delivered"] == loaded["expected"]
        and loaded["doubled"] == 0
        and idle["missing"] == 0
    )
    return {
        "ok": ok,
        "params": {
            "events": count,
            "paced_events": one_by_one,
            "mails_per_event": 3,
            "drain_s": drain_s,
            "run": run_id,
        },
        "figures": [
            fig("burst: events published", count, ""),
            fig("burst: publish rate", round(loaded["published_per_s"], 1), "/s"),
            fig("burst: mails delivered / expected", f"{loaded['delivered']} / {total}"),
            fig("burst: mails doubled", loaded["doubled"], ""),
            fig("burst: notifications/s", round(loaded["per_s"], 1), "/s"),
            fig("burst: event→delivered p50", ms(percentile(queued, 0.5)), "ms"),
            fig("burst: event→delivered p95", ms(percentile(queued, 0.95)), "ms"),
            fig("burst: event→delivered max", ms(max(queued, default=None)), "ms"),
            fig("one at a time: events", one_by_one, ""),
            fig("one at a time: event→delivered p50", ms(percentile(alone, 0.5)), "ms"),
            fig("one at a time: event→delivered p95", ms(percentile(alone, 0.95)), "ms"),
        ],
        "notes": [
            "burst: every event published at once; a mail's latency includes its wait in the "
            "queue behind the events before it",
            "one at a time: each event published once the previous one's mails are out",
        ],
    }
