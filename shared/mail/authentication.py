"""Was a mail authenticated? Read from the ``Authentication-Results`` header (RFC 8601)
that the site's own MTA adds (pure).

Only a header whose authserv-id names one of the site's trusted MTAs counts — anyone can
write such a header into a mail — and of those the topmost, the last one added. The
verdict is ``pass`` when DMARC passed, or when DKIM or SPF passed for a domain aligned
with the From address's; ``fail`` when the trusted MTA checked and nothing passed;
``none`` when no trusted header is there.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from typing import Any

from shared.events.ticket import AuthenticationInfo
from shared.mail.parsing import read_headers


def header_values(raw: bytes, name: str) -> list[str]:
    """Every value of one header of a raw mail, topmost first (read leniently)."""
    return [str(v) for v in read_headers(raw).get_all(name) or []]


def _without_comments(value: str) -> str:
    previous = None
    while previous != value:  # nested comments: strip the innermost first
        previous, value = value, re.sub(r"\([^()]*\)", " ", value)
    return value


def _aligned(domain: str, from_domain: str) -> bool:
    """Relaxed alignment: the same domain, or one a subdomain of the other."""
    domain, from_domain = domain.lower().strip("."), from_domain.lower().strip(".")
    if not domain or not from_domain:
        return False
    return (
        domain == from_domain
        or from_domain.endswith("." + domain)
        or domain.endswith("." + from_domain)
    )


def _results(value: str) -> tuple[str, dict[str, list[dict[str, str]]]]:
    """The authserv-id and, per method, each result with its properties."""
    parts = [p.strip() for p in _without_comments(value).split(";")]
    authserv_id = parts[0].split()[0].lower() if parts and parts[0].split() else ""
    methods: dict[str, list[dict[str, str]]] = {}
    for part in parts[1:]:
        tokens = part.split()
        if not tokens or "=" not in tokens[0]:
            continue
        method, _, result = tokens[0].partition("=")
        props = {"result": result.lower()}
        for token in tokens[1:]:
            key, sep, val = token.partition("=")
            if sep:
                props[key.lower()] = val.strip('"').lower()
        methods.setdefault(method.lower(), []).append(props)
    return authserv_id, methods


def _domain_of(value: str) -> str:
    return value.rpartition("@")[2]


def authentication_of(
    header_values: Iterable[str], from_address: str, trusted_authserv_ids: Collection[str]
) -> AuthenticationInfo:
    trusted = {t.lower() for t in trusted_authserv_ids}
    from_domain = _domain_of(from_address)
    for value in header_values:  # topmost first, as the parser returns them
        authserv_id, methods = _results(value)
        if authserv_id not in trusted:
            continue

        def summary(
            method: str, domain_key: str | None = None, methods: dict[str, Any] = methods
        ) -> tuple[str, bool]:
            """The method's first result as written, and whether any aligned one passed."""
            found = methods.get(method, [])
            passed = any(
                r["result"] == "pass"
                and (domain_key is None or _aligned(_domain_of(r.get(domain_key, "")), from_domain))
                for r in found
            )
            return (found[0]["result"] if found else ""), passed

        dmarc, dmarc_pass = summary("dmarc")
        dkim, dkim_pass = summary("dkim", "header.d")
        spf, spf_pass = summary("spf", "smtp.mailfrom")
        checked = any((dmarc, dkim, spf))
        passed = dmarc_pass or (dmarc != "fail" and (dkim_pass or spf_pass))
        verdict = "pass" if passed else "fail"
        return AuthenticationInfo(
            verdict=verdict if checked else "none",
            authserv_id=authserv_id,
            spf=spf,
            dkim=dkim,
            dmarc=dmarc,
        )
    return AuthenticationInfo()
