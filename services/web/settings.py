from __future__ import annotations

from pydantic import Field

from shared.settings import BaseServiceSettings, WebSecretMixin


class WebSettings(BaseServiceSettings, WebSecretMixin):
    http_port: int = Field(8000, validation_alias="GUICHET_WEB_HTTP_PORT")
    # A verified password is trusted this long before asking tickets again.
    auth_cache_seconds: float = Field(60.0, validation_alias="GUICHET_WEB_AUTH_CACHE_SECONDS")
