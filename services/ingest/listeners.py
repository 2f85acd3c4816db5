"""The SMTP and LMTP listeners: ingest's protocols (``protocols.py``) around the one
``IngestHandler``.

Both advertise SIZE (a larger mail is refused with 552 at MAIL, or after its data),
SMTPUTF8 and 8BITMIME, and STARTTLS when a certificate is configured.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from aiosmtpd.smtp import SMTP

from services.ingest.protocols import IngestLMTP, IngestSMTP
from services.ingest.smtp_handler import IngestHandler

IDENT = "Guichet ingest"
P = TypeVar("P", bound=SMTP)


@dataclass(frozen=True)
class ListenerOptions:
    hostname: str  # the name in the greeting and the EHLO/LHLO reply
    max_message_bytes: int
    tls: ssl.SSLContext | None = None


def server_tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A server context for STARTTLS. Client certificates are not asked for: an MTA that
    relays to us is known by its address (the allow-list), not by a certificate."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def smtp_protocol(handler: IngestHandler, options: ListenerOptions) -> IngestSMTP:
    return _protocol(IngestSMTP, handler, options)


def lmtp_protocol(handler: IngestHandler, options: ListenerOptions) -> IngestLMTP:
    return _protocol(IngestLMTP, handler, options)


def _protocol(kind: type[P], handler: IngestHandler, options: ListenerOptions) -> P:
    return kind(
        handler,
        hostname=options.hostname,
        ident=IDENT,
        data_size_limit=options.max_message_bytes,
        enable_SMTPUTF8=True,
        tls_context=options.tls,
    )


async def listen(protocol: Callable[[], SMTP], *, host: str, port: int) -> asyncio.Server:
    return await asyncio.get_running_loop().create_server(protocol, host=host, port=port)
