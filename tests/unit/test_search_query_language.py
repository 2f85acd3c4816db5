"""search.domain.query_language and queries: the search bar's text becomes a condition, and
a condition an OpenSearch query with the asker's reach inside it."""

from __future__ import annotations

import re
from typing import Any

import pytest

from services.search.domain.documents import FIELDS
from services.search.domain.queries import MATCH_NONE, QueryBuilder, reach_query, sort_clause
from services.search.domain.query_language import QuickQuery, parse_quick_query
from shared.rpc.search import (
    AllOf,
    ExactCondition,
    HasCondition,
    NotCondition,
    RangeCondition,
    SearchAttachments,
    SortKey,
    TextCondition,
)
from shared.rpc.tickets import QueueScope, RightReach, Visibility

pytestmark = pytest.mark.unit

ME = "agent@example.org"
EVERYWHERE = RightReach(direct=QueueScope(every_queue=True), roles={})
NOWHERE = RightReach(direct=QueueScope(), roles={})
SELF_SERVICE = RightReach(
    direct=QueueScope(),
    roles={"Requestor": QueueScope(every_queue=True), "Cc": QueueScope(queues=("achats",))},
)
ADMIN = Visibility(
    email="root@example.org", is_admin=True, show_ticket=EVERYWHERE, show_comments=EVERYWHERE
)
AGENT = Visibility(email=ME, is_admin=False, show_ticket=EVERYWHERE, show_comments=EVERYWHERE)
REQUESTOR = Visibility(
    email="alice@client.example.net",
    is_admin=False,
    show_ticket=SELF_SERVICE,
    show_comments=NOWHERE,
)


def q(text: str) -> QuickQuery:
    return parse_quick_query(text, me=ME)


@pytest.mark.parametrize(
    ("text", "condition"),
    [
        ("devis", TextCondition(text="devis")),
        ("devis   urgent ", TextCondition(text="devis urgent")),
        ('"bon de commande"', TextCondition(text="bon de commande", phrase=True)),
        ('"devis"', TextCondition(text="devis")),
        ("l'achat", TextCondition(text="l'achat")),
        ("10:30", TextCondition(text="10:30")),
        ("https://acme.example/devis", TextCondition(text="https://acme.example/devis")),
        ("queue:achats", ExactCondition(field="queue", values=("achats",))),
        ("File:achats", ExactCondition(field="queue", values=("achats",))),
        ("owner:me", ExactCondition(field="owner", values=(ME,))),
        ("propriétaire:moi", ExactCondition(field="owner", values=(ME,))),
        ("statut:résolu,rejeté", ExactCondition(field="status", values=("resolved", "rejected"))),
        ("status:active", ExactCondition(field="status", values=("new", "open", "stalled"))),
        ("cc:x@y.example", ExactCondition(field="cc", values=("x@y.example",))),
        ("cf.DEM_LOG:1234", ExactCondition(field="cf.DEM_LOG", values=("1234",))),
        ('cf.Fournisseur:"Acme SA"', ExactCondition(field="cf.Fournisseur", values=("Acme SA",))),
        ("has:attachment", HasCondition(what="attachment")),
        ("a:pj", HasCondition(what="attachment")),
        ("created:>2026-01-01", RangeCondition(field="created", gt="2026-01-01")),
        ("créé:<=2026-01-01", RangeCondition(field="created", lte="2026-01-01")),
        ("created:2026-01-05", RangeCondition(field="created", gte="2026-01-05", lt="2026-01-06")),
        (
            "resolved:2026-01-01..2026-03-31",
            RangeCondition(field="resolved", gte="2026-01-01", lt="2026-04-01"),
        ),
        ("updated:>now-7d", RangeCondition(field="updated", gt="now-7d")),
        ("priorité:>2", RangeCondition(field="priority", gt=2)),
        (
            "-status:resolved",
            NotCondition(condition=ExactCondition(field="status", values=("resolved",))),
        ),
        ("-urgent", NotCondition(condition=TextCondition(text="urgent"))),
        ('sujet:"écran plat"', TextCondition(text="écran plat", phrase=True, within="subject")),
        ("in:pj makita", TextCondition(text="makita", within="attachments")),
    ],
)
def test_the_search_bar_understands(text: str, condition: Any) -> None:
    parsed = q(text)
    assert (parsed.unknown, parsed.invalid) == ((), ())
    assert parsed.condition == condition


def test_words_and_tokens_combine_in_one_condition() -> None:
    parsed = q('devis "bon de commande" queue:achats')
    assert parsed.condition == AllOf(
        of=(
            TextCondition(text="devis"),
            TextCondition(text="bon de commande", phrase=True),
            ExactCondition(field="queue", values=("achats",)),
        )
    )


@pytest.mark.parametrize(("text", "number"), [("12", 12), ("#12", 12), (" 4711 ", 4711)])
def test_a_bare_number_names_a_ticket(text: str, number: int) -> None:
    parsed = q(text)
    assert parsed.ticket_id == number
    assert parsed.condition == ExactCondition(field="ticket", values=(str(number),))


@pytest.mark.parametrize("text", ["12 devis", "12 13", "queue:achats 12"])
def test_a_number_among_other_things_is_a_word(text: str) -> None:
    assert q(text).ticket_id is None


def test_unknown_fields_and_invalid_values_are_reported_not_guessed() -> None:
    assert q("colour:blue devis").unknown == ("colour:blue",)
    assert q("created:>demain").invalid == ("created:>demain",)
    assert q("priority:haute").invalid == ("priority:haute",)
    assert q("has:licorne").invalid == ("has:licorne",)
    assert q("in:nulle-part").invalid == ("in:nulle-part",)


def test_an_empty_or_quote_only_text_is_no_condition() -> None:
    assert q("").condition is None
    assert q('"').condition is None


