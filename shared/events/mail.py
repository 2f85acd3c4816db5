"""Events about mail entering the system."""

from __future__ import annotations

import base64
from typing import ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.events.envelope import EventPayload


class LoopFacts(BaseModel):
    """What ingest found about a mail's automatic nature (RFC 3834); notify must never
    autoreply when ``suppress_autoreply`` is true."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    auto_submitted: bool = False
    bulk_or_list: bool = False
    mailer_daemon: bool = False
    our_loop: bool = False
    reasons: tuple[str, ...] = ()

    @property
    def suppress_autoreply(self) -> bool:
        return self.auto_submitted or self.bulk_or_list or self.mailer_daemon or self.our_loop


class MailReceived(EventPayload):
    """A mail was accepted by ingest for one queue address and is durably stored.

    One event per (mail, recipient address): ``mail_key`` — the SHA-256 of the raw bytes
    and the recipient — is the idempotency key of everything that follows.
    """

    event_type: ClassVar[str] = "mail.received"
    schema_version: ClassVar[int] = 1

    mail_key: str = Field(min_length=64, max_length=64)
    raw_sha256: str = Field(min_length=64, max_length=64)
    raw_size: int = Field(ge=0)
    raw_b64: str
    spool_ref: str
    mail_from: str
    recipient: str
    recipient_kind: Literal["correspond", "comment", "postmaster"]
    queue: str | None
    all_recipients: tuple[str, ...] = ()
    peer: str = ""
    helo: str = ""
    received_at: AwareDatetime
    loop: LoopFacts = LoopFacts()

    def raw_bytes(self) -> bytes:
        return base64.b64decode(self.raw_b64)
