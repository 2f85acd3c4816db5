"""Which hosts may hand mail over to ingest (pure)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

Network = IPv4Network | IPv6Network


def parse_networks(text: str) -> tuple[Network, ...]:
    """``"10.0.0.0/8, 192.0.2.25 2001:db8::/32"`` → networks (a bare address is one host).

    Host bits set (``192.0.2.25/24``) are refused rather than guessed: a typo in an
    allow-list must stop the service, not widen or narrow who may send.
    """
    return tuple(ip_network(item, strict=True) for item in re.split(r"[\s,]+", text) if item)


def peer_allowed(host: str, allowed: Sequence[Network]) -> bool:
    """Whether a connection from ``host`` may send mail; an empty list allows everyone."""
    if not allowed:
        return True
    try:
        address = ip_address(host.partition("%")[0])  # an IPv6 zone (fe80::1%eth0) aside
    except ValueError:
        return False  # not an IP peer (a Unix socket): only an open list lets it in
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # a dual-stack socket shows IPv4 peers as ::ffff:a.b.c.d
    return any(address in network for network in allowed)
