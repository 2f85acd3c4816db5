"""None is lost: a sample of the mail corpus through the real tickets service (RabbitMQ,
FerretDB): each mail leaves exactly one transaction, a ticket created or a message added,
and its event.

Delivery reports are left out, and so are mails with the null sender, which may be read as
delivery reports: what becomes of them is the bounce handling's to test.
"""

from __future__ import annotations

import time

from services.tickets.adapters.mongo_store import MongoTicketStore
from services.tickets.service import TicketService
from shared.mail.loop_guard import classify_loop
from shared.mail.parsing import parse_mail
from tests.fixtures.mail.corpus import CorpusMail, envelope_sender, handmade_mails
from tests.fixtures.mail.generate import generated_mails
from tests.integration.tickets.support import EventTap, envelope_of
from tests.support import mail_received

HANDMADE_IN_SAMPLE = 40
GENERATED_IN_SAMPLE = 20


def _spread(mails: list[CorpusMail], count: int) -> list[CorpusMail]:
    """``count`` mails taken at even intervals, so every folder or family has some."""
    return [mails[i * len(mails) // count] for i in range(min(count, len(mails)))]


def corpus_sample() -> list[CorpusMail]:
    def recordable(mail: CorpusMail) -> bool:
        parsed = parse_mail(mail.raw)
        return not mail.expected.decision.startswith("bounce") and envelope_sender(parsed) != ""

    handmade = [m for m in handmade_mails() if recordable(m)]
    generated = [m for m in generated_mails() if recordable(m)]
    return _spread(handmade, HANDMADE_IN_SAMPLE) + _spread(generated, GENERATED_IN_SAMPLE)


async def test_every_sampled_corpus_mail_leaves_exactly_one_transaction(
    wired: tuple[TicketService, EventTap], store: MongoTicketStore
) -> None:
    service, tap = wired
    sample = corpus_sample()
    assert len(sample) == HANDMADE_IN_SAMPLE + GENERATED_IN_SAMPLE
    started = time.monotonic()
    keys: dict[str, str] = {}
    for mail in sample:
        parsed = parse_mail(mail.raw)
        sender = envelope_sender(parsed)
        envelope = envelope_of(
            mail.raw, mail_from=sender, loop=classify_loop(parsed.headers, sender, "example")
        )
        keys[mail.name] = mail_received(mail.raw).mail_key
        await service.on_mail_received(envelope)

    recorded = {
        name: await store.transactions.count_documents({"idem_key": key})
        for name, key in keys.items()
    }
    assert {name: n for name, n in recorded.items() if n != 1} == {}
    events = await tap.wait_for(len(sample))
    assert len(events) == len(sample)
    assert {e.type for e in events} <= {"ticket.txn.create", "ticket.txn.correspond"}
    assert time.monotonic() - started < 60
