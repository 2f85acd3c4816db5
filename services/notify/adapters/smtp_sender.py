"""Sending through the smarthost (aiosmtplib), one connection per batch of mails.

Three outcomes besides success, each its own error: the smarthost refused a recipient for
good (5xx: :class:`PermanentDeliveryError`), it deferred one mail (4xx:
:class:`DeferredDeliveryError`, the connection stays usable), or it cannot be reached or
talked to at all (:class:`SmarthostUnavailableError`: the batch stops).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from email.message import EmailMessage

import aiosmtplib

from shared.errors import RetryableError

log = logging.getLogger(__name__)


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
    """A session with the smarthost, opened at the first mail and reused for the next."""

    def __init__(self, sender: SmtpSender) -> None:
        self._sender = sender
        self._client: aiosmtplib.SMTP | None = None

    async def _session(self) -> aiosmtplib.SMTP:
        if self._client is None:
            client = self._sender.new_client()
            try:
                await client.connect()
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                raise SmarthostUnavailableError(f"smarthost unreachable: {exc!r}") from exc
            self._client = client
        return self._client

    async def send(self, mail: EmailMessage, *, sender: str, recipient: str) -> None:
        client = await self._session()
        try:
            errors, _ = await client.send_message(mail, sender=sender, recipients=[recipient])
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [e.code for e in exc.recipients]
            if codes and all(500 <= c < 600 for c in codes):
                raise PermanentDeliveryError(str(exc), codes[0]) from exc
            raise DeferredDeliveryError(f"smarthost deferred {recipient}: {exc}") from exc
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code == 421:  # the server is closing the session
                await self.close()
                raise SmarthostUnavailableError(f"smarthost said {exc.code} {exc.message}") from exc
            if 500 <= exc.code < 600:
                raise PermanentDeliveryError(f"{exc.code} {exc.message}", exc.code) from exc
            raise DeferredDeliveryError(f"smarthost said {exc.code} {exc.message}") from exc
        except aiosmtplib.SMTPNotSupported as exc:  # e.g. a non-ASCII address, no SMTPUTF8
            raise PermanentDeliveryError(f"cannot be sent through this smarthost: {exc}") from exc
        except ValueError as exc:  # an address aiosmtplib refuses to put in a command
            raise PermanentDeliveryError(f"not a deliverable address: {exc}") from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            await self.close()
            raise SmarthostUnavailableError(f"smarthost connection failed: {exc!r}") from exc
        if errors:  # pragma: no cover - one recipient: refused means SMTPRecipientsRefused
            raise PermanentDeliveryError(str(errors))

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
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
        finally:
            await batch.close()

    async def ping(self) -> bool:
        client = self.new_client(timeout=3)
        await client.connect()
        await client.quit()
        return True
