"""The ticket aggregate and its transactions (pure: time and ids come in as arguments)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from services.tickets.domain.custom_fields import CustomFieldDefinition
from shared.events.ticket import (
    NOBODY,
    MailFacts,
    MessageInfo,
    QueueInfo,
    Status,
    TicketSnapshot,
    TransactionInfo,
)

LINK_KINDS = ("DependsOn", "MemberOf", "RefersTo")


@dataclass(frozen=True)
class Queue:
    name: str
    correspond_address: str
    comment_address: str
    language: str = "fr"
    description: str = ""
    custom_fields: tuple[CustomFieldDefinition, ...] = ()
    ccs: tuple[str, ...] = ()  # watchers of every ticket of the queue
    admin_ccs: tuple[str, ...] = ()
    # Mail policies: the Ccs of a ticket's first mail become its Ccs; those of later
    # replies too (off, as in RT); a reply from someone not on the ticket is taken as
    # correspondence or turned into a comment; commands by mail need an authenticated mail.
    ccs_from_create: bool = True
    ccs_from_replies: bool = False
    unknown_sender: str = "accept"  # or "comment"
    commands_need_authentication: bool = False

    def info(self, rtname: str) -> QueueInfo:
        return QueueInfo(
            name=self.name,
            correspond_address=self.correspond_address,
            comment_address=self.comment_address,
            rtname=rtname,
            language=self.language,
            ccs=self.ccs,
            admin_ccs=self.admin_ccs,
        )


@dataclass(frozen=True)
class Ticket:
    id: int
    queue: str
    subject: str
    status: Status
    created: datetime
    updated: datetime
    version: int
    owner: str = NOBODY
    requestors: tuple[str, ...] = ()
    ccs: tuple[str, ...] = ()
    admin_ccs: tuple[str, ...] = ()
    priority: int = 0
    resolved: datetime | None = None
    message_ids: tuple[str, ...] = field(default=())
    # Links from this ticket: (kind, target) with kind DependsOn, MemberOf (its parent) or
    # RefersTo; the reverse side (DependedOnBy, Members, ReferredToBy) is found by query.
    links: tuple[tuple[str, int], ...] = field(default=())
    due: str | None = None  # YYYY-MM-DD
    starts: str | None = None  # YYYY-MM-DD
    # Set when this ticket was merged into another: its number then leads there.
    merged_into: int | None = None
    # Custom field values by the field's name as the queue defines it.
    custom_fields: tuple[tuple[str, str], ...] = field(default=())

    def snapshot(self) -> TicketSnapshot:
        return TicketSnapshot(
            id=self.id,
            queue=self.queue,
            subject=self.subject,
            status=self.status,
            owner=self.owner,
            requestors=self.requestors,
            ccs=self.ccs,
            admin_ccs=self.admin_ccs,
            priority=self.priority,
            created=self.created,
            updated=self.updated,
            resolved=self.resolved,
            links={kind: [t for k, t in self.links if k == kind] for kind in LINK_KINDS},
            custom_fields=dict(self.custom_fields),
            due=self.due,
            starts=self.starts,
            merged_into=self.merged_into,
            version=self.version,
        )

    def with_changes(self, now: datetime, **changes: Any) -> Ticket:
        """The next version of this ticket."""
        return replace(self, **changes, updated=now, version=self.version + 1)


@dataclass(frozen=True)
class Transaction:
    id: str
    ticket: int
    seq: int
    type: str
    creator: str
    created: datetime
    message: MessageInfo | None = None
    old_value: str | None = None
    new_value: str | None = None
    note: str | None = None
    mail: MailFacts | None = None  # what the mail behind it carried (commands, sender…)

    def info(self) -> TransactionInfo:
        """The transaction as events and exports carry it."""
        return TransactionInfo(
            id=self.id,
            seq=self.seq,
            type=self.type,
            creator=self.creator,
            created=self.created,
            message=self.message,
            old_value=self.old_value,
            new_value=self.new_value,
            note=self.note,
            mail=self.mail,
        )
