"""Conditions become OpenSearch queries (pure), with the asker's reach inside them.

Every query runs on ``ticket`` documents (always current) or, for the archive, on
``attachment`` documents under a visible ticket. Text is found in children with
``has_child``; comments, and files that came with comments, count only where the asker
holds ShowTicketComments. So a ticket they may not see never shows — not in hits, counts,
aggregations or highlights.
"""

from __future__ import annotations

from typing import Any

from services.search.domain.documents import (
    ATTACHMENT,
    JOIN,
    MESSAGE,
    TICKET,
    custom_field_key,
)
from shared.rpc.search import (
    AllOf,
    AnyOf,
    Condition,
    ExactCondition,
    HasCondition,
    NotCondition,
    RangeCondition,
    SearchAttachments,
    SortKey,
    TextCondition,
)
from shared.rpc.tickets import RightReach, Visibility

Query = dict[str, Any]
MATCH_NONE: Query = {"match_none": {}}
ROLE_FIELDS = {"Requestor": "requestors", "Cc": "ccs", "AdminCc": "admin_ccs", "Owner": "owner"}
EXACT_FIELDS = {
    "ticket": "ticket_id",
    "queue": "queue",
    "status": "status",
    "owner": "owner",
    "requestor": "requestors",
    "cc": "ccs",
    "admincc": "admin_ccs",
    "merged_into": "merged_into",
}
RANGE_FIELDS = {"ticket": "ticket_id"}
SORT_FIELDS = {"relevance": "_score", "ticket": "ticket_id", "subject": "subject.raw"}
TEXT_FIELDS = ["text", "text.en", "text.exact"]
SUBJECT_FIELDS = ["subject^2", "subject.en", "subject.exact"]
# The analysed text fields whose `.exact` sub-field answers phrases (the rest, a filename,
# is matched as it is).
PHRASED = {"text", "subject"}
MAX_WORDS = 16
# Passages shown under a hit: its best-matching message and its best-matching file. A
# result list needs no more, and each highlighted child costs (25 hits × 3 children took
# a third of a common phrase's query time at 100,000 tickets).
PASSAGES_PER_KIND = 1
HIGHLIGHT = {
    "encoder": "html",
    "pre_tags": ["<mark>"],
    "post_tags": ["</mark>"],
    "fragment_size": 160,
    "number_of_fragments": 2,
    "no_match_size": 0,
}


def _kind(name: str) -> Query:
    return {"term": {JOIN: name}}


def reach_query(reach: RightReach, email: str) -> Query:
    """Tickets a right reaches: whole queues, or the tickets where the person holds a role
    (requestor, Cc, AdminCc, owner) in a queue where that role has the right."""
    if reach.direct.every_queue:
        return {"match_all": {}}
    should: list[Query] = []
    if reach.direct.queues:
        should.append({"terms": {"queue": list(reach.direct.queues)}})
    for role, scope in sorted(reach.roles.items()):
        if not (scope.every_queue or scope.queues) or role not in ROLE_FIELDS:
            continue
        held = {"term": {ROLE_FIELDS[role]: email}}
        if scope.every_queue:
            should.append(held)
        else:
            should.append({"bool": {"filter": [held, {"terms": {"queue": list(scope.queues)}}]}})
    if not should:
        return MATCH_NONE
    return {"bool": {"should": should, "minimum_should_match": 1}}


