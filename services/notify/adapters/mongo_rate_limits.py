"""How many autoreplies an address got this hour: at most ``limit`` slots per (address,
clock hour), each a document with a unique ``_id`` — taking one is a unique insert,
atomic on MongoDB and on FerretDB (whose conditional updates and ``$inc`` are not).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.errors import DuplicateKeyError


class MongoAutoreplyLimiter:
    def __init__(
        self, client: AsyncMongoClient[dict[str, Any]], database: str, *, per_hour: int
    ) -> None:
        self._slots = client[database]["autoreply_slots"]
        self.per_hour = per_hour

    async def take_slot(self, address: str, now: datetime, delivery: str) -> str | None:
        """A slot for one more autoreply to ``address`` this hour, or None when the hour's
        are all taken. Slots are tried in order; most addresses get the first."""
        hour = now.strftime("%Y-%m-%dT%H")
        for number in range(self.per_hour):
            slot = f"{address}|{hour}|{number}"
            try:
                await self._slots.insert_one({"_id": slot, "at": now, "delivery": delivery})
            except DuplicateKeyError:
                continue
            return slot
        return None

    async def forget_before(self, before: datetime) -> int:
        """Drop the slots of past hours (FerretDB v1 has no TTL indexes)."""
        result = await self._slots.delete_many({"at": {"$lt": before}})
        return result.deleted_count
