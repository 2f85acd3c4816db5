"""Events about the mails Guichet sends."""

from __future__ import annotations

from typing import ClassVar

from pydantic import AwareDatetime, Field

from shared.events.envelope import EventPayload


class DeliveryFailed(EventPayload):
    """The smarthost refused one of our mails for good (an SMTP 5xx): the recipient will
    not get it. For the tickets service to show on the ticket, and for agents to act on.

    The envelope's id is derived from (transaction, recipient), so a failure reported
    twice is recognisably the same event.
    """

    event_type: ClassVar[str] = "notify.delivery.failed"

    ticket: int = Field(ge=1)
    queue: str
    transaction: str  # the ticket transaction the mail was about
    recipient: str
    rule: str  # which notification rule sent it (e.g. on_correspond_notify_requestors_and_ccs)
    template: str
    message_id: str  # the Message-ID the mail would have had
    smtp_code: int | None = None
    error: str
    failed_at: AwareDatetime


DELIVERY_EVENTS: tuple[type[EventPayload], ...] = (DeliveryFailed,)
