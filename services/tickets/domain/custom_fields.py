"""Custom fields (pure): per-queue definitions, typed and validated (RT's CFs, e.g. the
purchasing office's "DEM LOG" and "COM LOG" numbers)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from shared.errors import InvalidInputError, NotFoundError

FieldType = Literal["text", "select", "date"]


@dataclass(frozen=True)
class CustomFieldDefinition:
    name: str
    type: FieldType = "text"
    values: tuple[str, ...] = ()  # the choices of a select field
    max_length: int = 255

    def __post_init__(self) -> None:
        if not self.name.strip() or len(self.name) > 64:
            raise ValueError("a custom field's name has 1 to 64 characters")
        if self.type == "select" and not self.values:
            raise ValueError(f"select field {self.name!r} needs its values")

    def normalize(self, value: str) -> str:
        """The stored form of ``value``, or InvalidInputError saying why it is refused."""
        value = value.strip()
        if len(value) > self.max_length:
            raise InvalidInputError(f"{self.name}: at most {self.max_length} characters")
        if self.type == "select" and value not in self.values:
            raise InvalidInputError(f"{self.name}: one of {', '.join(self.values)}, not {value!r}")
        if self.type == "date":
            try:
                return date.fromisoformat(value).isoformat()
            except ValueError:
                raise InvalidInputError(
                    f"{self.name}: a date as YYYY-MM-DD, not {value!r}"
                ) from None
        return value


def find_definition(
    definitions: tuple[CustomFieldDefinition, ...], name: str, queue: str
) -> CustomFieldDefinition:
    """The definition named ``name`` (case and spacing forgiven: "dem log" is "DEM LOG")."""
    wanted = " ".join(name.split()).casefold()
    for definition in definitions:
        if " ".join(definition.name.split()).casefold() == wanted:
            return definition
    raise NotFoundError(f"queue {queue} has no custom field {name!r}")
