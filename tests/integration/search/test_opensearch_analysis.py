"""The local OpenSearch node (deploy/local/opensearch.sh) has the French analysis Guichet needs.

The node is assembled from Maven Central jars, so these tests prove that the hand-laid
modules really load: analysis-common (french analyzer, asciifolding, elision) and
lang-painless, which analysis-common extends.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration

OPENSEARCH_URL = os.environ.get("GUICHET_OPENSEARCH_URL", "http://127.0.0.1:9200").rstrip("/")


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(base_url=OPENSEARCH_URL, timeout=30.0) as c:
        try:
            health = c.get("/_cluster/health")
        except httpx.TransportError as exc:
            pytest.fail(
                f"OpenSearch is not reachable at {OPENSEARCH_URL} ({exc}); "
                "start it with deploy/local/opensearch.sh start"
            )
        assert health.status_code == 200, health.text
        assert health.json()["status"] in ("green", "yellow"), health.text
        yield c


def analyze(client: httpx.Client, body: dict[str, Any], index: str | None = None) -> list[str]:
    resp = client.post(f"/{index}/_analyze" if index else "/_analyze", json=body)
    assert resp.status_code == 200, resp.text
    return [t["token"] for t in resp.json()["tokens"]]


def test_modules_are_loaded(client: httpx.Client) -> None:
    resp = client.get("/_nodes/plugins")
    assert resp.status_code == 200, resp.text
    nodes = resp.json()["nodes"]
    assert len(nodes) == 1
    (node,) = nodes.values()
    modules = {m["name"]: m for m in node["modules"]}
    assert {"analysis-common", "lang-painless", "transport-netty4"} <= modules.keys()
    assert modules["analysis-common"]["extended_plugins"] == ["lang-painless"]
    assert node["version"] == "2.19.6"

    # Painless is not only listed but compiles and runs a script.
    resp = client.post(
        "/_scripts/painless/_execute",
        json={"script": {"source": "params.a * 2", "params": {"a": 21}}},
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["result"] == "42"


def test_french_analyzer_stems_and_drops_stopwords(client: httpx.Client) -> None:
    tokens = analyze(
        client, {"analyzer": "french", "text": "Les demandes de devis étaient envoyées"}
    )
    # "les", "de" and "étaient" are French stopwords; the light French stemmer
    # reduces the rest ("envoyées" -> "envoy", "devis" -> "devi").
    assert tokens == ["demand", "devi", "envoy"]


def test_asciifolding_matches_unaccented_query(client: httpx.Client) -> None:
    index = f"guichet-test-analysis-{uuid.uuid4().hex}"
    settings = {
        "settings": {
            "number_of_shards": 1,
            "number_of_replicas": 0,
            "analysis": {
                "analyzer": {
                    "folded": {
                        "type": "custom",
                        "tokenizer": "standard",
                        "filter": ["elision", "lowercase", "asciifolding"],
                    }
                }
            },
        },
        "mappings": {"properties": {"subject": {"type": "text", "analyzer": "folded"}}},
    }
    resp = client.put(f"/{index}", json=settings)
    assert resp.status_code == 200, resp.text
    try:
        tokens = analyze(client, {"analyzer": "folded", "text": "L'écran du Dévis"}, index)
        assert tokens == ["ecran", "du", "devis"]

        resp = client.put(
            f"/{index}/_doc/1", params={"refresh": "true"}, json={"subject": "Dévis écran"}
        )
        assert resp.status_code == 201, resp.text

        resp = client.post(
            f"/{index}/_search", json={"query": {"match": {"subject": "devis ecran"}}}
        )
        assert resp.status_code == 200, resp.text
        hits = resp.json()["hits"]
        assert hits["total"]["value"] == 1
        assert hits["hits"][0]["_id"] == "1"
        assert hits["hits"][0]["_source"]["subject"] == "Dévis écran"

        # Both words must be there for an "and" match: folding, not luck.
        resp = client.post(
            f"/{index}/_search",
            json={"query": {"match": {"subject": {"query": "DEVIS Écran", "operator": "and"}}}},
        )
        assert resp.status_code == 200, resp.text
        assert resp.json()["hits"]["total"]["value"] == 1
    finally:
        client.delete(f"/{index}")
    assert client.head(f"/{index}").status_code == 404
