"""LMTP transcripts over a real socket against the real broker: the same checks as SMTP at
MAIL and RCPT, and after the data one reply per accepted recipient, in order (RFC 2033)."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from typing import Any

from tests.integration.ingest.transcript import ACCEPTED, TRY_LATER, Ingest, queued
from tests.support import raw_mail

OVERSIZED = raw_mail(body="x" * 100 + ("y" * 70 + "\n") * 2000)


async def test_lhlo_is_the_greeting_and_advertises_size(ingest: Ingest) -> None:
    s = await ingest.lmtp()
    reply = await s.cmd("LHLO mta.example.net")
    assert reply.splitlines()[0] == "250-ingest"
    assert "250-SIZE 65536" in reply.splitlines()
    assert "STARTTLS" not in reply  # no certificate configured
    assert (await s.cmd("EHLO mta.example.net")).startswith("500")


async def test_postmaster_mail_is_accepted_and_delivered(ingest: Ingest) -> None:
    s = await ingest.lmtp()
    await s.cmd("MAIL FROM:<alice@example.net>")
    assert await s.cmd("RCPT TO:<postmaster>") == "250 2.1.5 Recipient OK"
    assert await s.cmd("RCPT TO:<postmaster@tickets.example.org>") == "250 2.1.5 Recipient OK"
    await s.send_data(raw_mail())
    assert await s.replies(2) == [ACCEPTED, ACCEPTED]
    assert {e["payload"]["recipient_kind"] for e in await queued(ingest.vhost)} == {"postmaster"}


async def test_an_oversized_mail_gets_552_once_per_recipient(ingest: Ingest) -> None:
    s = await ingest.lmtp()
    await s.cmd("MAIL FROM:<alice@example.net>")
    await s.cmd("RCPT TO:<achats@tickets.example.org>")
    await s.cmd("RCPT TO:<achats-comment@tickets.example.org>")
    await s.send_data(OVERSIZED)
    replies = await s.replies(2)
    assert [r[:3] for r in replies] == ["552", "552"]
    assert await s.cmd("NOOP") == "250 OK"  # nothing left unread: the session is in step
    assert await queued(ingest.vhost) == []


async def test_each_recipient_gets_250_and_one_event_per_queue_address(ingest: Ingest) -> None:
    s = await ingest.lmtp()
    await s.cmd("MAIL FROM:<alice@example.net>")
    await s.cmd("RCPT TO:<achats@tickets.example.org>")
    await s.cmd("RCPT TO:<achats-comment@tickets.example.org>")
    await s.cmd("RCPT TO:<Achats@Tickets.Example.org>")  # the first one, spelt otherwise
    await s.send_data(raw_mail(subject="Demande de devis écran"))
    assert await s.replies(3) == [ACCEPTED, ACCEPTED, ACCEPTED]
    events = await queued(ingest.vhost)
    assert sorted(e["payload"]["recipient"] for e in events) == [
        "achats-comment@tickets.example.org",
        "achats@tickets.example.org",
    ]
    sha = events[0]["payload"]["raw_sha256"]
    assert len(list(ingest.spool.rglob(f"{sha}.eml"))) == 1


async def test_the_same_mail_delivered_twice_has_the_same_key_per_address(ingest: Ingest) -> None:
    # What lets tickets act once per address however often an MTA delivers it.
    raw = raw_mail()
    for _ in range(2):
        s = await ingest.lmtp()
        await s.cmd("MAIL FROM:<alice@example.net>")
        await s.cmd("RCPT TO:<achats@tickets.example.org>")
        assert await s.data(raw) == ACCEPTED
    first, second = await queued(ingest.vhost)
    assert first["payload"]["mail_key"] == second["payload"]["mail_key"]
    assert first["id"] != second["id"]
    assert len(list(ingest.spool.rglob("*.eml"))) == 1


async def test_one_event_refused_by_the_broker_answers_451_for_its_recipient_only(
    ingest: Ingest, mail_queue_takes: Callable[[int], None]
) -> None:
    mail_queue_takes(1)  # the first event, not the second
    s = await ingest.lmtp()
    await s.cmd("MAIL FROM:<alice@example.net>")
    await s.cmd("RCPT TO:<achats@tickets.example.org>")
    await s.cmd("RCPT TO:<achats-comment@tickets.example.org>")
    await s.send_data(raw_mail())
    assert await s.replies(2) == [ACCEPTED, TRY_LATER]
    [event] = await queued(ingest.vhost)
    assert event["payload"]["recipient"] == "achats@tickets.example.org"


async def test_broker_gone_answers_451_for_every_recipient(
    ingest: Ingest, delete_vhost: Any
) -> None:
    s = await ingest.lmtp()
    await s.cmd("MAIL FROM:<alice@example.net>")
    await s.cmd("RCPT TO:<achats@tickets.example.org>")
    await s.cmd("RCPT TO:<achats-comment@tickets.example.org>")
    delete_vhost(ingest.vhost)  # the broker closes every connection to it
    await asyncio.sleep(0.5)
    await s.send_data(raw_mail())
    assert await s.replies(2) == [TRY_LATER, TRY_LATER]


async def test_storage_failure_answers_451_for_every_recipient(ingest: Ingest) -> None:
    s = await ingest.lmtp()
    await s.cmd("MAIL FROM:<alice@example.net>")
    await s.cmd("RCPT TO:<achats@tickets.example.org>")
    await s.cmd("RCPT TO:<achats-comment@tickets.example.org>")
    shutil.rmtree(ingest.spool)
    ingest.spool.write_text("not a directory")  # no directory can be made there
    await s.send_data(raw_mail())
    assert await s.replies(2) == [TRY_LATER, TRY_LATER]
    assert await queued(ingest.vhost) == []


async def test_a_route_gone_between_rcpt_and_data_answers_451_for_it_only(
    ingest: Ingest,
) -> None:
    s = await ingest.lmtp()
    await s.cmd("MAIL FROM:<alice@example.net>")
    await s.cmd("RCPT TO:<achats-comment@tickets.example.org>")
    await s.cmd("RCPT TO:<achats@tickets.example.org>")
    assert ingest.routes.current is not None
    kept = {
        "achats@tickets.example.org": ingest.routes.current.routes["achats@tickets.example.org"]
    }
    ingest.routes.current = ingest.routes.current.model_copy(update={"routes": kept})
    await s.send_data(raw_mail())
    assert await s.replies(2) == [TRY_LATER, ACCEPTED]
    [event] = await queued(ingest.vhost)
    assert event["payload"]["all_recipients"] == ["achats@tickets.example.org"]
