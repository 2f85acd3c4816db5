"""The committed AsyncAPI (and web OpenAPI) documents are the ones the code generates, and
each service's document names the channels it should.

Reading FastStream 0.7.8's AsyncAPI 3.0 output: channels and operations are keyed by
the subscriber/publisher *title*; a subscriber's channel ``address`` is its binding key
(e.g. ``mail.received``), the queue it consumes is in ``bindings.amqp.queue.name``; a
publisher's channel ``address`` is its routing key and its exchange is in
``bindings.amqp.exchange``.
"""

from __future__ import annotations

import difflib
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from shared import asyncapi_docs
from shared.events import TICKET_TXN_EVENTS, MailReceived
from shared.events.notify import DeliveryFailed
from shared.rpc import notify as rpc_notify
from shared.rpc import search as rpc_search
from shared.rpc import tickets as rpc_tickets
from shared.settings import DEV_SECRET_PLACEHOLDER
from shared.topology import (
    EVENTS_EXCHANGE,
    NOTIFY_EVENTS,
    SEARCH_EVENTS,
    TICKETS_DELIVERIES,
    TICKETS_MAIL,
    rpc_queue,
)

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "asyncapi"
REGENERATE = "run `make asyncapi` and commit docs/asyncapi/"

TICKETS_RPC = sorted(
    v
    for k, v in vars(rpc_tickets).items()
    if k.isupper() and isinstance(v, str) and v.startswith("tickets.")
)


NOTIFY_RPC = sorted(
    v
    for k, v in vars(rpc_notify).items()
    if k.isupper() and isinstance(v, str) and v.startswith("notify.")
)


@cache
def _rendered() -> dict[str, str]:
    return asyncapi_docs.rendered()


@cache
def _documents() -> dict[str, dict[str, Any]]:
    return asyncapi_docs.documents()


def _consumed_queues(doc: dict[str, Any]) -> dict[str, list[str]]:
    """Queue name → binding keys, for every ``receive`` operation."""
    consumed = {}
    for op in doc["operations"].values():
        if op["action"] != "receive":
            continue
        channel = _resolve(doc, op["channel"]["$ref"])
        queue = channel["bindings"]["amqp"]["queue"]["name"]
        consumed[queue] = op["bindings"]["amqp"].get("cc", [])
    return consumed


def _published(doc: dict[str, Any]) -> dict[str, str]:
    """Routing key → exchange name, for every ``send`` operation."""
    published = {}
    for op in doc["operations"].values():
        if op["action"] != "send":
            continue
        channel = _resolve(doc, op["channel"]["$ref"])
        published[channel["address"]] = channel["bindings"]["amqp"]["exchange"]["name"]
    return published


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    """Follow a local ``$ref`` (a JSON pointer in a URI fragment, RFC 6901)."""
    assert ref.startswith("#/"), ref
    node: Any = doc
    for token in ref[2:].split("/"):
        key = unquote(token).replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and key in node, f"dangling $ref {ref}"
        node = node[key]
    return node


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


# the committed files ----------------------------------------------------------------------


def test_committed_documents_are_exactly_the_generated_ones() -> None:
    generated = _rendered()
    committed = {p.name for p in COMMITTED.glob("*.json")} if COMMITTED.is_dir() else set()

    assert committed == set(generated), (
        f"docs/asyncapi/ holds {sorted(committed)}, the code generates {sorted(generated)}: "
        f"{REGENERATE}"
    )
    for name, text in generated.items():
        on_disk = (COMMITTED / name).read_text(encoding="utf-8")
        if on_disk != text:
            diff = "".join(
                list(
                    difflib.unified_diff(
                        on_disk.splitlines(keepends=True),
                        text.splitlines(keepends=True),
                        f"committed/{name}",
                        f"generated/{name}",
                    )
                )[:60]
            )
            pytest.fail(f"docs/asyncapi/{name} is stale (a contract changed): {REGENERATE}\n{diff}")


def test_generation_is_deterministic() -> None:
    assert asyncapi_docs.rendered() == _rendered()


