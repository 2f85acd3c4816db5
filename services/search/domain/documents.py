"""What Guichet puts in OpenSearch (pure): the index definition and its documents.

One index behind the alias ``<ns>-tickets``, a versioned concrete index
(``<ns>-tickets-v3-<stamp>``) so a new mapping can be built beside the old and swapped in.
It holds three kinds of documents joined parent to child:

- ``ticket``: the ticket as it stands (status, people, custom fields…), written at the
  ticket's ``version`` with external versioning, so an old event never overwrites a newer
  state. Every permission and field filter applies to it: always current.
- ``message``: the text of one transaction (a mail, a reply, a comment), a child of its
  ticket. It never changes, so it carries none of the ticket's changing fields.
- ``attachment``: one file of a message with the text found inside it (a PDF quote).

Text is analysed for French (elision, light stemming) and English, accents folded both
ways ("devis" finds "Dévis"); addresses, statuses, queues and custom-field values are
exact keywords, folded too.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any

from services.search.domain.extraction import Extracted
from shared.events.ticket import AttachmentInfo, TicketSnapshot, TicketTxnEvent, TransactionInfo

MAPPING_VERSION = 3
JOIN = "doc_kind"
TICKET, MESSAGE, ATTACHMENT = "ticket", "message", "attachment"
# Transactions whose message only agents with ShowTicketComments may read.
PRIVATE_TXN_TYPES = frozenset({"comment"})

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
        "en_stop": {"type": "stop", "stopwords": "_english_"},
        "en_possessive": {"type": "stemmer", "language": "possessive_english"},
        "en_stem": {"type": "stemmer", "language": "light_english"},
    },
    "analyzer": {
        "fr_folded": {
            "tokenizer": "standard",
            "filter": ["fr_elision", "lowercase", "asciifolding", "fr_stop", "fr_stem"],
        },
        "en_folded": {
            "tokenizer": "standard",
            "filter": ["en_possessive", "lowercase", "asciifolding", "en_stop", "en_stem"],
        },
        "folded": {"tokenizer": "standard", "filter": ["lowercase", "asciifolding"]},
    },
    "normalizer": {"lower": {"type": "custom", "filter": ["lowercase", "asciifolding"]}},
}

_TEXT_FIELDS: dict[str, Any] = {
    "en": {"type": "text", "analyzer": "en_folded"},
    # Phrases are matched here: every word kept, accents folded. Its word pairs are indexed
    # too, so a phrase of common words ("bon de commande") reads the postings of its pairs,
    # not those of each word (mapping version 3).
    "exact": {"type": "text", "analyzer": "folded", "index_phrases": True},
}
# Offsets in the postings make highlighting long texts quick (no re-analysis).
_TEXT: dict[str, Any] = {
    "type": "text",
    "analyzer": "fr_folded",
    "index_options": "offsets",
    "fields": _TEXT_FIELDS,
}
_KEYWORD = {"type": "keyword", "normalizer": "lower"}

FIELDS: dict[str, Any] = {
    JOIN: {
        "type": "join",
        "relations": {TICKET: [MESSAGE, ATTACHMENT]},
        "eager_global_ordinals": True,
    },
    # the ticket
    "ticket_id": {"type": "long"},
    "queue": _KEYWORD,
    "subject": {**_TEXT, "fields": {**_TEXT_FIELDS, "raw": {"type": "keyword"}}},
    "status": _KEYWORD,
    "owner": _KEYWORD,
    "requestors": _KEYWORD,
    "ccs": _KEYWORD,
    "admin_ccs": _KEYWORD,
    "priority": {"type": "integer"},
    "created": {"type": "date"},
    "updated": {"type": "date"},
    "resolved": {"type": "date"},
    "resolution_seconds": {"type": "long"},
    "due": {"type": "date", "ignore_malformed": True},
    "starts": {"type": "date", "ignore_malformed": True},
    "merged_into": {"type": "long"},
    # Values by field name; names vary per queue, so they are mapped as they come (exact).
    "custom_fields": {"type": "object", "dynamic": True},
    "links": {"properties": {k: {"type": "long"} for k in ("DependsOn", "MemberOf", "RefersTo")}},
    "version": {"type": "long"},
    # a message or an attachment (children)
    "txn_id": {"type": "keyword"},
    "txn_type": {"type": "keyword"},
    "private": {"type": "boolean"},
    "creator": _KEYWORD,
    "sent": {"type": "date"},
    "text": _TEXT,
    "filename": {
        "type": "text",
        "analyzer": "folded",
        "fields": {"raw": {"type": "keyword"}},
    },
    "file_type": _KEYWORD,
    "content_type": _KEYWORD,
    "size": {"type": "long"},
    "sha256": {"type": "keyword"},
    "extraction": {"type": "keyword"},
    "extractor_version": {"type": "integer"},
}


def mapping_body() -> dict[str, Any]:
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
        "properties": FIELDS,
    }


def index_body(refresh_interval: str) -> dict[str, Any]:
    return {
        "settings": {
            "number_of_shards": 1,
            "number_of_replicas": 0,
            "refresh_interval": refresh_interval,
            "analysis": ANALYSIS,
            # a few very long quotes must not blow the highlighter up
            "highlight.max_analyzed_offset": 1_000_000,
        },
        "mappings": mapping_body(),
    }


# A document to write: where, at which version, and what.
Action = dict[str, Any]


def custom_field_key(name: str) -> str:
    """Where a custom field's value is indexed: its name folded to one search token
    ("DEM LOG", "dem_log" and "Dem.Log" are one field), so ``cf.DEM_LOG:1234`` finds it and
    a dot in a name never makes an object path."""
    return re.sub(r"[\s.]+", "_", name.strip()).casefold()


def ticket_document(ticket: TicketSnapshot) -> dict[str, Any]:
    data = ticket.model_dump(mode="json")
    data["ticket_id"] = data.pop("id")
    data["custom_fields"] = {
        custom_field_key(name): value for name, value in (data.get("custom_fields") or {}).items()
    }
    data[JOIN] = TICKET
    if ticket.resolved is not None and ticket.status == "resolved":
        data["resolution_seconds"] = max(0, int((ticket.resolved - ticket.created).total_seconds()))
    return data


def ticket_action(ticket: TicketSnapshot) -> Action:
    return {
        "_id": str(ticket.id),
        "routing": str(ticket.id),
        "version": ticket.version,
        "version_type": "external",
        "_source": ticket_document(ticket),
    }


def _child(ticket_id: int, version: int) -> dict[str, Any]:
    """Where a child goes; its text never changes, so ``external_gte`` lets a redelivery or
    a rebuild write the same document again without an error."""
    return {
        "routing": str(ticket_id),
        "version": version,
        "version_type": "external_gte",
    }


def _child_fields(ticket_id: int, txn: TransactionInfo, kind: str) -> dict[str, Any]:
    sender = (txn.message.from_address if txn.message else "") or txn.creator
    return {
        JOIN: {"name": kind, "parent": str(ticket_id)},
        "ticket_id": ticket_id,
        "txn_id": txn.id,
        "txn_type": txn.type,
        "private": txn.type in PRIVATE_TXN_TYPES,
        "creator": sender.lower(),
        "sent": txn.created.isoformat(),
    }


def message_action(ticket_id: int, txn: TransactionInfo, version: int) -> Action | None:
    """The searchable text of one transaction; None when it has no message."""
    if txn.message is None:
        return None
    # With its subject: words of the subject and of the text are found together (a search
    # joins each word list to one message), and a reply may name what the ticket does not.
    text = txn.message.text
    if txn.message.subject:
        text = f"{txn.message.subject}\n{text}"
    return {
        "_id": txn.id,
        **_child(ticket_id, version),
        "_source": {**_child_fields(ticket_id, txn, MESSAGE), "text": text},
    }


def attachment_id(txn_id: str, index: int) -> str:
    return f"{txn_id}:{index}"


def file_type(info: AttachmentInfo) -> str:
    """What a person calls the file's type: its extension, else the content type's subtype."""
    extension = posixpath.splitext(info.filename)[1].lstrip(".").lower()
    if extension and extension.isalnum() and len(extension) <= 10:
        return extension
    return info.content_type.rpartition("/")[2].lower() or "bin"


def attachment_action(
    ticket_id: int,
    txn: TransactionInfo,
    version: int,
    index: int,
    info: AttachmentInfo,
    extracted: Extracted,
    extractor_version: int,
) -> Action:
    return {
        "_id": attachment_id(txn.id, index),
        **_child(ticket_id, version),
        "_source": {
            **_child_fields(ticket_id, txn, ATTACHMENT),
            "filename": info.filename,
            "file_type": file_type(info),
            "content_type": info.content_type.lower(),
            "size": info.size,
            "sha256": info.sha256,
            "text": extracted.text,
            "extraction": extracted.status,
            "extractor_version": extractor_version,
        },
    }


def event_actions(event: TicketTxnEvent) -> list[Action]:
    """The ticket and its message (the attachments' text needs I/O: the caller adds them)."""
    actions = [ticket_action(event.ticket)]
    message = message_action(event.ticket.id, event.transaction, event.ticket.version)
    if message is not None:
        actions.append(message)
    return actions
