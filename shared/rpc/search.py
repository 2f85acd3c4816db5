"""RPC contracts of the search service: quick and advanced search of tickets, the archive
of attachments, and the counts behind dashboards.

Whoever asks is named by ``principal``; what they may see is the tickets service's answer
(``tickets.visibility``), applied inside the OpenSearch query — never after it.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SEARCH_TICKETS = "search.tickets"
SEARCH_ADVANCED = "search.advanced"
SEARCH_ATTACHMENTS = "search.attachments"
SEARCH_AGGREGATE = "search.aggregate"
SEARCH_MANY = "search.many"

# A sort value of a hit, given back as ``search_after``: never an object or a list.
SortValue = str | int | float | bool | None

# The limits a query may not pass: a hostile or careless one costs the cluster, not us.
MAX_CONDITIONS = 64
MAX_DEPTH = 8
MAX_VALUES = 100


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Principal(_Model):
    """Who asks; their reach comes from the tickets service, not from the caller."""

    email: str = Field(min_length=1, max_length=320)


TextScope = Literal["everything", "subject", "messages", "attachments"]
HasWhat = Literal["attachment", "owner", "due", "comment"]
SortField = Literal[
    "relevance",
    "ticket",
    "created",
    "updated",
    "resolved",
    "due",
    "priority",
    "status",
    "queue",
    "owner",
    "subject",
]

# A date, a date-time, or OpenSearch date math anchored on now ("now-7d/d").
_DATE_MATH = re.compile(r"^now([+-]\d{1,4}[yMwdhm])?(/[yMwdhm])?$")


def _check_date(value: str) -> str:
    if _DATE_MATH.match(value):
        return value
    try:
        (datetime if "T" in value else date).fromisoformat(value)
    except ValueError:
        raise ValueError(f"not a date: {value!r} (YYYY-MM-DD, ISO date-time or now-7d)") from None
    return value


class TextCondition(_Model):
    """Words (all of them) or a phrase, in the subject, the messages, the attachments."""

    kind: Literal["text"] = "text"
    text: str = Field(min_length=1, max_length=500)
    phrase: bool = False
    within: TextScope = "everything"


class ExactCondition(_Model):
    """One of ``values`` exactly (case and accents aside): addresses, statuses, queues."""

    kind: Literal["exact"] = "exact"
    field: str = Field(
        # A custom field by its name as defined ("cf.DEM LOG") or as typed ("cf.dem_log").
        pattern=r"^(ticket|queue|status|owner|requestor|cc|admincc|creator|merged_into|cf\.[^\t\r\n]{1,100})$"
    )
    values: tuple[str, ...] = Field(min_length=1, max_length=MAX_VALUES)


class RangeCondition(_Model):
    """Bounds on a date (``created``…) or a number (``priority``, ``ticket``)."""

    kind: Literal["range"] = "range"
    field: Literal["ticket", "priority", "created", "updated", "resolved", "due", "starts"]
    gt: str | int | None = None
    gte: str | int | None = None
    lt: str | int | None = None
    lte: str | int | None = None

    @model_validator(mode="after")
    def _bounds(self) -> RangeCondition:
        bounds = [b for b in (self.gt, self.gte, self.lt, self.lte) if b is not None]
        if not bounds:
            raise ValueError("a range needs at least one bound")
        numeric = self.field in ("ticket", "priority")
        for bound in bounds:
            if numeric and not isinstance(bound, int):
                try:
                    int(bound)
                except ValueError:
                    raise ValueError(f"{self.field} bounds are numbers: {bound!r}") from None
            if not numeric:
                _check_date(str(bound))
        return self


class HasCondition(_Model):
    """Tickets that have an attachment, an owner, a due date, a comment."""

    kind: Literal["has"] = "has"
    what: HasWhat


class AllOf(_Model):
    kind: Literal["all"] = "all"
    of: tuple[Condition, ...] = Field(min_length=1, max_length=MAX_CONDITIONS)


class AnyOf(_Model):
    kind: Literal["any"] = "any"
    of: tuple[Condition, ...] = Field(min_length=1, max_length=MAX_CONDITIONS)


class NotCondition(_Model):
    kind: Literal["not"] = "not"
    condition: Condition


Condition = Annotated[
    TextCondition | ExactCondition | RangeCondition | HasCondition | AllOf | AnyOf | NotCondition,
    Field(discriminator="kind"),
]
AllOf.model_rebuild()
AnyOf.model_rebuild()
NotCondition.model_rebuild()


def condition_size(condition: Condition, depth: int = 1) -> int:
    """How many conditions the tree holds; raises past the depth limit."""
    if depth > MAX_DEPTH:
        raise ValueError(f"conditions nest deeper than {MAX_DEPTH}")
    if isinstance(condition, AllOf | AnyOf):
        return 1 + sum(condition_size(c, depth + 1) for c in condition.of)
    if isinstance(condition, NotCondition):
        return 1 + condition_size(condition.condition, depth + 1)
    return 1


class SortKey(_Model):
    field: SortField
    order: Literal["asc", "desc"] = "desc"


class QuickSearch(_Model):
    """Quick search: the text of the search bar (``devis queue:achats status:open``)."""

    q: str = Field(min_length=1, max_length=1000)
    limit: int = Field(default=25, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=10_000)
    sort: tuple[SortKey, ...] = Field(default=(), max_length=4)


class SearchTickets(QuickSearch):
    """A quick search, for one asker."""

    principal: Principal


class AdvancedSearch(_Model):
    """A structured query; pages follow each other with ``search_after`` (the ``sort``
    values of the last hit of the page before), without any limit on depth."""

    principal: Principal
    query: Condition | None = None
    sort: tuple[SortKey, ...] = Field(default=(), max_length=4)
    limit: int = Field(default=25, ge=1, le=200)
    search_after: tuple[SortValue, ...] | None = Field(default=None, max_length=5)
    highlight: bool = True

    @field_validator("query")
    @classmethod
    def _not_too_big(cls, query: Condition | None) -> Condition | None:
        if query is not None and condition_size(query) > MAX_CONDITIONS:
            raise ValueError(f"more than {MAX_CONDITIONS} conditions")
        return query


class Highlight(_Model):
    """A passage that matched, with ``<mark>`` around the words (the rest HTML-escaped)."""

    where: Literal["subject", "message", "comment", "attachment"]
    fragments: tuple[str, ...]
    transaction: str | None = None
    filename: str | None = None


class SearchHit(_Model):
    id: int
    subject: str
    status: str
    queue: str
    owner: str = "Nobody"
    requestors: tuple[str, ...] = ()
    priority: int = 0
    created: datetime | None = None
    updated: datetime | None = None
    highlights: tuple[Highlight, ...] = ()
    # The sort values of this hit: give the last one as ``search_after`` for the next page.
    sort: tuple[SortValue, ...] = ()


class SearchResult(_Model):
    total: int
    items: list[SearchHit]
    # Set when the whole query was one ticket number that the asker may see.
    ticket: int | None = None


class SearchAttachments(_Model):
    """The archive of attachments (supplier quotes) across tickets."""

    principal: Principal
    text: str | None = Field(default=None, max_length=500)
    sender: str | None = Field(default=None, max_length=320)
    queue: str | None = Field(default=None, max_length=200)
    file_type: str | None = Field(default=None, max_length=100)  # "pdf" or "application/pdf"
    sent_after: str | None = None
    sent_before: str | None = None
    limit: int = Field(default=25, ge=1, le=200)
    search_after: tuple[SortValue, ...] | None = Field(default=None, max_length=4)

    @field_validator("sent_after", "sent_before")
    @classmethod
    def _a_date(cls, value: str | None) -> str | None:
        return None if value is None else _check_date(value)


class AttachmentHit(_Model):
    ticket: int
    transaction: str
    filename: str
    content_type: str
    size: int
    sha256: str
    sender: str
    sent: datetime
    extraction: str  # ok, empty, unsupported, too_large, failed, timeout
    fragments: tuple[str, ...] = ()
    sort: tuple[SortValue, ...] = ()


class AttachmentResult(_Model):
    total: int
    items: list[AttachmentHit]


class Counts(_Model):
    """Counts for a dashboard over the tickets the asker may see (optionally narrowed)."""

    query: Condition | None = None
    q: str | None = Field(default=None, max_length=1000)  # or a quick-search text
    weeks: int = Field(default=26, ge=1, le=260)
    time_zone: str = Field(
        default="Europe/Paris", pattern=r"^[A-Za-z_]+(/[A-Za-z_+-]+){0,2}$|^UTC$"
    )


class Aggregate(Counts):
    """Counts, for one asker."""

    principal: Principal


class SearchMany(_Model):
    """Several searches of one asker at once (a home page's boxes): one call and one
    round trip to the index. Each part is answered as its own call would answer it."""

    principal: Principal
    tickets: tuple[QuickSearch, ...] = Field(default=(), max_length=10)
    counts: tuple[Counts, ...] = Field(default=(), max_length=4)


class Bucket(_Model):
    key: str
    count: int


class Aggregation(_Model):
    total: int
    by_status: list[Bucket]
    by_queue: list[Bucket]
    by_owner: list[Bucket]
    created_per_week: list[Bucket]  # key: the week's Monday, YYYY-MM-DD
    resolved_per_week: list[Bucket]
    # Seconds from creation to resolution, over the resolved tickets: "50", "90"… → value.
    resolution_seconds: dict[str, float | None]


class ManyResults(_Model):
    tickets: list[SearchResult]  # in the order of the searches asked
    counts: list[Aggregation]
