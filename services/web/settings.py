from __future__ import annotations

from pydantic import Field

from shared.settings import BaseServiceSettings, WebSecretMixin


class WebSettings(BaseServiceSettings, WebSecretMixin):
    # The mixin brings BaseSettings' default config; keep ours (GUICHET_ prefix).
    model_config = BaseServiceSettings.model_config

    http_port: int = Field(8000, validation_alias="GUICHET_WEB_HTTP_PORT")
    # A verified password is trusted this long before asking tickets again.
    auth_cache_seconds: float = Field(60.0, validation_alias="GUICHET_WEB_AUTH_CACHE_SECONDS")
