"""Which ticket a mail belongs to (pure).

First the subject tag of this instance (or of an accepted former name), then our own
Message-IDs and every Message-ID the ticket has seen, found in In-Reply-To/References.
A tag is trusted only if its ticket exists and lives in the queue the mail was sent to.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from shared.mail.subject_tag import find_ticket_ids


@dataclass(frozen=True)
class ThreadingDecision:
    ticket_id: int | None
    reason: str


def ticket_ids_in_our_message_ids(message_ids: Iterable[str], rtnames: Iterable[str]) -> list[int]:
    """Ticket ids encoded in the Message-IDs of mails we sent (see notify), under the
    current name or a former one."""
    names = "|".join(re.escape(n) for n in rtnames if n)
    if not names:
        return []
    pattern = re.compile(r"^<guichet\.(?:" + names + r")\.(\d+)\.", re.IGNORECASE)
    ids: list[int] = []
    for mid in message_ids:
        match = pattern.match(mid)
        if match and int(match.group(1)) not in ids:
            ids.append(int(match.group(1)))
    return ids


def thread_mail(
    *,
    subject: str,
    referenced_ids: Iterable[str],
    rtnames: Iterable[str],
    queue: str,
    ticket_queues: dict[int, str],
    ticket_by_message_id: int | None,
) -> ThreadingDecision:
    """Decide the ticket of a mail sent to ``queue``.

    ``ticket_queues`` maps each candidate ticket id (from tags and our Message-IDs) that
    exists to its queue; ``ticket_by_message_id`` is the ticket that has already seen one of
    the referenced Message-IDs, if any.
    """
    names = list(rtnames)
    refused: list[str] = []
    for ticket_id in find_ticket_ids(subject, names):
        found = ticket_queues.get(ticket_id)
        if found == queue:
            return ThreadingDecision(ticket_id, f"subject tag #{ticket_id}")
        refused.append(
            f"tag #{ticket_id} ignored: "
            + ("no such ticket" if found is None else f"ticket is in another queue ({found})")
        )
    referenced = list(referenced_ids)
    for ticket_id in ticket_ids_in_our_message_ids(referenced, names):
        if ticket_queues.get(ticket_id) == queue:
            return ThreadingDecision(ticket_id, f"reply to our message about #{ticket_id}")
    if ticket_by_message_id is not None and ticket_queues.get(ticket_by_message_id) == queue:
        return ThreadingDecision(ticket_by_message_id, "References/In-Reply-To")
    return ThreadingDecision(None, "; ".join(refused) or "new conversation")
