"""The one envelope every event travels in (DESIGN.md §2)."""

from __future__ import annotations

import builtins
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

P = TypeVar("P", bound="EventPayload")


class EventPayload(BaseModel):
    """Base of every event payload: frozen; unknown fields are ignored (additive changes)."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1


class Envelope(BaseModel, Generic[P]):
    model_config = ConfigDict(frozen=True, extra="ignore")

    id: uuid.UUID
    type: str
    schema_version: int
    occurred_at: AwareDatetime
    correlation_id: str
    causation_id: str | None = None
    producer: str
    payload: P

    @classmethod
    def wrap(
        cls,
        payload: P,
        *,
        producer: str,
        correlation_id: str,
        causation_id: str | None = None,
        event_id: uuid.UUID | None = None,
        occurred_at: datetime | None = None,
    ) -> Envelope[P]:
        concrete: Any = concrete_envelope(type(payload))
        envelope: Envelope[P] = concrete(
            id=event_id or uuid.uuid4(),
            type=payload.event_type,
            schema_version=payload.schema_version,
            occurred_at=occurred_at or datetime.now(UTC),
            correlation_id=correlation_id,
            causation_id=causation_id,
            producer=producer,
            payload=payload,
        )
        return envelope

    def to_wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


# Pydantic keeps ``Envelope[X]`` only weakly: after a garbage collection it builds the class
# again (about 2 ms, on every event). Held here, each is built once.
_CONCRETE: dict[type[Any], Any] = {}


def concrete_envelope(payload_type: type[Any]) -> Any:
    """``Envelope[payload_type]``, built once per payload type."""
    found = _CONCRETE.get(payload_type)
    if found is None:
        found = _CONCRETE[payload_type] = Envelope[payload_type]  # type: ignore[valid-type]
    return found


class AnyEnvelope(BaseModel):
    """An envelope whose payload is not decoded yet (routing, retries, DLQ)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: uuid.UUID
    type: str
    schema_version: int = Field(ge=1)
    occurred_at: AwareDatetime
    correlation_id: str
    causation_id: str | None = None
    producer: str
    payload: dict[str, Any]

    def decode(self, payload_type: builtins.type[P]) -> Envelope[P]:
        if self.type != payload_type.event_type:
            raise ValueError(f"expected {payload_type.event_type}, got {self.type}")
        if self.schema_version != payload_type.schema_version:
            raise ValueError(
                f"{self.type}: schema_version {self.schema_version} has no upcaster to "
                f"{payload_type.schema_version}"
            )
        concrete: Any = concrete_envelope(payload_type)
        envelope: Envelope[P] = concrete(
            **self.model_dump(exclude={"payload"}),
            payload=payload_type.model_validate(self.payload),
        )
        return envelope
