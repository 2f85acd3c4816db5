from __future__ import annotations

from pydantic import Field

from shared.settings import BaseServiceSettings


class SearchSettings(BaseServiceSettings):
    http_port: int = Field(8104, validation_alias="GUICHET_SEARCH_HTTP_PORT")
    index_refresh: str = Field("1s", validation_alias="GUICHET_SEARCH_REFRESH_INTERVAL")
