"""Sending through the smarthost (aiosmtplib), one session per batch of mails, kept open
a while after it for the next batch: connecting, EHLO, STARTTLS and AUTH cost more than
sending one notification.

Three outcomes besides success, each its own error: the smarthost refused a recipient for
good (5xx: :class:`PermanentDeliveryError`), it deferred one mail (4xx:
:class:`DeferredDeliveryError`, the connection stays usable), or it cannot be reached or
talked to at all (:class:`SmarthostUnavailableError`: the batch stops).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from email.message import EmailMessage
from typing import NoReturn

import aiosmtplib

from shared.errors import RetryableError

log = logging.getLogger(__name__)

# A session left open waits this long for the next batch: well under smarthosts' own idle
# time-outs (Postfix: 300 s), so it is rarely found closed by the other side.
IDLE_SESSION_SECONDS = 30.0
MAX_IDLE_SESSIONS = 4  # about the notify consumer's concurrency


class PermanentDeliveryError(Exception):
    """The smarthost refused a mail for good (5xx)."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class DeferredDeliveryError(RetryableError):
    """The smarthost deferred one mail (4xx): try it again later."""


class SmarthostUnavailableError(RetryableError):
    """No session with the smarthost (down, refusing us, or the connection broke)."""


class SmtpBatch:
    """A session with the smarthost, taken (or opened) at the first mail and reused for
    the next; given back for the next batch at the end unless it failed."""

    def __init__(self, sender: SmtpSender) -> None:
        self._sender = sender
        self._client: aiosmtplib.SMTP | None = None
        self._reused = False  # a session of an earlier batch, not yet used in this one
        self._in_flight = False  # a command sent and not answered (see _attempt)

    async def _session(self) -> aiosmtplib.SMTP:
        if self._client is None:
            self._client = self._sender.idle_session()
            self._reused = self._client is not None
        return self._client or await self._connect()

    async def _connect(self) -> aiosmtplib.SMTP:
        client = self._sender.new_client()
        try:
            await client.connect()
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise SmarthostUnavailableError(f"smarthost unreachable: {exc!r}") from exc
        self._client, self._reused = client, False
        return client

    async def send(self, mail: EmailMessage, *, sender: str, recipient: str) -> None:
        client = await self._session()
        reused, self._reused = self._reused, False
        try:
            errors = await self._attempt(client, mail, sender, recipient)
        except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPResponseException) as exc:
            closed = isinstance(exc, aiosmtplib.SMTPServerDisconnected) or exc.code == 421
            if not (reused and closed):
                self._fail(exc)
            # A kept session the smarthost had closed meanwhile: once more, on a new one.
            self._drop()
            try:
                errors = await self._attempt(await self._connect(), mail, sender, recipient)
            except Exception as again:
                self._fail(again)
        except Exception as exc:
            self._fail(exc)
        if errors:  # pragma: no cover - one recipient: refused means SMTPRecipientsRefused
            raise PermanentDeliveryError(str(errors))

    async def _attempt(
        self, client: aiosmtplib.SMTP, mail: EmailMessage, sender: str, recipient: str
    ) -> dict[str, aiosmtplib.SMTPResponse]:
        """One mail on ``client``. Until the smarthost has answered, the session is in
        flight: a cancellation or an unforeseen error leaves it in an unknown state, and it
        is not kept for another batch (see ``release``)."""
        self._in_flight = True
        try:
            errors, _ = await client.send_message(mail, sender=sender, recipients=[recipient])
        except (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientsRefused):
            self._in_flight = False  # answered; aiosmtplib has reset the envelope
            raise
        self._in_flight = False
        return errors

    def _fail(self, exc: Exception) -> NoReturn:
        """Raise what a failure to send one mail means (an unforeseen one as it is)."""
        translated = self._translated(exc)
        if translated is None:
            raise exc
        raise translated from exc

    def _translated(self, exc: Exception) -> Exception | None:
        """What a failure to send one mail means for it and for the session."""
        if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
            codes = [e.code for e in exc.recipients]
            if codes and all(500 <= c < 600 for c in codes):
                return PermanentDeliveryError(str(exc), codes[0])
            return DeferredDeliveryError(f"smarthost deferred the recipient: {exc}")
        if isinstance(exc, aiosmtplib.SMTPResponseException):
            if exc.code == 421:  # the server is closing the session
                self._drop()
                return SmarthostUnavailableError(f"smarthost said {exc.code} {exc.message}")
            if 500 <= exc.code < 600:
                return PermanentDeliveryError(f"{exc.code} {exc.message}", exc.code)
            return DeferredDeliveryError(f"smarthost said {exc.code} {exc.message}")
        if isinstance(exc, aiosmtplib.SMTPNotSupported):  # e.g. a non-ASCII address
            return PermanentDeliveryError(f"cannot be sent through this smarthost: {exc}")
        if isinstance(exc, ValueError):  # an address aiosmtplib refuses to put in a command
            return PermanentDeliveryError(f"not a deliverable address: {exc}")
        if isinstance(exc, aiosmtplib.SMTPException | OSError | TimeoutError):
            self._drop()
            return SmarthostUnavailableError(f"smarthost connection failed: {exc!r}")
        return None

    def abandon(self) -> None:
        """Close the session without a word (its state is unknown)."""
        self._drop()

    def _drop(self) -> None:
        """Forget a session that cannot be used again (closed without a word)."""
        client, self._client = self._client, None
        if client is not None:
            with suppress(Exception):
                client.close()

    async def release(self) -> None:
        """The batch is over: its session waits for the next one, when its state is known."""
        if self._in_flight:
            self._drop()
        client, self._client = self._client, None
        if client is not None:
            await self._sender.keep_idle(client)

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await _quit(client)


