"""Exactly one mail per (transaction, recipient) through notify's real consumer: every
event of a 200-ticket run delivered three times with notify restarted mid-run, and the
smarthost down for a minute while mail waits in the retry tiers."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import aio_pika

from shared.topology import NOTIFY_EVENTS
from tests.integration.notify.conftest import Consumer, Notify
from tests.integration.notify.events import ticket_event
from tests.support import eventually, unique


def delivered(notify: Notify) -> Counter[tuple[str, str]]:
    """(ticket tag and transaction's Message-ID part, recipient) → mails caught."""
    counts: Counter[tuple[str, str]] = Counter()
    for mail in notify.smarthost.catcher.mails:
        # Our Message-ID: <guichet.{rtname}.{ticket}.{transaction}.{hash}@domain>
        transaction = mail.message["Message-ID"].split(".")[3]
        for recipient in mail.recipients:
            counts[(transaction, recipient)] += 1
    return counts


async def queue_is_empty(amqp_url: str, name: str) -> bool:
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(name, passive=True)
        return queue.declaration_result.message_count == 0
    finally:
        await connection.close()


async def test_every_event_of_200_tickets_thrice_with_a_restart_gives_one_mail_each(
    notify: Notify,
) -> None:
    run = unique("run")
    events = [
        ticket_event(
            "create",
            ticket,
            requestors=(f"{run}-req{ticket}@example.net",),
            ccs=(f"{run}-cc{ticket}@supplier.example.com",),
            admin_ccs=(f"{run}-chief@example.org",),
        )
        for ticket in range(1, 201)
    ]
    expected = {
        (e.transaction.id, r)
        for e in events
        for r in (*e.ticket.requestors, *e.ticket.ccs, *e.ticket.admin_ccs)
    }
    consumer = await Consumer(notify).start()
    for event in events:
        await notify.publish(event, copies=3)  # the event and two redeliveries

    # Restart notify once a third of the mails are out: a graceful stop hands what it had
    # not acknowledged back to the queue; a fresh process (new objects, same database)
    # takes over.
    await notify.smarthost.catcher.wait_for(len(expected) // 3, timeout=60)
    await consumer.stop()
    restarted = notify.restarted()
    consumer = await Consumer(restarted).start()
    try:
        await notify.smarthost.catcher.wait_for(len(expected), timeout=80)

        async def drained() -> bool:
            return await queue_is_empty(notify.vhost, NOTIFY_EVENTS.name)

        await eventually(drained, timeout=30, what="the notify queue drained")
        await asyncio.sleep(0.5)  # anything still in flight would show now
    finally:
        await consumer.stop()
    counts = delivered(notify)
    assert set(counts) == expected
    assert set(counts.values()) == {1}
    assert await queue_is_empty(notify.vhost, NOTIFY_EVENTS.dead_letter_queue.name)


async def test_smarthost_down_for_a_minute_nothing_lost_nothing_doubled(notify: Notify) -> None:
    run = unique("down")
    events = [
        ticket_event("create", ticket, requestors=(f"{run}-{ticket}@example.net",))
        for ticket in range(1, 21)
    ]
    consumer = await Consumer(notify).start()
    try:
        await notify.smarthost.stop()
        down_at = time.monotonic()
        for event in events:
            await notify.publish(event)
        await asyncio.sleep(60 - (time.monotonic() - down_at))
        assert notify.smarthost.catcher.mails == []
        await notify.smarthost.start()
        # The retry tiers wait 1 s, 10 s, then 60 s: the fourth attempts find it back.
        await notify.smarthost.catcher.wait_for(len(events), timeout=25)
        await asyncio.sleep(0.5)
    finally:
        await consumer.stop()
    counts = delivered(notify)
    assert set(counts) == {(e.transaction.id, e.ticket.requestors[0]) for e in events}
    assert set(counts.values()) == {1}
