"""SMTP transcripts over a real socket against the real broker: exact reply codes for each
case, and 250 only once the mail is spooled and its event confirmed."""

from __future__ import annotations

import asyncio
import base64
import shutil
from collections.abc import Callable
from typing import Any

from tests.integration.ingest.transcript import ACCEPTED, TRY_LATER, Ingest, queued
from tests.support import raw_mail


async def test_an_oversized_mail_gets_552(ingest: Ingest) -> None:
    s = await ingest.smtp()
    await s.cmd("MAIL FROM:<alice@example.net>")
    await s.cmd("RCPT TO:<achats@tickets.example.org>")
    reply = await s.data(raw_mail(body="x" * 100 + ("y" * 70 + "\n") * 2000))
    assert reply.startswith("552")
    assert await queued(ingest.vhost) == []


async def test_250_means_spooled_and_one_confirmed_event_per_queue_address(ingest: Ingest) -> None:
    s = await ingest.smtp()
    await s.cmd("MAIL FROM:<alice@example.net>")
    await s.cmd("RCPT TO:<achats@tickets.example.org>")
    await s.cmd("RCPT TO:<ACHATS-comment@tickets.example.org>")
    raw = raw_mail(subject="Demande de devis écran")
    assert await s.data(raw) == ACCEPTED
    events = await queued(ingest.vhost)
    assert sorted(e["payload"]["recipient"] for e in events) == [
        "achats-comment@tickets.example.org",
        "achats@tickets.example.org",
    ]
    assert {e["payload"]["recipient_kind"] for e in events} == {"correspond", "comment"}
    assert len({e["payload"]["mail_key"] for e in events}) == 2
    sha = events[0]["payload"]["raw_sha256"]
    spooled = list(ingest.spool.rglob(f"{sha}.eml"))
    assert len(spooled) == 1
    # aiosmtpd hands over the bytes as sent (dot-unstuffed): the spool holds exactly them.
    assert b"Demande de devis" in spooled[0].read_bytes()


async def test_loop_facts_travel_with_the_event(ingest: Ingest) -> None:
    s = await ingest.smtp()
    await s.cmd("MAIL FROM:<>")
    await s.cmd("RCPT TO:<achats@tickets.example.org>")
    raw = raw_mail(headers={"Auto-Submitted": "auto-replied", "Precedence": "bulk"})
    assert (await s.data(raw)).startswith("250")
    [event] = await queued(ingest.vhost)
    loop = event["payload"]["loop"]
    assert loop["auto_submitted"] and loop["bulk_or_list"] and loop["mailer_daemon"]


async def test_broker_gone_answers_451_and_never_250(ingest: Ingest, delete_vhost: Any) -> None:
    s = await ingest.smtp()
    await s.cmd("MAIL FROM:<alice@example.net>")
    await s.cmd("RCPT TO:<achats@tickets.example.org>")
    delete_vhost(ingest.vhost)  # the broker closes every connection to it
    await asyncio.sleep(0.5)
    assert await s.data(raw_mail()) == TRY_LATER


async def test_one_event_refused_by_the_broker_answers_451_for_the_mail(
    ingest: Ingest, mail_queue_takes: Callable[[int], None]
) -> None:
    mail_queue_takes(1)  # the first event, not the second
    s = await ingest.smtp()
    await s.cmd("MAIL FROM:<alice@example.net>")
    await s.cmd("RCPT TO:<achats@tickets.example.org>")
    await s.cmd("RCPT TO:<achats-comment@tickets.example.org>")
    assert await s.data(raw_mail()) == TRY_LATER


async def test_storage_failure_answers_451(ingest: Ingest) -> None:
    s = await ingest.smtp()
    await s.cmd("MAIL FROM:<alice@example.net>")
    await s.cmd("RCPT TO:<achats@tickets.example.org>")
    # The spool disappears and a plain file takes its place: no directory can be made there.
    shutil.rmtree(ingest.spool)
    ingest.spool.write_text("not a directory")
    assert await s.data(raw_mail()) == TRY_LATER
    assert await queued(ingest.vhost) == []


async def test_a_route_gone_between_rcpt_and_data_answers_451(ingest: Ingest) -> None:
    s = await ingest.smtp()
    await s.cmd("MAIL FROM:<alice@example.net>")
    await s.cmd("RCPT TO:<achats-comment@tickets.example.org>")
    assert ingest.routes.current is not None
    ingest.routes.current = ingest.routes.current.model_copy(
        update={
            "routes": {
                "achats@tickets.example.org": ingest.routes.current.routes[
                    "achats@tickets.example.org"
                ]
            }
        }
    )
    # Tried again later, when RCPT refuses it with 550 and the sender gets a bounce.
    assert await s.data(raw_mail()) == TRY_LATER
    assert await queued(ingest.vhost) == []


async def test_the_data_arrives_byte_for_byte_after_dot_unstuffing(ingest: Ingest) -> None:
    # Lines that start with a dot, some that end with one, and long runs (4 KB) without a
    # ".\r\n" anywhere, so the end of the data is looked for across many reads.
    lines = [b"Subject: points", b"", b".leading dot", b"..two dots", b"trailing dot."]
    lines += [b"ligne %05d." % i if i % 500 == 0 else b".%05d" % i for i in range(5000)]
    sent = b"\r\n".join(lines) + b"\r\n"
    stuffed = b"\r\n".join(b"." + ln if ln.startswith(b".") else ln for ln in lines)
    s = await ingest.smtp()
    await s.cmd("MAIL FROM:<alice@example.net>")
    await s.cmd("RCPT TO:<achats@tickets.example.org>")
    assert (await s.cmd("DATA")).startswith("354")
    s.writer.write(stuffed + b"\r\n.\r\n")
    assert await s.reply() == ACCEPTED
    [event] = await queued(ingest.vhost)
    assert base64.b64decode(event["payload"]["raw_b64"]) == sent
    assert next(ingest.spool.rglob("*.eml")).read_bytes() == sent


async def test_a_line_over_1000_octets_is_kept_as_sent(ingest: Ingest) -> None:
    # RFC 5321 §4.5.3.1.6 sets 1,000 octets, but mailers exceed it and MTAs pass such mail
    # on: refusing it here would bounce mail the site's MTA has accepted.
    sent = b"Subject: long\r\n\r\n<p>" + b"x" * 5000 + b"</p>\r\n"
    s = await ingest.smtp()
    await s.cmd("MAIL FROM:<alice@example.net>")
    await s.cmd("RCPT TO:<achats@tickets.example.org>")
    assert (await s.cmd("DATA")).startswith("354")
    s.writer.write(sent + b".\r\n")
    assert await s.reply() == ACCEPTED
    [event] = await queued(ingest.vhost)
    assert base64.b64decode(event["payload"]["raw_b64"]) == sent


async def test_a_command_right_behind_the_data_is_answered_in_its_turn(ingest: Ingest) -> None:
    s = await ingest.smtp()
    await s.cmd("MAIL FROM:<alice@example.net>")
    await s.cmd("RCPT TO:<achats@tickets.example.org>")
    assert (await s.cmd("DATA")).startswith("354")
    s.writer.write(b"Subject: vite\r\n\r\nfin.\r\n.\r\nNOOP\r\n")
    assert await s.replies(2) == [ACCEPTED, "250 OK"]
