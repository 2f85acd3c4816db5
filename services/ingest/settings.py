from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator
from pydantic_settings import NoDecode

from services.ingest.domain.peers import Network, parse_networks
from shared.settings import BaseServiceSettings


class IngestSettings(BaseServiceSettings):
    smtp_host: str = Field("127.0.0.1", validation_alias="GUICHET_INGEST_SMTP_HOST")
    smtp_port: int = Field(2525, validation_alias="GUICHET_INGEST_SMTP_PORT")
    smtp_hostname: str = Field("guichet-ingest", validation_alias="GUICHET_INGEST_SMTP_HOSTNAME")
    # LMTP (RFC 2033) for an MTA on the same host or network; 0 or empty: no LMTP listener.
    lmtp_host: str = Field("127.0.0.1", validation_alias="GUICHET_INGEST_LMTP_HOST")
    lmtp_port: int | None = Field(2424, validation_alias="GUICHET_INGEST_LMTP_PORT")
    http_port: int = Field(8101, validation_alias="GUICHET_INGEST_HTTP_PORT")
    spool_dir: Path = Field(Path("var/spool/ingest"), validation_alias="GUICHET_INGEST_SPOOL_DIR")
    max_message_bytes: int = Field(30 * 1024 * 1024, validation_alias="GUICHET_INGEST_MAX_BYTES")
    max_recipients: int = Field(20, validation_alias="GUICHET_INGEST_MAX_RECIPIENTS")
    routes_refresh_seconds: float = Field(15.0, validation_alias="GUICHET_INGEST_ROUTES_REFRESH")
    # STARTTLS is offered on both listeners when a certificate and its key are given (PEM).
    tls_cert: Path | None = Field(None, validation_alias="GUICHET_INGEST_TLS_CERT")
    tls_key: Path | None = Field(None, validation_alias="GUICHET_INGEST_TLS_KEY")
    # Refuse MAIL until the client has done STARTTLS.
    require_tls: bool = Field(False, validation_alias="GUICHET_INGEST_REQUIRE_TLS")
    # Hosts (CIDRs, comma or space separated) that may send; empty: every host.
    allowed_peers: Annotated[tuple[Network, ...], NoDecode] = Field(
        (), validation_alias="GUICHET_INGEST_ALLOWED_PEERS"
    )

    @field_validator("lmtp_port", mode="before")
    @classmethod
    def _zero_or_empty_port_is_none(cls, value: Any) -> Any:
        return None if value in ("", 0, "0") else value

    @field_validator("tls_cert", "tls_key", mode="before")
    @classmethod
    def _empty_path_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("allowed_peers", mode="before")
    @classmethod
    def _parse_networks(cls, value: Any) -> Any:
        return parse_networks(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _tls_is_whole(self) -> IngestSettings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("GUICHET_INGEST_TLS_CERT and GUICHET_INGEST_TLS_KEY go together")
        if self.require_tls and self.tls_cert is None:
            raise ValueError("GUICHET_INGEST_REQUIRE_TLS needs GUICHET_INGEST_TLS_CERT and _KEY")
        return self
