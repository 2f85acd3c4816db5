from __future__ import annotations

from pathlib import Path

from pydantic import Field

from shared.settings import BaseServiceSettings


class IngestSettings(BaseServiceSettings):
    smtp_host: str = Field("127.0.0.1", validation_alias="GUICHET_INGEST_SMTP_HOST")
    smtp_port: int = Field(2525, validation_alias="GUICHET_INGEST_SMTP_PORT")
    smtp_hostname: str = Field("guichet-ingest", validation_alias="GUICHET_INGEST_SMTP_HOSTNAME")
    http_port: int = Field(8101, validation_alias="GUICHET_INGEST_HTTP_PORT")
    spool_dir: Path = Field(Path("var/spool/ingest"), validation_alias="GUICHET_INGEST_SPOOL_DIR")
    max_message_bytes: int = Field(30 * 1024 * 1024, validation_alias="GUICHET_INGEST_MAX_BYTES")
    max_recipients: int = Field(20, validation_alias="GUICHET_INGEST_MAX_RECIPIENTS")
    routes_refresh_seconds: float = Field(15.0, validation_alias="GUICHET_INGEST_ROUTES_REFRESH")
