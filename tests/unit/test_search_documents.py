"""search.domain.documents: what goes into OpenSearch fits the strict mappings."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from services.search.domain.documents import (
    MESSAGE_FIELDS,
    TICKET_FIELDS,
    index_body,
    message_document,
    ticket_document,
)
from services.search.domain.query_language import parse_quick_query, to_opensearch
from shared.events.ticket import AttachmentInfo
from shared.rpc.search import Principal
from tests.unit.factories import ALICE, LATER, NOW, message_info, snapshot, txn_event

FULL_TICKET = snapshot(
    status="resolved",
    owner="agent@example.org",
    ccs=("bob@supplier.example.com",),
    admin_ccs=("boss@example.org",),
    priority=3,
    updated=LATER,
    resolved=LATER,
    version=4,
)


def mapping_properties(fields: dict[str, Any]) -> set[str]:
    body = index_body(fields, "1s")
    assert body["mappings"]["dynamic"] == "strict"
    return set(body["mappings"]["properties"])


@pytest.mark.parametrize("ticket", [snapshot(), FULL_TICKET], ids=["new", "resolved"])
def test_ticket_document_fits_the_strict_ticket_mapping(ticket: Any) -> None:
    document = ticket_document(ticket)
    assert set(document) <= mapping_properties(TICKET_FIELDS)


def test_ticket_document_names_the_id_ticket_id() -> None:
    document = ticket_document(FULL_TICKET)
    assert "id" not in document
    assert document["ticket_id"] == 7
    assert document["requestors"] == [ALICE]
    assert document["created"] == NOW.isoformat().replace("+00:00", "Z")
    json.dumps(document)  # plain JSON, ready for the bulk API


@pytest.mark.parametrize("kind", ["create", "correspond", "comment"])
def test_message_document_fits_the_strict_message_mapping(kind: str) -> None:
    document = message_document(txn_event(kind, ticket=FULL_TICKET))
    assert document is not None
    assert set(document) <= mapping_properties(MESSAGE_FIELDS)
    assert document["txn_type"] == kind
    json.dumps(document)


def test_message_document_carries_the_text_the_attachments_and_its_ticket() -> None:
    message = message_info(
        text="Voici le devis.",
        attachments=(
            AttachmentInfo(
                filename="devis.pdf", content_type="application/pdf", size=1, sha256="a"
            ),
            AttachmentInfo(filename="plan.png", content_type="image/png", size=1, sha256="b"),
        ),
    )
    document = message_document(txn_event(message=message))
    assert document is not None
    assert document["text"] == "Voici le devis."
    assert document["attachment_names"] == "devis.pdf plan.png"
    assert document["creator"] == ALICE
    assert document["txn_created"] == NOW.isoformat()
    assert {k: document[k] for k in ticket_document(snapshot())} == ticket_document(snapshot())


def test_transaction_without_a_message_has_no_message_document() -> None:
    assert message_document(txn_event(message=None)) is None


def test_messages_carry_every_ticket_field_for_filtering() -> None:
    assert set(TICKET_FIELDS) <= set(MESSAGE_FIELDS)
    assert all(MESSAGE_FIELDS[name] == spec for name, spec in TICKET_FIELDS.items())


def _fields_named_in(query: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(query, dict):
        for key, value in query.items():
            if key in {"term", "match"}:
                found |= set(value)
            elif key == "multi_match":
                found |= {re.sub(r"\^\d+$", "", f) for f in value["fields"]}
            else:
                found |= _fields_named_in(value)
    elif isinstance(query, list):
        for item in query:
            found |= _fields_named_in(item)
    return found


@pytest.mark.parametrize(
    "principal",
    [Principal(email="a@b.example"), Principal(email="r@b.example", is_admin=True)],
    ids=["requestor", "admin"],
)
def test_every_field_a_search_names_exists_in_the_message_mapping(principal: Principal) -> None:
    text = 'devis "bon de commande" queue:a status:open owner:me cc:x requestor:y admincc:z'
    named = _fields_named_in(to_opensearch(parse_quick_query(text, me="me@x.example"), principal))
    named |= _fields_named_in(to_opensearch(parse_quick_query("#12", me="m"), principal))
    assert named
    assert named <= set(MESSAGE_FIELDS)


def test_index_body_has_one_shard_the_given_refresh_and_the_french_analysis() -> None:
    body = index_body(TICKET_FIELDS, "30s")
    assert body["settings"]["refresh_interval"] == "30s"
    assert body["settings"]["number_of_shards"] == 1
    assert "fr_folded" in body["settings"]["analysis"]["analyzer"]
