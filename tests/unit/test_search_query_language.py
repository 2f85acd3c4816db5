"""search.domain.query_language: the quick-search language and the permission filter."""

from __future__ import annotations

import json
from typing import Any

import pytest

from services.search.domain.query_language import (
    QuickQuery,
    parse_quick_query,
    permission_filter,
    to_opensearch,
)
from shared.rpc.search import Principal

ME = "agent@example.org"
ADMIN = Principal(email="root@example.org", is_admin=True)
AGENT = Principal(email=ME, privileged=True)
REQUESTOR = Principal(email="alice@client.example.net")

# Self-service: their own tickets, as requestor or as Cc.
REQUESTOR_TERM = {
    "bool": {
        "should": [
            {"term": {"requestors": "alice@client.example.net"}},
            {"term": {"ccs": "alice@client.example.net"}},
        ],
        "minimum_should_match": 1,
    }
}
NOT_DELETED = {"term": {"status": "deleted"}}
NOT_A_COMMENT = {"term": {"txn_type": "comment"}}


def q(text: str) -> QuickQuery:
    return parse_quick_query(text, me=ME)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("devis", QuickQuery(words=("devis",))),
        ("devis   urgent ", QuickQuery(words=("devis", "urgent"))),
        ('"bon de commande"', QuickQuery(phrases=("bon de commande",))),
        ('"bon de commande" devis', QuickQuery(words=("devis",), phrases=("bon de commande",))),
        ('"devis"', QuickQuery(words=("devis",))),
        ("12", QuickQuery(words=("12",), ticket_id=12)),
        ("#12", QuickQuery(words=("#12",), ticket_id=12)),
        ("12 devis", QuickQuery(words=("12", "devis"))),
        ("12 13", QuickQuery(words=("12", "13"))),
        ("queue:achats 12", QuickQuery(words=("12",), filters=(("queue", "achats"),))),
        ("10:30", QuickQuery(words=("10:30",))),
        ("queue:", QuickQuery(words=("queue:",))),
        ("", QuickQuery()),
    ],
)
def test_words_phrases_and_ticket_numbers_are_told_apart(text: str, expected: QuickQuery) -> None:
    assert q(text) == expected


@pytest.mark.parametrize(
    ("token", "field", "value"),
    [
        ("queue:Achats", "queue", "achats"),
        ("file:achats", "queue", "achats"),
        ("status:open", "status", "open"),
        ("statut:Résolu", "status", "résolu"),
        ("owner:bob@example.org", "owner", "bob@example.org"),
        ("owner:me", "owner", ME),
        ("owner:moi", "owner", ME),
        ("owner:ME", "owner", ME),
        ("requestor:Alice@Client.example.net", "requestors", "alice@client.example.net"),
        ("demandeur:alice@client.example.net", "requestors", "alice@client.example.net"),
        ("cc:me", "ccs", ME),
        ("admincc:boss@example.org", "admin_ccs", "boss@example.org"),
        ("QUEUE:achats", "queue", "achats"),
        ('queue:"achats paris"', "queue", "achats paris"),
    ],
)
def test_field_tokens_and_their_french_aliases_become_filters(
    token: str, field: str, value: str
) -> None:
    assert q(token) == QuickQuery(filters=((field, value),))


@pytest.mark.parametrize(
    ("text", "unknown", "words"),
    [
        ("foo:bar devis", ("foo:bar",), ("devis",)),
        ("priority:5", ("priority:5",), ()),
        ("sujet:devis", ("sujet:devis",), ()),
        ("alice@x.example:1", (), ("alice@x.example:1",)),
    ],
)
def test_unknown_field_tokens_are_set_aside(
    text: str, unknown: tuple[str, ...], words: tuple[str, ...]
) -> None:
    parsed = q(text)
    assert (parsed.unknown, parsed.words, parsed.filters) == (unknown, words, ())


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('"bon de', ("bon", "de")),
        ('devis "urgent', ("devis", "urgent")),
        ("l'achat", ("l'achat",)),
    ],
)
def test_unbalanced_quotes_are_read_as_plain_words(text: str, words: tuple[str, ...]) -> None:
    assert q(text) == QuickQuery(words=words)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("l'achat d'ordinateur", ("l'achat", "d'ordinateur")),
        ("devis l'imprimante qu'il faut", ("devis", "l'imprimante", "qu'il", "faut")),
    ],
)
def test_apostrophes_of_french_words_are_not_quotes(text: str, words: tuple[str, ...]) -> None:
    assert q(text).words == words


