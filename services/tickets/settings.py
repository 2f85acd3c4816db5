from __future__ import annotations

from pydantic import Field

from shared.settings import BaseServiceSettings


class TicketsSettings(BaseServiceSettings):
    http_port: int = Field(8102, validation_alias="GUICHET_TICKETS_HTTP_PORT")
    # A transaction still unpublished after this long is the relay's to finish.
    # (Long enough that a writer slowed down by load is not overtaken: a second copy of an
    # event is harmless, consumers are idempotent, but it is work.)
    relay_grace_seconds: float = Field(30.0, validation_alias="GUICHET_TICKETS_RELAY_GRACE")
    # The authserv-ids of the site's own MTAs (comma-separated): only the
    # Authentication-Results headers they add are believed; anyone can forge the others.
    trusted_authserv_ids: str = Field("", validation_alias="GUICHET_TICKETS_TRUSTED_AUTHSERV_IDS")

    def trusted_authserv_id_list(self) -> tuple[str, ...]:
        return tuple(x.strip().lower() for x in self.trusted_authserv_ids.split(",") if x.strip())