def test_documents_ignore_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUICHET_BROKER_URL", "amqp://ops:s3cret@rabbit.internal:5671/prod")
    monkeypatch.setenv("GUICHET_WEB_SECRET_KEY", "not-in-any-document")

    assert asyncapi_docs.rendered() == _rendered()


def test_documents_hold_no_credentials() -> None:
    for name, text in _rendered().items():
        assert "guest:guest" not in text, name
        assert DEV_SECRET_PLACEHOLDER not in text, name


@pytest.mark.parametrize("service", asyncapi_docs.SERVICES_WITH_ASYNCAPI)
def test_every_reference_resolves(service: str) -> None:
    doc = _documents()[service]
    for ref in _refs(doc):
        _resolve(doc, ref)


def test_web_openapi_document_describes_the_rest_api() -> None:
    doc = asyncapi_docs.openapi_document()

    assert doc["info"]["title"] == "Guichet"
    assert any(path.startswith("/api/v1/") for path in doc["paths"])
    for ref in _refs(doc):
        _resolve(doc, ref)


# what each service's document says ----------------------------------------------------------


def test_documents_are_asyncapi_3_with_one_server_per_service() -> None:
    docs = _documents()
    assert sorted(docs) == sorted(asyncapi_docs.SERVICES_WITH_ASYNCAPI)
    for service, doc in docs.items():
        assert doc["asyncapi"].startswith("3."), service
        assert doc["info"]["title"] == f"Guichet {service}"
        assert [s["protocol"] for s in doc["servers"].values()] == ["amqp"], service


def test_ingest_publishes_mail_received_and_consumes_nothing() -> None:
    doc = _documents()["ingest"]

    assert _published(doc) == {MailReceived.event_type: EVENTS_EXCHANGE.name}
    assert _consumed_queues(doc) == {}
    assert "Envelope[MailReceived]" in doc["components"]["schemas"]


def test_tickets_consumes_mail_publishes_ticket_events_and_serves_its_rpc() -> None:
    doc = _documents()["tickets"]

    consumed = _consumed_queues(doc)
    assert consumed.pop(TICKETS_MAIL.name) == list(TICKETS_MAIL.binding_keys)
    assert consumed.pop(TICKETS_DELIVERIES.name) == list(TICKETS_DELIVERIES.binding_keys)
    assert sorted(consumed) == sorted(rpc_queue(name).name for name in TICKETS_RPC)
    assert "guichet.rpc.tickets.get" in consumed

    published = _published(doc)
    assert published == dict.fromkeys(TICKET_TXN_EVENTS, EVENTS_EXCHANGE.name)
    assert "ticket.txn.create" in published
    for payload_type in TICKET_TXN_EVENTS.values():
        assert f"Envelope[{payload_type.__name__}]" in doc["components"]["schemas"]


def test_notify_consumes_ticket_events_serves_its_rpc_and_publishes_delivery_failures() -> None:
    doc = _documents()["notify"]

    consumed = _consumed_queues(doc)
    assert consumed.pop(NOTIFY_EVENTS.name) == list(NOTIFY_EVENTS.binding_keys)
    assert sorted(consumed) == sorted(rpc_queue(name).name for name in NOTIFY_RPC)
    assert _published(doc) == {DeliveryFailed.event_type: EVENTS_EXCHANGE.name}
    assert "Envelope[DeliveryFailed]" in doc["components"]["schemas"]


def test_search_consumes_its_queue_and_serves_its_searches() -> None:
    doc = _documents()["search"]
    searches = (
        rpc_search.SEARCH_TICKETS,
        rpc_search.SEARCH_ADVANCED,
        rpc_search.SEARCH_ATTACHMENTS,
        rpc_search.SEARCH_AGGREGATE,
        rpc_search.SEARCH_MANY,
    )

    assert _consumed_queues(doc) == {
        SEARCH_EVENTS.name: list(SEARCH_EVENTS.binding_keys),
        **{rpc_queue(name).name: [rpc_queue(name).name] for name in searches},
    }
    assert _published(doc) == {}