# the reach of a right, inside the query ----------------------------------------------------
def test_a_right_everywhere_filters_nothing_and_nowhere_matches_nothing() -> None:
    assert reach_query(EVERYWHERE, ME) == {"match_all": {}}
    assert reach_query(NOWHERE, ME) == MATCH_NONE


def test_a_right_through_roles_needs_the_role_on_the_ticket_in_the_queues_given() -> None:
    query = reach_query(SELF_SERVICE, "alice@client.example.net")
    assert query == {
        "bool": {
            "should": [
                {
                    "bool": {
                        "filter": [
                            {"term": {"ccs": "alice@client.example.net"}},
                            {"terms": {"queue": ["achats"]}},
                        ]
                    }
                },
                {"term": {"requestors": "alice@client.example.net"}},
            ],
            "minimum_should_match": 1,
        }
    }


def test_queues_granted_directly_are_one_terms_clause() -> None:
    reach = RightReach(direct=QueueScope(queues=("achats", "travaux")), roles={})
    assert reach_query(reach, ME) == {
        "bool": {"should": [{"terms": {"queue": ["achats", "travaux"]}}], "minimum_should_match": 1}
    }


def _walk(query: Any) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    if isinstance(query, dict):
        for key, value in query.items():
            found.append((key, value))
            found += _walk(value)
    elif isinstance(query, list):
        for item in query:
            found += _walk(item)
    return found


def _fields(query: Any) -> set[str]:
    names: set[str] = set()
    for key, value in _walk(query):
        if key in {"term", "terms", "range", "match", "exists"} and isinstance(value, dict):
            names |= {value["field"]} if key == "exists" else set(value)
        if key == "multi_match":
            names |= {re.sub(r"\^\d+$", "", f).split(".")[0] for f in value["fields"]}
    return {n.split(".")[0] for n in names}


@pytest.mark.parametrize("who", [ADMIN, AGENT, REQUESTOR], ids=["admin", "agent", "requestor"])
def test_every_field_a_query_names_is_in_the_mapping(who: Visibility) -> None:
    builder = QueryBuilder(who)
    text = (
        'devis "bon de commande" queue:a status:open owner:me cc:x requestor:y admincc:z '
        "creator:w cf.X:1 created:>2026-01-01 priority:2 has:attachment has:comment has:owner "
        "has:due -urgent #12"
    )
    bodies = [
        builder.tickets_body(q(text).condition, sort=(), limit=10),
        builder.tickets_body(q("#12").condition, sort=(), limit=10),
        builder.attachments_body(
            SearchAttachments(
                principal={"email": who.email},
                text="devis",
                sender="a@b",
                file_type="pdf",
                queue="achats",
                sent_after="2026-01-01",
            )
        ),
        builder.aggregation_body(q("queue:achats").condition, weeks=4, time_zone="UTC"),
    ]
    for body in bodies:
        named = _fields(body["query"])
        assert named and named <= set(FIELDS), named - set(FIELDS)


def test_someone_without_comments_reads_only_public_children() -> None:
    query = QueryBuilder(REQUESTOR).tickets_query(TextCondition(text="interne"), highlight=True)
    children = [v for k, v in _walk(query) if k == "has_child"]
    assert children
    for child in children:
        assert {"term": {"private": False}} in _walk(child["query"]) or (
            ("term", {"private": False}) in _walk(child["query"])
        )


def test_agents_reading_comments_everywhere_get_the_plain_child_queries() -> None:
    query = QueryBuilder(AGENT).tickets_query(TextCondition(text="interne"), highlight=False)
    assert ("private", False) not in [(k, v) for k, v in _walk(query) if k == "private"]


def test_deleted_tickets_are_left_out_unless_asked_for() -> None:
    builder = QueryBuilder(ADMIN)
    not_deleted = {"bool": {"must_not": {"term": {"status": "deleted"}}}}
    assert not_deleted in builder.ticket_filter(None)
    asked = ExactCondition(field="status", values=("deleted",))
    assert not_deleted not in builder.ticket_filter(asked)


def test_the_sort_always_ends_on_the_ticket_number_so_pages_never_overlap() -> None:
    assert sort_clause((), relevance_first=True)[-1] == {
        "ticket_id": {"order": "desc", "missing": "_last"}
    }
    clause = sort_clause((SortKey(field="updated", order="asc"),), relevance_first=False)
    assert clause == [
        {"updated": {"order": "asc", "missing": "_last"}},
        {"ticket_id": {"order": "desc"}},
    ]
    assert sort_clause((SortKey(field="subject"),), relevance_first=False)[0] == {
        "subject.raw": {"order": "desc", "missing": "_last"}
    }


def test_a_phrase_reads_only_the_exact_sub_fields_whose_word_pairs_are_indexed() -> None:
    query = QueryBuilder(ADMIN).tickets_query(
        TextCondition(text="bon de commande", phrase=True), highlight=True
    )
    phrases = [v for k, v in _walk(query) if k == "multi_match"]
    assert {tuple(p["fields"]) for p in phrases} == {
        ("subject.exact",),
        ("text.exact",),
        ("text.exact", "filename"),
    }
    assert all(p["type"] == "phrase" for p in phrases)
    assert FIELDS["text"]["fields"]["exact"]["index_phrases"] is True


def test_words_still_read_the_french_english_and_exact_fields() -> None:
    query = QueryBuilder(ADMIN).tickets_query(TextCondition(text="devis écran"), highlight=False)
    words = [v for k, v in _walk(query) if k == "multi_match"]
    in_text = [w for w in words if "text" in w["fields"]]
    assert in_text and all(w["operator"] == "and" and "text.en" in w["fields"] for w in in_text)
