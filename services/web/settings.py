from __future__ import annotations

from pydantic import Field

from shared.settings import BaseServiceSettings, WebSecretMixin


class WebSettings(BaseServiceSettings, WebSecretMixin):
    # The mixin brings BaseSettings' default config; keep ours (GUICHET_ prefix).
    model_config = BaseServiceSettings.model_config

    http_port: int = Field(8000, validation_alias="GUICHET_WEB_HTTP_PORT")
    # A verified password is trusted this long before asking tickets again.
    auth_cache_seconds: float = Field(60.0, validation_alias="GUICHET_WEB_AUTH_CACHE_SECONDS")
    # How long a login lasts in the browser.
    session_hours: float = Field(12.0, gt=0, validation_alias="GUICHET_WEB_SESSION_HOURS")
    # Send the session cookie over HTTPS only (set behind TLS; the local stack is plain HTTP).
    secure_cookies: bool = Field(False, validation_alias="GUICHET_WEB_SECURE_COOKIES")
