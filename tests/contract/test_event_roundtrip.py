"""Every event survives the wire: wrap → JSON → AnyEnvelope → decode gives it back, extra
fields are ignored, and a wrong type or an unknown schema version is refused."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from pydantic import ValidationError

from shared.events import ALL_EVENTS, AnyEnvelope, EventPayload, MailReceived, TicketCreated
from shared.events.notify import DELIVERY_EVENTS
from tests.contract.samples import envelope, event_sample

EVERY_EVENT = (*ALL_EVENTS, *DELIVERY_EVENTS)
EVENTS = pytest.mark.parametrize("payload_type", EVERY_EVENT, ids=lambda t: t.event_type)


def _over_the_wire(wire: dict[str, Any]) -> AnyEnvelope:
    return AnyEnvelope.model_validate(json.loads(json.dumps(wire)))


def test_event_types_are_unique_and_named_as_facts() -> None:
    types = [t.event_type for t in EVERY_EVENT]
    assert len(types) == len(set(types)), types
    for event_type in types:
        assert re.fullmatch(r"[a-z]+(\.[a-z_]+){1,3}", event_type), event_type
    assert all(t.schema_version >= 1 for t in EVERY_EVENT)


@EVENTS
def test_event_round_trips_through_json(payload_type: type[EventPayload]) -> None:
    payload = event_sample(payload_type)
    assert type(payload) is payload_type
    sent = envelope(payload)

    wire = sent.to_wire()
    assert wire["type"] == payload_type.event_type
    assert wire["schema_version"] == payload_type.schema_version
    received = _over_the_wire(wire)
    decoded = received.decode(payload_type)

    assert decoded == sent
    assert decoded.payload == payload
    assert decoded.to_wire() == wire


@EVENTS
def test_consumer_ignores_fields_it_does_not_know(payload_type: type[EventPayload]) -> None:
    payload = event_sample(payload_type)
    sent = envelope(payload)
    wire = sent.to_wire()
    wire["added_by_a_newer_producer"] = {"nested": [1, 2, 3]}
    wire["payload"]["added_field"] = "ignored"
    for value in wire["payload"].values():
        if isinstance(value, dict):  # nested models too (ticket, transaction, loop…)
            value["added_nested_field"] = True

    decoded = _over_the_wire(wire).decode(payload_type)

    assert decoded == sent


@EVENTS
def test_decode_refuses_an_envelope_of_another_type(payload_type: type[EventPayload]) -> None:
    other = TicketCreated if payload_type is MailReceived else MailReceived
    wire = envelope(event_sample(other)).to_wire()

    with pytest.raises(ValueError, match=rf"expected {re.escape(payload_type.event_type)}, got"):
        _over_the_wire(wire).decode(payload_type)


@EVENTS
def test_decode_refuses_an_unknown_schema_version(payload_type: type[EventPayload]) -> None:
    wire = envelope(event_sample(payload_type)).to_wire()
    wire["schema_version"] = payload_type.schema_version + 1

    with pytest.raises(ValueError, match="has no upcaster"):
        _over_the_wire(wire).decode(payload_type)


def test_envelope_without_a_valid_schema_version_is_not_an_envelope() -> None:
    wire = envelope(event_sample(MailReceived)).to_wire()
    wire["schema_version"] = 0

    with pytest.raises(ValidationError, match="schema_version"):
        _over_the_wire(wire)


def test_envelope_with_a_naive_timestamp_is_refused() -> None:
    wire = envelope(event_sample(MailReceived)).to_wire()
    wire["occurred_at"] = "2025-03-14T09:26:53"

    with pytest.raises(ValidationError, match="occurred_at"):
        _over_the_wire(wire)


def test_payload_that_breaks_its_model_is_refused_at_decode() -> None:
    wire = envelope(event_sample(MailReceived)).to_wire()
    wire["payload"]["mail_key"] = "too-short"

    with pytest.raises(ValidationError, match="mail_key"):
        _over_the_wire(wire).decode(MailReceived)