class QueryBuilder:
    """The queries of one asker: what they may see shapes every clause."""

    def __init__(self, visibility: Visibility) -> None:
        self.visibility = visibility
        self.tickets_visible = reach_query(visibility.show_ticket, visibility.email)
        self.comments_visible = reach_query(visibility.show_comments, visibility.email)
        # Agents usually read comments wherever they read tickets: simpler queries then.
        self.comments_everywhere = (
            visibility.is_admin or visibility.show_comments.direct.every_queue
        )
        self._passages_wanted: bool = False  # while a query that shows passages is built

    # children -----------------------------------------------------------------------------
    def _has_child(
        self, kind: str, query: Query, *, private_only: bool = False, **options: Any
    ) -> Query:
        """Tickets with a ``kind`` child matching ``query`` that the asker may read."""
        if private_only:
            return {
                "bool": {
                    "filter": [
                        self.comments_visible,
                        {
                            "has_child": {
                                "type": kind,
                                "query": {
                                    "bool": {"must": query, "filter": {"term": {"private": True}}}
                                },
                            }
                        },
                    ]
                }
            }
        if self.comments_everywhere:
            return {"has_child": {"type": kind, "query": query, **options}}
        public = {
            "has_child": {
                "type": kind,
                "query": {"bool": {"must": query, "filter": {"term": {"private": False}}}},
                **options,
            }
        }
        if self.comments_visible == MATCH_NONE:
            return public
        private = {
            "bool": {
                "filter": [self.comments_visible, {"has_child": {"type": kind, "query": query}}]
            }
        }
        return {"bool": {"should": [public, private], "minimum_should_match": 1}}

    @staticmethod
    def _text_match(text: str, fields: list[str], phrase: bool) -> Query:
        if phrase:
            # A phrase is matched word for word (accents folded) in the `.exact` sub-field
            # alone, whose word pairs are indexed: one field read, not three, and common
            # words cost no more than rare ones.
            names = [f.split("^")[0] for f in fields]
            phrased = [n for n in names if n.endswith(".exact") or not (n in PHRASED or "." in n)]
            return {"multi_match": {"query": text, "type": "phrase", "fields": phrased}}
        return {"multi_match": {"query": text, "fields": fields, "operator": "and"}}

    def _text(self, condition: TextCondition) -> Query:
        """The words (all of them) or the phrase in the subject, in one message, or in one
        file. One join per kind of child: a join per word cost several times as much on a
        large index (words spread over several messages do not match together)."""
        text = condition.text if condition.phrase else " ".join(condition.text.split()[:MAX_WORDS])
        where: list[Query] = []
        if condition.within in ("everything", "subject"):
            where.append(self._text_match(text, SUBJECT_FIELDS, condition.phrase))
        for kind, scope, fields in (
            (MESSAGE, "messages", TEXT_FIELDS),
            (ATTACHMENT, "attachments", [*TEXT_FIELDS, "filename"]),
        ):
            if condition.within in ("everything", scope):
                options: dict[str, Any] = {"score_mode": "max"}
                if self._passages_wanted:  # the passages that matched, shown under the hit
                    options["inner_hits"] = {
                        "name": kind,
                        "size": PASSAGES_PER_KIND,
                        "_source": ["txn_id", "txn_type", "filename"],
                        "highlight": {**HIGHLIGHT, "fields": _child_highlights(condition)},
                    }
                match = self._text_match(text, fields, condition.phrase)
                where.append(self._has_child(kind, match, **options))
        self._passages_wanted = False  # once per query: inner hits are named by kind
        return (
            where[0] if len(where) == 1 else {"bool": {"should": where, "minimum_should_match": 1}}
        )

    def _exact(self, condition: ExactCondition) -> Query:
        values = list(condition.values)
        if condition.field == "creator":  # who wrote on the ticket
            return self._has_child(MESSAGE, {"terms": {"creator": values}})
        if condition.field.startswith("cf."):
            return {"terms": {f"custom_fields.{custom_field_key(condition.field[3:])}": values}}
        field = EXACT_FIELDS[condition.field]
        if field in ("ticket_id", "merged_into"):
            numbers = [int(v.lstrip("#")) for v in values if v.lstrip("#").isdigit()]
            return {"terms": {field: numbers}} if numbers else MATCH_NONE
        return {"terms": {field: values}}

    @staticmethod
    def _range(condition: RangeCondition) -> Query:
        bounds = {
            name: value
            for name in ("gt", "gte", "lt", "lte")
            if (value := getattr(condition, name)) is not None
        }
        return {"range": {RANGE_FIELDS.get(condition.field, condition.field): bounds}}

    def _has(self, condition: HasCondition) -> Query:
        if condition.what == "attachment":
            return self._has_child(ATTACHMENT, {"match_all": {}})
        if condition.what == "comment":
            return self._has_child(MESSAGE, {"match_all": {}}, private_only=True)
        if condition.what == "owner":
            return {"bool": {"must_not": {"term": {"owner": "nobody"}}}}
        return {"exists": {"field": condition.what}}

    def condition(self, condition: Condition) -> Query:
        if isinstance(condition, TextCondition):
            return self._text(condition)
        if isinstance(condition, ExactCondition):
            return self._exact(condition)
        if isinstance(condition, RangeCondition):
            return self._range(condition)
        if isinstance(condition, HasCondition):
            return self._has(condition)
        if isinstance(condition, AllOf):
            return {"bool": {"must": [self.condition(c) for c in condition.of]}}
        if isinstance(condition, AnyOf):
            return {
                "bool": {
                    "should": [self.condition(c) for c in condition.of],
                    "minimum_should_match": 1,
                }
            }
        assert isinstance(condition, NotCondition)
        wanted, self._passages_wanted = self._passages_wanted, False  # none of what is not
        negated = self.condition(condition.condition)
        self._passages_wanted = wanted
        return {"bool": {"must_not": negated}}

    # tickets ------------------------------------------------------------------------------
    def ticket_filter(self, condition: Condition | None) -> list[Query]:
        """What every ticket result satisfies: a ticket, visible, not deleted unless asked."""
        filters = [_kind(TICKET), self.tickets_visible]
        if not _asks_for_deleted(condition):
            filters.append({"bool": {"must_not": {"term": {"status": "deleted"}}}})
        return filters

    def tickets_query(self, condition: Condition | None, *, highlight: bool) -> Query:
        self._passages_wanted = highlight
        query: Query = {"bool": {"filter": self.ticket_filter(condition)}}
        if condition is not None:
            query["bool"]["must"] = [self.condition(condition)]
        self._passages_wanted = False
        return query

    def tickets_body(
        self,
        condition: Condition | None,
        *,
        sort: tuple[SortKey, ...],
        limit: int,
        offset: int = 0,
        search_after: tuple[Any, ...] | None = None,
        highlight: bool = True,
    ) -> Query:
        text = _free_text(condition)
        body: Query = {
            "query": self.tickets_query(condition, highlight=highlight),
            "size": limit,
            "sort": sort_clause(sort, relevance_first=bool(text)),
            "track_total_hits": True,
            "_source": [
                "ticket_id",
                "subject",
                "status",
                "queue",
                "owner",
                "requestors",
                "priority",
                "created",
                "updated",
            ],
        }
        if search_after:
            body["search_after"] = list(search_after)
        elif offset:
            body["from"] = offset
        if highlight and text:
            whole: Query = {"number_of_fragments": 0}
            fields = {"subject": whole}
            if phrases := _phrases(condition):
                fields["subject.exact"] = {**whole, "highlight_query": _phrase_match(phrases)}
            body["highlight"] = {**HIGHLIGHT, "fields": fields}
        return body

    # the archive of attachments -----------------------------------------------------------
    def attachments_body(self, request: SearchAttachments) -> Query:
        parent: list[Query] = self.ticket_filter(None)[1:]  # visible, not deleted
        if request.queue:
            parent.append({"term": {"queue": request.queue}})
        filters: list[Query] = [
            _kind(ATTACHMENT),
            {"has_parent": {"parent_type": TICKET, "query": {"bool": {"filter": parent}}}},
        ]
        if not self.comments_everywhere:
            private = {
                "bool": {
                    "filter": [
                        {"term": {"private": True}},
                        {"has_parent": {"parent_type": TICKET, "query": self.comments_visible}},
                    ]
                }
            }
            filters.append(
                {
                    "bool": {
                        "should": [{"term": {"private": False}}, private],
                        "minimum_should_match": 1,
                    }
                }
            )
        if request.sender:
            filters.append({"term": {"creator": request.sender}})
        if request.file_type:
            kind = request.file_type.lower().lstrip(".")
            filters.append({"term": {"content_type" if "/" in kind else "file_type": kind}})
        sent = {
            name: value
            for name, value in (("gte", request.sent_after), ("lt", request.sent_before))
            if value
        }
        if sent:
            filters.append({"range": {"sent": sent}})
        query: Query = {"bool": {"filter": filters}}
        body: Query = {
            "size": request.limit,
            "track_total_hits": True,
            "_source": {"excludes": ["text"]},
        }
        if request.text:
            query["bool"]["must"] = {
                "multi_match": {
                    "query": request.text,
                    "fields": [*TEXT_FIELDS, "filename"],
                    "operator": "and",
                }
            }
            body["highlight"] = {**HIGHLIGHT, "fields": {"text": {}, "filename": {}}}
            body["sort"] = ["_score", {"sent": "desc"}, {"txn_id": "asc"}, {"sha256": "asc"}]
        else:
            body["sort"] = [{"sent": "desc"}, {"txn_id": "asc"}, {"sha256": "asc"}]
        body["query"] = query
        if request.search_after:
            body["search_after"] = list(request.search_after)
        return body

    # dashboards ---------------------------------------------------------------------------
    def aggregation_body(self, condition: Condition | None, *, weeks: int, time_zone: str) -> Query:
        query: Query = {"bool": {"filter": self.ticket_filter(condition)}}
        if condition is not None:
            query["bool"]["must"] = [self.condition(condition)]
        since = f"now-{weeks}w/w"
        per_week = {"calendar_interval": "week", "time_zone": time_zone, "min_doc_count": 0}
        return {
            "size": 0,
            "track_total_hits": True,
            "query": query,
            "aggs": {
                "by_status": {"terms": {"field": "status", "size": 10}},
                "by_queue": {"terms": {"field": "queue", "size": 50}},
                "by_owner": {"terms": {"field": "owner", "size": 50}},
                "created": {
                    "filter": {"range": {"created": {"gte": since}}},
                    "aggs": {
                        "weeks": {
                            "date_histogram": {
                                "field": "created",
                                **per_week,
                                "extended_bounds": {"min": since, "max": "now/w"},
                            }
                        }
                    },
                },
                "resolved": {
                    "filter": {"range": {"resolved": {"gte": since}}},
                    "aggs": {
                        "weeks": {
                            "date_histogram": {
                                "field": "resolved",
                                **per_week,
                                "extended_bounds": {"min": since, "max": "now/w"},
                            }
                        }
                    },
                },
                "resolution": {
                    "percentiles": {"field": "resolution_seconds", "percents": [50, 75, 90, 95]}
                },
            },
        }


