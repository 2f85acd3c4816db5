"""The quick-search language (pure): free words, "phrases", ``field:value`` tokens, and a
bare number that names a ticket. Permissions go inside the query, never after it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from shared.rpc.search import Principal

FIELD_TOKENS = {
    "queue": "queue",
    "file": "queue",
    "status": "status",
    "statut": "status",
    "owner": "owner",
    "requestor": "requestors",
    "demandeur": "requestors",
    "cc": "ccs",
    "admincc": "admin_ccs",
}


@dataclass(frozen=True)
class QuickQuery:
    words: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    filters: tuple[tuple[str, str], ...] = ()
    ticket_id: int | None = None
    unknown: tuple[str, ...] = field(default=())


def parse_quick_query(text: str, *, me: str) -> QuickQuery:
    # Only double quotes make phrases: an apostrophe is French elision (l'achat), not a
    # quote; a quote left open is ignored; `field:"two words"` is one field value.
    tokens: list[str] = []
    quoted: set[str] = set()
    for name, phrase, word in re.findall(r'(?:([\w.]+):)?"([^"]*)"|(\S+)', text):
        if name:
            tokens.append(f"{name}:{phrase.strip()}")
        elif phrase.strip():
            tokens.append(phrase.strip())
            quoted.add(phrase.strip())
        elif word.replace('"', ""):
            tokens.append(word.replace('"', ""))
    words: list[str] = []
    phrases: list[str] = []
    filters: list[tuple[str, str]] = []
    unknown: list[str] = []
    for token in tokens:
        name, sep, value = token.partition(":")
        if sep and value and name.lower() in FIELD_TOKENS:
            value = me if value.lower() in {"me", "moi"} else value
            filters.append((FIELD_TOKENS[name.lower()], value.lower()))
        elif sep and value and re.fullmatch(r"[a-zA-Z_.]+", name) and "@" not in token:
            unknown.append(token)
        elif token in quoted and " " in token:
            phrases.append(token)
        else:
            words.append(token)
    ticket_id = None
    if len(words) == 1 and not phrases and not filters and re.fullmatch(r"#?\d{1,12}", words[0]):
        ticket_id = int(words[0].lstrip("#"))
    return QuickQuery(tuple(words), tuple(phrases), tuple(filters), ticket_id, tuple(unknown))


def permission_filter(principal: Principal) -> list[dict[str, Any]]:
    """Clauses every search of ``principal`` must satisfy (inside the OpenSearch query)."""
    if principal.is_admin or principal.privileged:
        return [{"bool": {"must_not": {"term": {"status": "deleted"}}}}]
    # Self-service: the tickets they asked for, or follow as Cc (the same as ShowTicket).
    return [
        {
            "bool": {
                "should": [
                    {"term": {"requestors": principal.email}},
                    {"term": {"ccs": principal.email}},
                ],
                "minimum_should_match": 1,
            }
        },
        {
            "bool": {
                "must_not": [{"term": {"status": "deleted"}}, {"term": {"txn_type": "comment"}}]
            }
        },
    ]


def to_opensearch(query: QuickQuery, principal: Principal) -> dict[str, Any]:
    must: list[dict[str, Any]] = []
    text = " ".join(query.words)
    if query.ticket_id is not None:
        must.append({"term": {"ticket_id": query.ticket_id}})
    elif text:
        must.append(
            {
                "multi_match": {
                    "query": text,
                    "fields": ["subject^3", "text", "attachment_names", "requestors", "ccs"],
                    "operator": "and",
                }
            }
        )
    for phrase in query.phrases:
        must.append(
            {"multi_match": {"query": phrase, "type": "phrase", "fields": ["subject", "text"]}}
        )
    filters = [{"term": {name: value}} for name, value in query.filters]
    return {
        "bool": {
            "must": must or [{"match_all": {}}],
            "filter": filters + permission_filter(principal),
        }
    }
