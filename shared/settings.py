"""Settings shared by every service, read from the environment (prefix ``GUICHET_``).

Each service extends :class:`BaseServiceSettings` with its own fields; a service-specific
field is named ``<service>_<name>`` in the environment (``GUICHET_INGEST_SMTP_PORT``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET_PLACEHOLDER = "dev-only-change-me"  # noqa: S105 - refused outside development


class BaseServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GUICHET_", extra="ignore", frozen=True)

    env: Literal["development", "test", "production"] = "development"
    broker_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    mongo_url: str = "mongodb://127.0.0.1:27017/"
    opensearch_url: str = "http://127.0.0.1:9200"
    # Every database/index name starts with this prefix, so tests can run side by side.
    namespace: str = "guichet"
    http_host: str = "127.0.0.1"
    log_level: str = "INFO"
    log_json: bool = True
    rpc_timeout_seconds: float = 10.0
    publish_timeout_seconds: float = 5.0
    outbox_relay_interval_seconds: float = 2.0
    # Document-store commands slower than this are logged with their filter.
    slow_query_ms: float = 100.0

    def database_name(self, service: str) -> str:
        return f"{self.namespace}_{service}"


class WebSecretMixin(BaseSettings):
    """A secret that must not keep its development placeholder in production."""

    web_secret_key: str = Field(default=DEV_SECRET_PLACEHOLDER)

    @model_validator(mode="after")
    def _refuse_placeholder_in_production(self) -> WebSecretMixin:
        env = getattr(self, "env", "development")
        if env == "production" and self.web_secret_key == DEV_SECRET_PLACEHOLDER:
            raise ValueError("GUICHET_WEB_SECRET_KEY must be set in production")
        return self
