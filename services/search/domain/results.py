"""OpenSearch answers become the search service's answers (pure)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.search.domain.documents import ATTACHMENT
from shared.rpc.search import (
    Aggregation,
    AttachmentHit,
    AttachmentResult,
    Bucket,
    Highlight,
    SearchHit,
    SearchResult,
)


def _total(result: dict[str, Any]) -> int:
    total = result["hits"]["total"]
    return int(total["value"] if isinstance(total, dict) else total)


def _highlights(hit: dict[str, Any]) -> list[Highlight]:
    found = []
    highlight = hit.get("highlight", {})
    if subject := highlight.get("subject") or highlight.get("subject.exact"):
        found.append(Highlight(where="subject", fragments=tuple(subject)))
    for kind, inner in sorted(hit.get("inner_hits", {}).items()):
        for child in inner["hits"]["hits"]:
            fragments = child.get("highlight", {})
            text = fragments.get("text") or fragments.get("text.exact")
            passages = tuple(text or fragments.get("filename", ()))
            if not passages:
                continue
            source = child.get("_source", {})
            where = "attachment" if kind == ATTACHMENT else "message"
            if where == "message" and source.get("txn_type") == "comment":
                where = "comment"
            found.append(
                Highlight(
                    where=where,
                    fragments=passages,
                    transaction=source.get("txn_id"),
                    filename=source.get("filename"),
                )
            )
    return found


def ticket_result(result: dict[str, Any], *, ticket_asked: int | None = None) -> SearchResult:
    items = []
    for hit in result["hits"]["hits"]:
        doc = hit["_source"]
        items.append(
            SearchHit(
                id=doc["ticket_id"],
                subject=doc["subject"],
                status=doc["status"],
                queue=doc["queue"],
                owner=doc.get("owner", "Nobody"),
                requestors=tuple(doc.get("requestors", ())),
                priority=doc.get("priority", 0),
                created=doc.get("created"),
                updated=doc.get("updated"),
                highlights=tuple(_highlights(hit)),
                sort=tuple(hit.get("sort", ())),
            )
        )
    found = (
        ticket_asked
        if ticket_asked is not None and any(i.id == ticket_asked for i in items)
        else None
    )
    return SearchResult(total=_total(result), items=items, ticket=found)


def attachment_result(result: dict[str, Any]) -> AttachmentResult:
    items = []
    for hit in result["hits"]["hits"]:
        doc = hit["_source"]
        highlight = hit.get("highlight", {})
        items.append(
            AttachmentHit(
                ticket=doc["ticket_id"],
                transaction=doc["txn_id"],
                filename=doc.get("filename", ""),
                content_type=doc.get("content_type", ""),
                size=doc.get("size", 0),
                sha256=doc.get("sha256", ""),
                sender=doc.get("creator", ""),
                sent=datetime.fromisoformat(doc["sent"]),
                extraction=doc.get("extraction", ""),
                fragments=tuple(highlight.get("text", ()) or highlight.get("filename", ())),
                sort=tuple(hit.get("sort", ())),
            )
        )
    return AttachmentResult(total=_total(result), items=items)


def _buckets(aggregation: dict[str, Any]) -> list[Bucket]:
    return [Bucket(key=str(b["key"]), count=b["doc_count"]) for b in aggregation["buckets"]]


def _weeks(aggregation: dict[str, Any]) -> list[Bucket]:
    return [
        Bucket(key=b["key_as_string"][:10], count=b["doc_count"])
        for b in aggregation["weeks"]["buckets"]
    ]


def aggregation_result(result: dict[str, Any]) -> Aggregation:
    aggs = result["aggregations"]
    percentiles = aggs["resolution"]["values"]
    return Aggregation(
        total=_total(result),
        by_status=_buckets(aggs["by_status"]),
        by_queue=_buckets(aggs["by_queue"]),
        by_owner=_buckets(aggs["by_owner"]),
        created_per_week=_weeks(aggs["created"]),
        resolved_per_week=_weeks(aggs["resolved"]),
        resolution_seconds={
            str(int(float(k))): (None if v is None else round(float(v), 1))
            for k, v in percentiles.items()
        },
    )