async def _quit(client: aiosmtplib.SMTP) -> None:
    try:
        await client.quit()
    except (aiosmtplib.SMTPException, OSError, TimeoutError):
        with suppress(Exception):
            client.close()


class SmtpSender:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        starttls: bool = False,
        tls: bool = False,
        validate_certs: bool = True,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        self._host, self._port = host, port
        self._starttls, self._tls, self._validate_certs = starttls, tls, validate_certs
        self._username, self._password = username, password
        self._timeout = timeout
        self._idle: list[tuple[float, aiosmtplib.SMTP]] = []  # (since, session), newest last

    def new_client(self, timeout: float | None = None) -> aiosmtplib.SMTP:
        """A client that, on connect, says EHLO, upgrades to TLS and logs in as configured."""
        return aiosmtplib.SMTP(
            hostname=self._host,
            port=self._port,
            start_tls=self._starttls,
            use_tls=self._tls,
            validate_certs=self._validate_certs,
            username=self._username,
            password=self._password,
            timeout=timeout or self._timeout,
        )

    @asynccontextmanager
    async def batch(self) -> AsyncIterator[SmtpBatch]:
        batch = SmtpBatch(self)
        try:
            yield batch
        except BaseException:
            batch.abandon()  # whatever happened, no session of this batch is kept
            raise
        await batch.release()

    def idle_session(self) -> aiosmtplib.SMTP | None:
        """A session kept from an earlier batch, if one is still fresh and connected."""
        now = time.monotonic()
        while self._idle:
            since, client = self._idle.pop()
            if now - since < IDLE_SESSION_SECONDS and client.is_connected:
                return client
            with suppress(Exception):
                client.close()
        return None

    async def keep_idle(self, client: aiosmtplib.SMTP) -> None:
        if client.is_connected and len(self._idle) < MAX_IDLE_SESSIONS:
            self._idle.append((time.monotonic(), client))
        else:
            await _quit(client)

    async def aclose(self) -> None:
        """Say goodbye on the sessions kept (at shutdown)."""
        idle, self._idle = self._idle, []
        for _, client in idle:
            await _quit(client)

    async def ping(self) -> bool:
        client = self.new_client(timeout=3)
        await client.connect()
        await client.quit()
        return True
