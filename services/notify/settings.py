from __future__ import annotations

from pydantic import Field

from shared.settings import BaseServiceSettings


class NotifySettings(BaseServiceSettings):
    http_port: int = Field(8103, validation_alias="GUICHET_NOTIFY_HTTP_PORT")
    smtp_host: str = Field("127.0.0.1", validation_alias="GUICHET_NOTIFY_SMTP_HOST")
    smtp_port: int = Field(1025, validation_alias="GUICHET_NOTIFY_SMTP_PORT")
    smtp_starttls: bool = Field(False, validation_alias="GUICHET_NOTIFY_SMTP_STARTTLS")
    smtp_username: str | None = Field(None, validation_alias="GUICHET_NOTIFY_SMTP_USERNAME")
    smtp_password: str | None = Field(None, validation_alias="GUICHET_NOTIFY_SMTP_PASSWORD")
    smtp_timeout_seconds: float = Field(30.0, validation_alias="GUICHET_NOTIFY_SMTP_TIMEOUT")
