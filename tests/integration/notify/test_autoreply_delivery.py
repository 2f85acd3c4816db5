"""Autoreplies against the real FerretDB and a real SMTP server: one per (transaction,
recipient) even when an event comes twice at once; none to machines; a limited number per
address and hour; nothing lost while the smarthost is down."""

from __future__ import annotations

import asyncio

import pytest

from shared.errors import RetryableError
from shared.events.mail import LoopFacts
from tests.integration.notify.conftest import Notify
from tests.integration.notify.events import ACHATS, ticket_event
from tests.support import unique


async def test_an_event_handled_twice_at_once_sends_one_autoreply(notify: Notify) -> None:
    requestor = f"{unique('alice')}@example.net"
    event = ticket_event("create", 7, requestors=(requestor,), message_id="<m1@example.net>")
    copies = await asyncio.gather(*(notify.handle(event) for _ in range(4)), return_exceptions=True)
    # Copies that found the delivery in flight ask to be retried later; none sends.
    assert all(not isinstance(c, BaseException) or isinstance(c, RetryableError) for c in copies)
    await notify.handle(event)  # a later redelivery: already sent
    [caught] = notify.smarthost.catcher.mails
    assert caught.recipients == [requestor]
    assert caught.sender == ACHATS
    assert caught.message["Subject"] == "[example #7] Demande de devis écran"
    assert caught.message["Auto-Submitted"] == "auto-replied"
    assert caught.message["In-Reply-To"] == "<m1@example.net>"


async def test_no_autoreply_to_mail_from_a_machine(notify: Notify) -> None:
    robot = LoopFacts(auto_submitted=True, reasons=("Auto-Submitted: auto-replied",))
    event = ticket_event("create", 8, requestors=("robot@example.net",))
    await notify.handle(event.model_copy(update={"loop": robot}))
    assert notify.smarthost.catcher.mails == []


async def test_autoreplies_to_one_address_are_limited_per_hour(notify: Notify) -> None:
    chatty = f"{unique('chatty')}@example.net"
    for ticket in range(1, 8):
        await notify.handle(ticket_event("create", ticket, requestors=(chatty,)))
    assert len(notify.smarthost.catcher.to(chatty)) == 5  # the limit of the fixture
    skipped = await notify.deliveries.deliveries.count_documents({"status": "skipped"})
    assert skipped == 2


async def test_smarthost_down_nothing_is_lost_and_nothing_doubled(notify: Notify) -> None:
    event = ticket_event("create", 9, requestors=(f"{unique('bob')}@example.net",))
    await notify.smarthost.stop()
    with pytest.raises(RetryableError):
        await notify.handle(event)
    await notify.smarthost.start()
    envelope = await notify.handle(event)  # the retry, once the smarthost is back
    await notify.service.on_ticket_event(envelope)  # and a redelivery
    assert len(notify.smarthost.catcher.mails) == 1
