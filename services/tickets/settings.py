from __future__ import annotations

from pydantic import Field

from shared.settings import BaseServiceSettings


class TicketsSettings(BaseServiceSettings):
    http_port: int = Field(8102, validation_alias="GUICHET_TICKETS_HTTP_PORT")
    # A transaction still unpublished after this long is the relay's to finish.
    relay_grace_seconds: float = Field(5.0, validation_alias="GUICHET_TICKETS_RELAY_GRACE")
