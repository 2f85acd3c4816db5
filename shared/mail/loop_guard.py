"""RFC 3834 loop safety: does a mail come from a machine? (pure)

Small named rules, each giving its reason, in the manner of Mailman's rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from shared.events.mail import LoopFacts
from shared.mail.addresses import is_mailer_daemon

LOOP_HEADER = "X-Guichet-Loop"

Headers = Mapping[str, str]


def _auto_submitted(headers: Headers) -> str | None:
    value = headers.get("auto-submitted", "").strip().lower()
    keyword = re.sub(r"\([^)]*\)", " ", value).split(";", 1)[0].strip()  # RFC 3834 allows comments
    if keyword and keyword != "no":
        return f"Auto-Submitted: {value}"
    # (Outlook's X-Auto-Response-Suppress is a request to others, not a marker: ignored.)
    for name in ("x-autoreply", "x-autorespond"):
        if headers.get(name):
            return f"{name}: {headers[name]}"
    return None


def _bulk_or_list(headers: Headers) -> str | None:
    precedence = headers.get("precedence", "").strip().lower()
    if precedence in {"bulk", "junk", "list"}:
        return f"Precedence: {precedence}"
    for name in ("list-id", "list-unsubscribe"):
        if headers.get(name):
            return f"{name} present"
    return None


def _loop_names(value: str) -> set[str]:
    """Instance names in a loop header (several when mail went round more than one)."""
    return {n.strip().lower() for n in re.split(r"[,\s]+", value) if n.strip()}


def classify_loop(headers: Headers, sender: str, instance: str) -> LoopFacts:
    """Facts about a mail's automatic nature; ``headers`` keys must be lower-case."""
    rules: dict[str, Callable[[], str | None]] = {
        "auto_submitted": lambda: _auto_submitted(headers),
        "bulk_or_list": lambda: _bulk_or_list(headers),
        "mailer_daemon": lambda: (
            f"sender {sender} is a mailer daemon"
            if sender == "" or is_mailer_daemon(sender)
            else None
        ),
        "our_loop": lambda: (
            f"{LOOP_HEADER}: {instance}"
            if instance.lower() in _loop_names(headers.get(LOOP_HEADER.lower(), ""))
            else None
        ),
    }
    hits = {name: rule() for name, rule in rules.items()}
    reasons = tuple(r for r in hits.values() if r)
    return LoopFacts(**{name: bool(r) for name, r in hits.items()}, reasons=reasons)
