from __future__ import annotations

from pydantic import Field

from shared.settings import BaseServiceSettings


class SearchSettings(BaseServiceSettings):
    http_port: int = Field(8104, validation_alias="GUICHET_SEARCH_HTTP_PORT")
    index_refresh: str = Field("1s", validation_alias="GUICHET_SEARCH_REFRESH_INTERVAL")
    # Reading the text inside files: separate processes, each file bounded in time and size.
    extraction_workers: int = Field(
        1, ge=1, le=8, validation_alias="GUICHET_SEARCH_EXTRACTION_WORKERS"
    )
    extraction_timeout_seconds: float = Field(
        15.0, gt=0, validation_alias="GUICHET_SEARCH_EXTRACTION_TIMEOUT_SECONDS"
    )
    extraction_max_bytes: int = Field(
        25 * 1024 * 1024, ge=0, validation_alias="GUICHET_SEARCH_EXTRACTION_MAX_BYTES"
    )
    extraction_max_chars: int = Field(
        200_000, ge=1000, validation_alias="GUICHET_SEARCH_EXTRACTION_MAX_CHARS"
    )
