"""Mail addresses: normalising and recognising them (pure)."""

from __future__ import annotations

from email.utils import getaddresses, parseaddr

_DAEMON_LOCALPARTS = frozenset(
    {"mailer-daemon", "postmaster", "mail-daemon", "maildaemon", "mailerdaemon", "bounce"}
)


def normalize_address(address: str) -> str:
    """The comparable form of an address: ``"Alice" <Alice@Example.NET>`` → ``alice@example.net``.

    The whole address is lower-cased: local parts are case-insensitive on every mail
    system a ticket tracker meets, and treating them so avoids duplicate users.
    """
    _, addr = parseaddr(address)
    return (addr or address).strip().strip("<>").lower()


def parse_address_list(values: list[str] | tuple[str, ...]) -> list[str]:
    """Addresses of ``To``/``Cc``-style header values, normalised, in order, de-duplicated."""
    seen: dict[str, None] = {}
    for _, addr in getaddresses([str(v) for v in values]):
        norm = normalize_address(addr) if addr else ""
        if "@" in norm:
            seen.setdefault(norm, None)
    return list(seen)


def is_mailer_daemon(address: str) -> bool:
    local = normalize_address(address).split("@", 1)[0]
    return local in _DAEMON_LOCALPARTS or local.startswith(("mailer-daemon", "bounce-", "bounces"))
