"""Sending through the smarthost (aiosmtplib)."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib

from shared.errors import RetryableError


class PermanentDeliveryError(Exception):
    """The smarthost refused a recipient for good (5xx)."""


class SmtpSender:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        self._host, self._port = host, port
        self._starttls = starttls
        self._username, self._password = username, password
        self._timeout = timeout

    async def send(self, mail: EmailMessage, *, sender: str, recipient: str) -> None:
        try:
            errors, _ = await aiosmtplib.send(
                mail,
                sender=sender,
                recipients=[recipient],
                hostname=self._host,
                port=self._port,
                start_tls=self._starttls,
                username=self._username,
                password=self._password,
                timeout=self._timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [e.code for e in exc.recipients]
            if codes and all(500 <= c < 600 for c in codes):
                raise PermanentDeliveryError(str(exc)) from exc
            raise RetryableError(f"smarthost deferred {recipient}: {exc}") from exc
        except aiosmtplib.SMTPResponseException as exc:
            if 500 <= exc.code < 600:
                raise PermanentDeliveryError(f"{exc.code} {exc.message}") from exc
            raise RetryableError(f"smarthost said {exc.code} {exc.message}") from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise RetryableError(f"smarthost unreachable: {exc!r}") from exc
        if errors:
            raise PermanentDeliveryError(str(errors))

    async def ping(self) -> bool:
        client = aiosmtplib.SMTP(hostname=self._host, port=self._port, timeout=3)
        await client.connect()
        await client.quit()
        return True