# --- OpenSearch query ------------------------------------------------------------------------


def filters_of(query: dict[str, Any]) -> list[dict[str, Any]]:
    filters: list[dict[str, Any]] = query["bool"]["filter"]
    return filters


@pytest.mark.parametrize("principal", [ADMIN, AGENT], ids=["admin", "privileged"])
def test_staff_see_everything_but_deleted_tickets(principal: Principal) -> None:
    assert permission_filter(principal) == [{"bool": {"must_not": NOT_DELETED}}]


def test_requestor_sees_only_their_tickets_and_never_comments() -> None:
    clauses = permission_filter(REQUESTOR)
    assert REQUESTOR_TERM in clauses
    (excluded,) = [c["bool"]["must_not"] for c in clauses if "must_not" in c.get("bool", {})]
    assert NOT_DELETED in excluded
    assert NOT_A_COMMENT in excluded


@pytest.mark.parametrize(
    "text",
    ["devis", "#12", '"bon de commande"', "requestor:bob@x.example", "owner:me status:open", "x:y"],
)
def test_a_requestors_query_always_holds_the_requestor_term(text: str) -> None:
    query = to_opensearch(q(text), REQUESTOR)
    assert REQUESTOR_TERM in filters_of(query)
    assert all(clause in filters_of(query) for clause in permission_filter(REQUESTOR))


@pytest.mark.parametrize("principal", [ADMIN, AGENT], ids=["admin", "privileged"])
def test_staff_queries_hold_no_requestor_term(principal: Principal) -> None:
    assert "requestors" not in json.dumps(filters_of(to_opensearch(q("devis"), principal)))


def test_empty_query_matches_all_within_the_permissions() -> None:
    assert to_opensearch(q(""), ADMIN) == {
        "bool": {"must": [{"match_all": {}}], "filter": permission_filter(ADMIN)}
    }


def test_ticket_number_searches_by_id_only() -> None:
    query = to_opensearch(q("#12"), ADMIN)
    assert query["bool"]["must"] == [{"term": {"ticket_id": 12}}]


def test_words_must_all_match_across_the_text_fields() -> None:
    (must,) = to_opensearch(q("devis urgent"), ADMIN)["bool"]["must"]
    assert must["multi_match"]["query"] == "devis urgent"
    assert must["multi_match"]["operator"] == "and"
    assert {"subject^3", "text", "attachment_names"} <= set(must["multi_match"]["fields"])


def test_each_phrase_is_a_phrase_query() -> None:
    must = to_opensearch(q('"bon de commande" "livraison rapide"'), ADMIN)["bool"]["must"]
    assert [m["multi_match"]["query"] for m in must] == ["bon de commande", "livraison rapide"]
    assert all(m["multi_match"]["type"] == "phrase" for m in must)


def test_field_filters_are_exact_terms_before_the_permissions() -> None:
    query = to_opensearch(q("queue:achats owner:me"), ADMIN)
    assert filters_of(query) == [
        {"term": {"queue": "achats"}},
        {"term": {"owner": ME}},
        *permission_filter(ADMIN),
    ]
    assert query["bool"]["must"] == [{"match_all": {}}]


def test_unknown_tokens_do_not_reach_the_query() -> None:
    assert "bar" not in json.dumps(to_opensearch(q("foo:bar"), ADMIN))
