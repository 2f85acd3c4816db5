"""Which queue an envelope recipient is for (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from shared.mail.addresses import normalize_address
from shared.rpc.tickets import MailRoutes


@dataclass(frozen=True)
class Destination:
    address: str
    kind: Literal["correspond", "comment", "postmaster"]
    queue: str | None


def resolve_recipient(address: str, routes: MailRoutes) -> Destination | None:
    """The destination of ``address``, or None when no queue serves it.

    ``postmaster`` (bare, or at any domain we serve) is always accepted, as RFC 5321 §4.5.1
    requires; its mail is kept for an operator, not turned into a ticket.
    """
    addr = normalize_address(address)
    route = routes.routes.get(addr)
    if route is not None:
        return Destination(addr, route.kind, route.queue)
    local, _, domain = addr.partition("@")
    served_domains = {a.partition("@")[2] for a in routes.routes}
    if local == "postmaster" and (not domain or domain in served_domains):
        return Destination(addr, "postmaster", None)
    return None
