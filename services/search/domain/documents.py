"""What Guichet puts in OpenSearch (pure): index definitions and documents.

Two indices behind aliases (``<ns>-tickets``, ``<ns>-messages``), each a versioned
concrete index (``…-v1``) so a new mapping can be built beside the old and swapped in.
Text is analysed for French with accents folded ("devis" finds "Dévis"); addresses,
statuses and queues are exact keywords.
"""

from __future__ import annotations

from typing import Any

from shared.events.ticket import TicketSnapshot, TicketTxnEvent

MAPPING_VERSION = 1

ANALYSIS: dict[str, Any] = {
    "filter": {
        "fr_elision": {
            "type": "elision",
            "articles_case": True,
            "articles": [
                "l",
                "m",
                "t",
                "qu",
                "n",
                "s",
                "j",
                "d",
                "c",
                "jusqu",
                "quoiqu",
                "lorsqu",
                "puisqu",
            ],
        },
        "fr_stop": {"type": "stop", "stopwords": "_french_"},
        "fr_stem": {"type": "stemmer", "language": "light_french"},
    },
    "analyzer": {
        "fr_folded": {
            "tokenizer": "standard",
            "filter": ["fr_elision", "lowercase", "asciifolding", "fr_stop", "fr_stem"],
        },
        "folded": {"tokenizer": "standard", "filter": ["lowercase", "asciifolding"]},
    },
    "normalizer": {"lower": {"type": "custom", "filter": ["lowercase", "asciifolding"]}},
}

_FOLDED_EXACT: dict[str, Any] = {"exact": {"type": "text", "analyzer": "folded"}}
_TEXT: dict[str, Any] = {"type": "text", "analyzer": "fr_folded", "fields": _FOLDED_EXACT}
_KEYWORD = {"type": "keyword", "normalizer": "lower"}

TICKET_FIELDS: dict[str, Any] = {
    "ticket_id": {"type": "long"},
    "queue": _KEYWORD,
    "subject": {**_TEXT, "fields": {**_FOLDED_EXACT, "raw": {"type": "keyword"}}},
    "status": _KEYWORD,
    "owner": _KEYWORD,
    "requestors": _KEYWORD,
    "ccs": _KEYWORD,
    "admin_ccs": _KEYWORD,
    "priority": {"type": "integer"},
    "created": {"type": "date"},
    "updated": {"type": "date"},
    "resolved": {"type": "date"},
    "due": {"type": "date"},
    "starts": {"type": "date"},
    "merged_into": {"type": "long"},
    # Values by field name; names vary per queue, so they are mapped as they come (exact).
    "custom_fields": {"type": "object", "dynamic": True},
    "links": {"properties": {k: {"type": "long"} for k in ("DependsOn", "MemberOf", "RefersTo")}},
    "version": {"type": "long"},
}

MESSAGE_FIELDS: dict[str, Any] = {
    **TICKET_FIELDS,
    "txn_id": {"type": "keyword"},
    "txn_type": {"type": "keyword"},
    "creator": _KEYWORD,
    "txn_created": {"type": "date"},
    "text": _TEXT,
    "attachment_names": {"type": "text", "analyzer": "folded"},
}


def mapping_body(fields: dict[str, Any]) -> dict[str, Any]:
    """Strict, except custom field values: exact (folded) keywords, whatever their name."""
    return {
        "dynamic": "strict",
        "dynamic_templates": [
            {
                "custom_fields": {
                    "path_match": "custom_fields.*",
                    "mapping": {"type": "keyword", "normalizer": "lower"},
                }
            }
        ],
        "properties": fields,
    }


def index_body(fields: dict[str, Any], refresh_interval: str) -> dict[str, Any]:
    return {
        "settings": {
            "number_of_shards": 1,
            "number_of_replicas": 0,
            "refresh_interval": refresh_interval,
            "analysis": ANALYSIS,
        },
        "mappings": mapping_body(fields),
    }


def ticket_document(ticket: TicketSnapshot) -> dict[str, Any]:
    data = ticket.model_dump(mode="json")
    data["ticket_id"] = data.pop("id")
    return data


def message_document(event: TicketTxnEvent) -> dict[str, Any] | None:
    """The searchable text of one transaction, carrying its ticket's fields for filters."""
    txn = event.transaction
    if txn.message is None:
        return None
    return {
        **ticket_document(event.ticket),
        "txn_id": txn.id,
        "txn_type": txn.type,
        "creator": txn.creator,
        "txn_created": txn.created.isoformat(),
        "text": txn.message.text,
        "attachment_names": " ".join(a.filename for a in txn.message.attachments),
    }
