"""What a forwarded ticket carries (pure): its public history, never its comments."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from shared.events.ticket import AttachmentInfo

# What a requestor could see of a ticket: its creation and its correspondence.
FORWARDED_KINDS = frozenset({"create", "correspond"})


@dataclass(frozen=True)
class HistoryEntry:
    created: datetime
    creator: str
    type: str
    text: str
    attachments: tuple[AttachmentInfo, ...] = ()


def forwarded_history(entries: Iterable[HistoryEntry]) -> list[HistoryEntry]:
    """The entries a forward carries outside, oldest first: creation and correspondence
    with something in them. Comments are internal and stay in."""
    kept = [e for e in entries if e.type in FORWARDED_KINDS and (e.text.strip() or e.attachments)]
    return sorted(kept, key=lambda e: e.created)


def forwarded_attachments(
    entries: Iterable[HistoryEntry], note_files: Iterable[AttachmentInfo] = ()
) -> tuple[AttachmentInfo, ...]:
    """The files sent with the forward's own note, then each file of the forwarded history;
    each once (the same quote sent twice goes once)."""
    unique: dict[str, AttachmentInfo] = {}
    for attachment in note_files:
        unique.setdefault(attachment.sha256, attachment)
    for entry in entries:
        for attachment in entry.attachments:
            unique.setdefault(attachment.sha256, attachment)
    return tuple(unique.values())