def sort_clause(sort: tuple[SortKey, ...], *, relevance_first: bool) -> list[Any]:
    """The asked order, then the ticket number: a total order, so ``search_after`` pages
    neither skip nor repeat."""
    keys = list(sort) or (
        [SortKey(field="relevance"), SortKey(field="ticket")]
        if relevance_first
        else [SortKey(field="ticket")]
    )
    clause: list[Any] = []
    for key in keys:
        field = SORT_FIELDS.get(key.field, key.field)
        clause.append(
            {field: {"order": key.order, **({} if field == "_score" else {"missing": "_last"})}}
        )
    if not any(k.field == "ticket" for k in keys):
        clause.append({"ticket_id": {"order": "desc"}})
    return clause


def _free_text(condition: Condition | None) -> str:
    """The words and phrases of the query that are not negated (for highlights)."""
    if condition is None:
        return ""
    if isinstance(condition, TextCondition):
        return condition.text
    if isinstance(condition, AllOf | AnyOf):
        return " ".join(t for c in condition.of if (t := _free_text(c)))
    return ""


def _phrases(condition: Condition | None) -> list[str]:
    """The phrases of the query that are not negated (for highlights)."""
    if isinstance(condition, TextCondition):
        return [condition.text] if condition.phrase else []
    if isinstance(condition, AllOf | AnyOf):
        return [p for c in condition.of for p in _phrases(c)]
    return []


def _phrase_match(phrases: list[str], field: str = "subject.exact") -> Query:
    """What highlights a phrase. Matched through the indexed word pairs, a phrase leaves
    the highlighter nothing to mark: it gets this query, a phrase query with a slop of one
    (which does not use the pairs) on the words of the field."""
    return {
        "bool": {
            "should": [
                {"match_phrase": {field: {"query": phrase, "slop": 1}}} for phrase in phrases
            ]
        }
    }


def _child_highlights(condition: TextCondition) -> Query:
    """Highlights in a message or a file: the words in `text`, a phrase in `text.exact`."""
    if condition.phrase:
        return {
            "text.exact": {"highlight_query": _phrase_match([condition.text], "text.exact")},
            "filename": {},
        }
    return {"text": {}, "filename": {}}


def _asks_for_deleted(condition: Condition | None) -> bool:
    if isinstance(condition, ExactCondition):
        return condition.field == "status" and "deleted" in [v.lower() for v in condition.values]
    if isinstance(condition, AllOf | AnyOf):
        return any(_asks_for_deleted(c) for c in condition.of)
    return False
