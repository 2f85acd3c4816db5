"""notify.domain.forwarding: what a forward carries — the note's own files first, then
each file of the public history, every file once."""

from __future__ import annotations

from datetime import timedelta

from services.notify.domain.forwarding import (
    HistoryEntry,
    forwarded_attachments,
    forwarded_history,
)
from shared.events.ticket import AttachmentInfo
from tests.unit.factories import AGENT, ALICE, NOW


def file(name: str, digit: str) -> AttachmentInfo:
    return AttachmentInfo(filename=name, content_type="application/pdf", size=1, sha256=digit * 64)


QUOTE, ORDER, NOTE = file("devis.pdf", "a"), file("bon.pdf", "b"), file("note.pdf", "c")


def test_the_notes_files_come_first_then_the_historys_each_once() -> None:
    history = [
        HistoryEntry(NOW, ALICE, "create", "Demande", (QUOTE,)),
        HistoryEntry(NOW + timedelta(hours=1), AGENT, "correspond", "Voici", (ORDER, QUOTE)),
    ]
    assert forwarded_attachments(history, (NOTE, ORDER)) == (NOTE, ORDER, QUOTE)
    assert forwarded_attachments(history) == (QUOTE, ORDER)


def test_comments_and_their_files_stay_inside() -> None:
    history = [
        HistoryEntry(NOW, ALICE, "create", "Demande"),
        HistoryEntry(NOW, AGENT, "comment", "Secret", (QUOTE,)),
    ]
    assert forwarded_attachments(forwarded_history(history)) == ()
