"""The ``[<rtname> #<id>]`` subject tag that threads replies to their ticket (pure)."""

from __future__ import annotations

import re
from collections.abc import Iterable


def format_tag(rtname: str, ticket_id: int) -> str:
    return f"[{rtname} #{ticket_id}]"


def tagged_subject(rtname: str, ticket_id: int, subject: str) -> str:
    """``subject`` with the ticket's tag in front, unless it is already there."""
    if ticket_id in find_ticket_ids(subject, [rtname]):  # already tagged, in whatever case
        return subject
    return f"{format_tag(rtname, ticket_id)} {subject}".rstrip()


def find_ticket_ids(subject: str, rtnames: Iterable[str]) -> list[int]:
    """Ticket numbers tagged in ``subject`` for any of ``rtnames``, in order of appearance.

    Mail clients mangle tags (``[Example #12]``, ``[ example  #12 ]``, ``RE: AW:``): names
    compare case-insensitively and spacing inside the brackets is forgiven.
    """
    names = [re.escape(n) for n in rtnames if n]
    if not names:
        return []
    pattern = re.compile(r"\[\s*(?:" + "|".join(names) + r")\s+#\s*(\d{1,12})\s*\]", re.IGNORECASE)
    ids: list[int] = []
    for match in pattern.finditer(subject or ""):
        value = int(match.group(1))
        if value > 0 and value not in ids:
            ids.append(value)
    return ids
