"""Notifications against the real broker, FerretDB and an SMTP server: copies with their
files, comments kept inside, refusals recorded and announced, deferrals retried, bounces
marked, forwards with the ticket's public history, and the command report once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from shared.errors import RetryableError
from shared.events.envelope import AnyEnvelope
from shared.events.notify import DeliveryFailed
from shared.events.ticket import MailCommandOutcome, MailFacts
from tests.integration.notify.conftest import Notify
from tests.integration.notify.events import ACHATS, ACHATS_COMMENT, ticket_event, with_mail
from tests.support import EventTap, eventually, unique

AGENT = "acheteur@example.org"
QUOTE = b"%PDF-1.4\n% a quote\n"


@pytest.fixture
async def failures(notify: Notify) -> AsyncIterator[EventTap]:
    tap = EventTap(notify.vhost, "notify.delivery.*")
    await tap.start()
    yield tap
    await tap.stop()


def people() -> tuple[str, str, str]:
    return (
        f"{unique('demandeur')}@example.net",
        f"{unique('fournisseur')}@supplier.example.com",
        f"{unique('chef')}@example.org",
    )


async def test_a_supplier_quote_reaches_the_requestor_and_admin_cc_with_its_file(
    notify: Notify,
) -> None:
    requestor, supplier, chief = people()
    quote = notify.tickets.store("devis.pdf", "application/pdf", QUOTE)
    event = ticket_event(
        "correspond",
        11,
        requestors=(requestor,),
        ccs=(supplier,),
        admin_ccs=(chief,),
        creator=supplier,
        text="Veuillez trouver notre devis.",
        message_id="<devis-11@supplier.example.com>",
        attachments=(quote,),
    )
    await notify.handle(event)

    catcher = notify.smarthost.catcher
    assert sorted(r for m in catcher.mails for r in m.recipients) == sorted([requestor, chief])
    assert catcher.to(supplier) == []  # the author gets no copy of their own message
    for mail in catcher.mails:
        assert mail.sender == ACHATS
        message = mail.message
        assert message["Auto-Submitted"] == "auto-generated"
        assert message["In-Reply-To"] == "<devis-11@supplier.example.com>"
        assert message["References"].split() == [
            "<guichet.example.11.0.root@tickets.example.org>",
            "<devis-11@supplier.example.com>",
        ]
        [attached] = list(message.iter_attachments())
        assert attached.get_filename() == "devis.pdf"
        assert attached.get_content() == QUOTE


async def test_a_comment_goes_to_admin_ccs_and_owner_from_the_comment_address_only(
    notify: Notify,
) -> None:
    requestor, supplier, chief = people()
    event = ticket_event(
        "comment",
        12,
        requestors=(requestor,),
        ccs=(supplier,),
        admin_ccs=(chief,),
        owner="owner@example.org",
        creator=AGENT,
        text="Trop cher, négocier.",
    )
    await notify.handle(event)
    catcher = notify.smarthost.catcher
    assert sorted(r for m in catcher.mails for r in m.recipients) == sorted(
        [chief, "owner@example.org"]
    )
    for mail in catcher.mails:
        assert mail.sender == ACHATS_COMMENT
        assert ACHATS_COMMENT in mail.message["Reply-To"]
    assert catcher.to(requestor) == [] and catcher.to(supplier) == []


async def test_a_refused_address_is_recorded_announced_once_and_the_others_still_sent(
    notify: Notify, failures: EventTap
) -> None:
    requestor, supplier, chief = people()
    notify.smarthost.catcher.refuse[supplier] = "550 5.1.1 No such user"
    event = ticket_event(
        "correspond", 13, requestors=(requestor,), ccs=(supplier,), admin_ccs=(chief,),
        creator=AGENT,
    )  # fmt: skip
    envelope = await notify.handle(event)
    await notify.service.on_ticket_event(envelope)  # redelivered: nothing again

    assert sorted(r for m in notify.smarthost.catcher.mails for r in m.recipients) == sorted(
        [requestor, chief]
    )
    failed = await notify.deliveries.deliveries.find_one(
        {"_id": f"{event.transaction.id}:{supplier}"}
    )
    assert failed is not None
    assert (failed["status"], failed["smtp_code"], failed["reported"]) == ("failed", 550, True)
    [marked] = await notify.deliveries.failing_addresses()
    assert (marked["_id"], marked["tickets"]) == (supplier, [13])

    async def announced() -> list[AnyEnvelope] | None:
        return failures.events or None

    [announcement] = await eventually(announced, what="notify.delivery.failed")
    payload = announcement.decode(DeliveryFailed).payload
    assert (payload.ticket, payload.recipient, payload.smtp_code) == (13, supplier, 550)
    assert payload.transaction == event.transaction.id


async def test_a_deferred_address_is_tried_again_and_gets_one_mail(notify: Notify) -> None:
    requestor, supplier, _ = people()
    notify.smarthost.catcher.refuse[supplier] = "451 4.7.1 Greylisted, try later"
    event = ticket_event("correspond", 14, requestors=(requestor,), ccs=(supplier,), creator=AGENT)
    with pytest.raises(RetryableError, match="1 mail"):
        await notify.handle(event)
    assert len(notify.smarthost.catcher.to(requestor)) == 1
    del notify.smarthost.catcher.refuse[supplier]
    await notify.handle(event)  # the retry: only what was left
    assert len(notify.smarthost.catcher.to(requestor)) == 1
    assert len(notify.smarthost.catcher.to(supplier)) == 1


async def test_a_bounce_sends_nothing_and_marks_its_addresses_failing(notify: Notify) -> None:
    requestor, supplier, _ = people()
    bounce = with_mail(
        ticket_event(
            "bounce",
            15,
            requestors=(requestor,),
            ccs=(supplier,),
            creator="mailer-daemon@supplier.example.com",
            new_value=supplier,
            note="550 5.1.1 user unknown",
        ),
        MailFacts(sender="mailer-daemon@supplier.example.com", failed_recipients=(supplier,)),
    )
    await notify.handle(bounce)
    assert notify.smarthost.catcher.mails == []
    [marked] = await notify.deliveries.failing_addresses()
    assert (marked["_id"], marked["tickets"], marked["reason"]) == (
        supplier,
        [15],
        "550 5.1.1 user unknown",
    )


async def test_a_forward_carries_the_public_history_and_its_files(notify: Notify) -> None:
    requestor, supplier, _ = people()
    quote = notify.tickets.store("devis.pdf", "application/pdf", QUOTE)
    notify.tickets.histories[16] = [
        {"created": "2026-03-02T09:30:00+00:00", "creator": AGENT, "type": "create",
         "text": "Merci de nous faire une offre.", "message": {"attachments": []}},
        {"created": "2026-03-03T10:00:00+00:00", "creator": AGENT, "type": "comment",
         "text": "Trop cher, secret.", "message": {"attachments": []}},
        {"created": "2026-03-02T15:00:00+00:00", "creator": supplier, "type": "correspond",
         "text": "Devis joint.", "message": {"attachments": [quote.model_dump()]}},
    ]  # fmt: skip
    compta = f"{unique('compta')}@example.org"
    forward = ticket_event(
        "forward",
        16,
        requestors=(requestor,),
        creator=AGENT,
        text="Pour validation.",
        new_value=compta,
        to=(compta,),
    )
    await notify.handle(forward)
    [mail] = notify.smarthost.catcher.to(compta)
    assert mail["Subject"] == "[example #16] Tr : Demande de devis écran"
    body = mail.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert text.startswith("Pour validation.")
    assert text.index("Merci de nous faire une offre.") < text.index("Devis joint.")
    assert "secret" not in text  # comments stay inside
    [attached] = list(mail.iter_attachments())
    assert attached.get_content() == QUOTE
    assert notify.smarthost.catcher.to(requestor) == []


async def test_failed_commands_are_reported_once_to_their_sender(notify: Notify) -> None:
    requestor, supplier, _ = people()
    facts = MailFacts(
        sender=supplier,
        commands=(
            MailCommandOutcome(
                line="Status: resolved",
                command="Status",
                outcome="refused",
                reason="commands by mail are for agents only",
            ),
        ),
    )
    event = with_mail(
        ticket_event("correspond", 17, requestors=(requestor,), ccs=(supplier,), creator=supplier),
        facts,
    )
    envelope = await notify.handle(event)
    await notify.service.on_ticket_event(envelope)
    [report] = notify.smarthost.catcher.to(supplier)
    assert report["Subject"] == "[example #17] Commandes non appliquées : Demande de devis écran"
    assert report["Auto-Submitted"] == "auto-replied"
    body = report.get_body(("plain",))
    assert body is not None
    text = body.get_content().replace("\r\n", "\n")
    assert "Status: resolved\n      → refusée : commands by mail are for agents only" in text
    assert len(notify.smarthost.catcher.to(requestor)) == 1  # the copy of the message


async def test_an_abandoned_claim_is_taken_over_by_one_worker(notify: Notify) -> None:
    requestor, _, _ = people()
    event = ticket_event("create", 18, requestors=(requestor,))
    key = f"{event.transaction.id}:{requestor}"
    long_ago = event.transaction.created.replace(year=2020)
    # A worker claimed this mail in 2020 and died before sending it.
    await notify.mongo[notify.database]["delivery_claims"].insert_one({"_id": key, "at": long_ago})
    copies = await asyncio.gather(*(notify.handle(event) for _ in range(3)), return_exceptions=True)
    assert all(not isinstance(c, BaseException) or isinstance(c, RetryableError) for c in copies)
    assert len(notify.smarthost.catcher.to(requestor)) == 1
