"""Helpers of the tickets integration tests."""

from __future__ import annotations

import uuid
from typing import Any

from services.tickets.domain.model import Queue
from shared.events.envelope import Envelope
from shared.rpc import tickets as rpc
from tests.support import EventTap, mail_received

__all__ = ["EventTap"]  # where these tests find it

QUEUE = Queue("achats", "achats@tickets.example.org", "achats-comment@tickets.example.org")


def envelope_of(raw: bytes, **extra: Any) -> Envelope[Any]:
    return Envelope.wrap(mail_received(raw, **extra), producer="ingest", correlation_id="smtp-1")


def ticket_command(ticket: int, action: str, actor: str, **params: Any) -> rpc.TicketCommand:
    """A command with a fresh id, as the web gateway would send it."""
    return rpc.TicketCommand(
        command_id=f"test-{uuid.uuid4()}",
        actor=actor,
        ticket=ticket,
        action=action,
        **params,
    )


def queue_change(name: str = "achats", **changes: Any) -> rpc.UpsertQueue:
    """An administrator's edit of a queue (``achats`` keeps its usual addresses)."""
    addresses = {
        "correspond_address": f"{name}@tickets.example.org",
        "comment_address": f"{name}-comment@tickets.example.org",
    }
    return rpc.UpsertQueue(actor=rpc.SYSTEM_ACTOR, name=name, **{**addresses, **changes})
