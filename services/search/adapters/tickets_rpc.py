"""What search asks the tickets service: whom a person may see (kept a few seconds), and
the bytes of an attachment to read the text inside it."""

from __future__ import annotations

import base64
import time
from typing import Any

from shared.errors import RetryableError, ServiceUnavailableError
from shared.messaging import RpcClient
from shared.rpc import tickets as rpc

VISIBILITY_TTL_SECONDS = 2.0


class TicketsClient:
    def __init__(self, client: RpcClient, *, visibility_ttl: float = VISIBILITY_TTL_SECONDS):
        self._rpc = client
        self._ttl = visibility_ttl
        self._visibility: dict[str, tuple[float, rpc.Visibility]] = {}

    async def _call(self, name: str, payload: dict[str, Any]) -> Any:
        try:
            return await self._rpc.call(name, payload)
        except ServiceUnavailableError as exc:  # the tickets service is down or slow
            raise RetryableError(str(exc)) from exc

    async def visibility(self, email: str) -> rpc.Visibility:
        """The tickets service's word on what ``email`` may see; a right given or taken
        back shows within a few seconds."""
        key = email.lower()
        cached = self._visibility.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        found = rpc.Visibility.model_validate(await self._call(rpc.VISIBILITY, {"actor": key}))
        if len(self._visibility) > 10_000:
            self._visibility.clear()
        self._visibility[key] = (time.monotonic() + self._ttl, found)
        return found

    async def attachment(self, sha256: str) -> bytes:
        found = await self._call(rpc.GET_ATTACHMENT, {"actor": rpc.SYSTEM_ACTOR, "sha256": sha256})
        return base64.b64decode(rpc.AttachmentContent.model_validate(found).content_b64)
