"""search.domain.documents: what goes into OpenSearch fits the strict mapping, and children
(messages, files) hang under their ticket without copying its changing fields."""

from __future__ import annotations

import json
from typing import Any

import pytest

from services.search.domain.documents import (
    FIELDS,
    JOIN,
    MAPPING_VERSION,
    attachment_action,
    event_actions,
    file_type,
    index_body,
    message_action,
    ticket_action,
    ticket_document,
)
from services.search.domain.extraction import Extracted
from shared.events.ticket import AttachmentInfo
from tests.unit.factories import ALICE, LATER, NOW, message_info, snapshot, txn_event

pytestmark = pytest.mark.unit

FULL_TICKET = snapshot(
    status="resolved",
    owner="agent@example.org",
    ccs=("bob@supplier.example.com",),
    admin_ccs=("boss@example.org",),
    priority=3,
    updated=LATER,
    resolved=LATER,
    custom_fields={"DEM_LOG": "1234"},
    version=4,
)
PDF = AttachmentInfo(filename="Devis.PDF", content_type="application/pdf", size=10, sha256="a" * 64)


def fits_mapping(document: dict[str, Any]) -> bool:
    return set(document) - {"custom_fields"} <= set(FIELDS) - {"custom_fields"}


@pytest.mark.parametrize("ticket", [snapshot(), FULL_TICKET], ids=["new", "resolved"])
def test_a_ticket_document_fits_the_strict_mapping_and_is_plain_json(ticket: Any) -> None:
    document = ticket_document(ticket)
    assert fits_mapping(document)
    assert document[JOIN] == "ticket"
    assert "id" not in document and document["ticket_id"] == ticket.id
    json.dumps(document)


def test_a_resolved_ticket_knows_how_long_it_took() -> None:
    assert ticket_document(FULL_TICKET)["resolution_seconds"] == 7200
    assert "resolution_seconds" not in ticket_document(snapshot())


def test_a_ticket_is_written_at_its_version_with_external_versioning() -> None:
    action = ticket_action(FULL_TICKET)
    assert (action["_id"], action["routing"]) == (str(FULL_TICKET.id), str(FULL_TICKET.id))
    assert (action["version"], action["version_type"]) == (4, "external")


@pytest.mark.parametrize("kind", ["create", "correspond", "comment"])
def test_a_message_is_a_child_of_its_ticket_and_carries_none_of_its_fields(kind: str) -> None:
    event = txn_event(kind, ticket=FULL_TICKET)
    action = message_action(FULL_TICKET.id, event.transaction, FULL_TICKET.version)
    assert action is not None
    source = action["_source"]
    assert fits_mapping(source)
    assert source[JOIN] == {"name": "message", "parent": str(FULL_TICKET.id)}
    assert action["routing"] == str(FULL_TICKET.id)
    assert action["version_type"] == "external_gte"  # a redelivery writes it again, fine
    assert source["private"] is (kind == "comment")
    assert not {"status", "owner", "queue", "requestors"} & set(source)


def test_a_reply_subject_is_searchable_with_its_text() -> None:
    event = txn_event("correspond", message=message_info(subject="Re: écran", text="Merci"))
    action = message_action(7, event.transaction, 2)
    assert action is not None
    assert action["_source"]["text"] == "Re: écran\nMerci"


def test_a_transaction_without_a_message_has_no_message_document() -> None:
    event = txn_event(message=None)
    assert message_action(7, event.transaction, 1) is None
    assert [a["_id"] for a in event_actions(event)] == [str(event.ticket.id)]


def test_a_file_is_a_child_with_its_text_type_and_sender() -> None:
    event = txn_event(message=message_info(from_address="Bob@Supplier.example.com"))
    action = attachment_action(7, event.transaction, 3, 0, PDF, Extracted("Offre", "ok"), 1)
    source = action["_source"]
    assert action["_id"] == f"{event.transaction.id}:0"
    assert fits_mapping(source)
    assert source[JOIN] == {"name": "attachment", "parent": "7"}
    assert (source["file_type"], source["text"], source["extraction"]) == ("pdf", "Offre", "ok")
    assert source["creator"] == "bob@supplier.example.com"
    assert source["sent"] == NOW.isoformat()


@pytest.mark.parametrize(
    ("filename", "content_type", "expected"),
    [
        ("Devis.PDF", "application/octet-stream", "pdf"),
        ("offre", "application/pdf", "pdf"),
        ("a.tar.gz", "application/gzip", "gz"),
        ("weird.name with space", "text/plain", "plain"),
    ],
)
def test_the_file_type_is_the_extension_else_the_subtype(
    filename: str, content_type: str, expected: str
) -> None:
    info = AttachmentInfo(filename=filename, content_type=content_type, size=1, sha256="b" * 64)
    assert file_type(info) == expected


def test_the_index_has_one_shard_the_refresh_asked_french_and_english_and_the_join() -> None:
    body = index_body("30s")
    assert body["settings"]["refresh_interval"] == "30s"
    assert body["settings"]["number_of_shards"] == 1
    assert {"fr_folded", "en_folded", "folded"} <= set(body["settings"]["analysis"]["analyzer"])
    assert body["mappings"]["dynamic"] == "strict"
    assert body["mappings"]["properties"][JOIN]["relations"] == {
        "ticket": ["message", "attachment"]
    }
    assert MAPPING_VERSION >= 2
    assert ALICE  # the factories' requestor is the default sender
