from __future__ import annotations

from pydantic import Field

from shared.settings import BaseServiceSettings


class NotifySettings(BaseServiceSettings):
    http_port: int = Field(8103, validation_alias="GUICHET_NOTIFY_HTTP_PORT")
    # The smarthost: STARTTLS on a plain port (587), or TLS from the start (465).
    smtp_host: str = Field("127.0.0.1", validation_alias="GUICHET_NOTIFY_SMTP_HOST")
    smtp_port: int = Field(1025, validation_alias="GUICHET_NOTIFY_SMTP_PORT")
    smtp_starttls: bool = Field(False, validation_alias="GUICHET_NOTIFY_SMTP_STARTTLS")
    smtp_tls: bool = Field(False, validation_alias="GUICHET_NOTIFY_SMTP_TLS")
    smtp_validate_certs: bool = Field(True, validation_alias="GUICHET_NOTIFY_SMTP_VALIDATE_CERTS")
    smtp_username: str | None = Field(None, validation_alias="GUICHET_NOTIFY_SMTP_USERNAME")
    smtp_password: str | None = Field(None, validation_alias="GUICHET_NOTIFY_SMTP_PASSWORD")
    smtp_timeout_seconds: float = Field(30.0, validation_alias="GUICHET_NOTIFY_SMTP_TIMEOUT")
    # Questions to the tickets service (a file's bytes, a ticket's history): files may be
    # large, and the answer slow on a large FerretDB; longer than the default RPC timeout.
    tickets_rpc_timeout_seconds: float = Field(
        60.0, gt=0, validation_alias="GUICHET_NOTIFY_TICKETS_RPC_TIMEOUT"
    )
    # Autoreplies (and command reports) one address may get per clock hour.
    autoreply_limit_per_hour: int = Field(
        5, ge=1, validation_alias="GUICHET_NOTIFY_AUTOREPLY_LIMIT_PER_HOUR"
    )
