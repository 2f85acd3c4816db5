"""search.domain.results: OpenSearch answers become the service's answers."""

from __future__ import annotations

import pytest

from services.search.domain.results import aggregation_result, attachment_result, ticket_result

pytestmark = pytest.mark.unit

TICKET_HIT = {
    "_source": {
        "ticket_id": 7,
        "subject": "Écran",
        "status": "open",
        "queue": "achats",
        "owner": "agent@example.org",
        "requestors": ["alice@example.net"],
        "priority": 2,
        "created": "2026-11-25T10:00:00Z",
        "updated": "2026-11-25T11:00:00Z",
    },
    "sort": [3.2, 7],
    "highlight": {"subject": ["<mark>Écran</mark>"]},
    "inner_hits": {
        "message": {
            "hits": {
                "hits": [
                    {
                        "_source": {"txn_id": "t1", "txn_type": "comment"},
                        "highlight": {"text": ["un <mark>écran</mark> cassé"]},
                    },
                    {"_source": {"txn_id": "t2", "txn_type": "correspond"}},  # no passage
                ]
            }
        },
        "attachment": {
            "hits": {
                "hits": [
                    {
                        "_source": {"txn_id": "t3", "filename": "devis.pdf"},
                        "highlight": {"filename": ["<mark>devis</mark>.pdf"]},
                    }
                ]
            }
        },
    },
}


def test_a_ticket_hit_keeps_its_fields_sort_values_and_passages() -> None:
    result = ticket_result({"hits": {"total": {"value": 1}, "hits": [TICKET_HIT]}})
    [item] = result.items
    assert (item.id, item.owner, item.priority, item.sort) == (7, "agent@example.org", 2, (3.2, 7))
    assert [(h.where, h.transaction, h.filename) for h in item.highlights] == [
        ("subject", None, None),
        ("attachment", "t3", "devis.pdf"),
        ("comment", "t1", None),
    ]
    assert result.ticket is None


def test_the_ticket_asked_by_number_is_named_only_when_it_was_found() -> None:
    hits = {"hits": {"total": {"value": 1}, "hits": [TICKET_HIT]}}
    assert ticket_result(hits, ticket_asked=7).ticket == 7
    empty = {"hits": {"total": {"value": 0}, "hits": []}}
    assert ticket_result(empty, ticket_asked=7).ticket is None


def test_an_attachment_hit_names_its_ticket_sender_and_passages() -> None:
    hit = {
        "_source": {
            "ticket_id": 7,
            "txn_id": "t3",
            "filename": "devis.pdf",
            "content_type": "application/pdf",
            "size": 1234,
            "sha256": "a" * 64,
            "creator": "bob@supplier.example",
            "sent": "2026-11-25T10:00:00+00:00",
            "extraction": "ok",
        },
        "highlight": {"text": ["<mark>FR-7781</mark>"]},
        "sort": [1, "t3"],
    }
    result = attachment_result({"hits": {"total": {"value": 1}, "hits": [hit]}})
    [item] = result.items
    assert (item.ticket, item.sender, item.fragments) == (
        7,
        "bob@supplier.example",
        ("<mark>FR-7781</mark>",),
    )


def test_dashboard_buckets_weeks_and_percentiles() -> None:
    weeks = {
        "weeks": {"buckets": [{"key_as_string": "2026-11-23T00:00:00.000+01:00", "doc_count": 3}]}
    }
    answer = {
        "hits": {"total": {"value": 3}},
        "aggregations": {
            "by_status": {"buckets": [{"key": "open", "doc_count": 2}]},
            "by_queue": {"buckets": [{"key": "achats", "doc_count": 3}]},
            "by_owner": {"buckets": []},
            "created": weeks,
            "resolved": {"weeks": {"buckets": []}},
            "resolution": {"values": {"50.0": 3600.0, "95.0": None}},
        },
    }
    result = aggregation_result(answer)
    assert result.total == 3
    assert [(b.key, b.count) for b in result.created_per_week] == [("2026-11-23", 3)]
    assert result.resolution_seconds == {"50": 3600.0, "95": None}
