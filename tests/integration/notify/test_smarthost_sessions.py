"""Sessions with the smarthost, against a real SMTP server: one kept from a batch of mails
to the next, and a kept one the smarthost closed meanwhile replaced without a mail lost."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from email.message import EmailMessage

import pytest

from services.notify.adapters import smtp_sender
from services.notify.adapters.smtp_sender import SmarthostUnavailableError, SmtpSender
from tests.integration.notify.conftest import Smarthost

pytestmark = pytest.mark.integration


def mail(n: int) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "achats@tickets.example.org"
    message["To"] = f"client-{n}@example.net"
    message["Subject"] = f"[example #{n}] Accusé de réception"
    message.set_content("Bien reçu.")
    return message


@pytest.fixture
async def sender(smarthost: Smarthost) -> AsyncIterator[SmtpSender]:
    kept = SmtpSender("127.0.0.1", smarthost.port, timeout=5)
    yield kept
    await kept.aclose()


async def send(sender: SmtpSender, *numbers: int) -> None:
    async with sender.batch() as smtp:
        for n in numbers:
            await smtp.send(mail(n), sender="achats@tickets.example.org", recipient=f"c{n}@x.net")


async def test_batches_in_a_row_share_one_session(smarthost: Smarthost, sender: SmtpSender) -> None:
    await send(sender, 1, 2)
    await send(sender, 3)
    await send(sender, 4)
    assert len(smarthost.catcher.mails) == 4
    assert smarthost.connections == 1


async def test_batches_at_once_take_a_session_each_and_keep_a_few(
    smarthost: Smarthost,
    sender: SmtpSender,
) -> None:
    await asyncio.gather(*(send(sender, n) for n in range(10)))
    opened = smarthost.connections
    assert len(smarthost.catcher.mails) == 10 and opened > 1
    await asyncio.gather(*(send(sender, n) for n in range(10, 20)))
    assert len(smarthost.catcher.mails) == 20
    # the second wave reused the sessions kept (at most MAX_IDLE_SESSIONS of them)
    assert smarthost.connections - opened <= opened


async def test_a_kept_session_the_smarthost_closed_is_replaced_without_loss(
    smarthost: Smarthost,
    sender: SmtpSender,
) -> None:
    await send(sender, 1)
    smarthost.drop_sessions()  # its idle time-out, say
    await asyncio.sleep(0.05)
    await send(sender, 2)
    assert [m.recipients for m in smarthost.catcher.mails] == [["c1@x.net"], ["c2@x.net"]]
    assert smarthost.connections == 2


async def test_a_session_kept_too_long_is_not_used(
    smarthost: Smarthost, sender: SmtpSender, monkeypatch: pytest.MonkeyPatch
) -> None:
    await send(sender, 1)
    monkeypatch.setattr(smtp_sender, "IDLE_SESSION_SECONDS", 0.0)
    await send(sender, 2)
    assert smarthost.connections == 2


async def test_a_smarthost_down_is_unavailable_even_with_a_session_kept(
    smarthost: Smarthost,
    sender: SmtpSender,
) -> None:
    await send(sender, 1)
    await smarthost.stop()
    await asyncio.sleep(0.05)
    with pytest.raises(SmarthostUnavailableError):
        await send(sender, 2)
    await smarthost.start()
    await send(sender, 3)
    assert [m.recipients for m in smarthost.catcher.mails] == [["c1@x.net"], ["c3@x.net"]]


async def test_a_batch_that_failed_keeps_no_session(
    smarthost: Smarthost, sender: SmtpSender
) -> None:
    with pytest.raises(RuntimeError):
        async with sender.batch() as smtp:
            await smtp.send(mail(1), sender="achats@tickets.example.org", recipient="c1@x.net")
            raise RuntimeError("the event could not be finished")
    await send(sender, 2)
    assert len(smarthost.catcher.mails) == 2
    assert smarthost.connections == 2
