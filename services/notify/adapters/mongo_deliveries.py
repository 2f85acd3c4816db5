"""The delivery log: one document per (transaction, recipient, template).

Its ``_id`` is that triple, so a redelivered event finds the mail already sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import AsyncMongoClient


class MongoDeliveryLog:
    def __init__(self, client: AsyncMongoClient[dict[str, Any]], database: str) -> None:
        self._client = client
        self.deliveries = client[database]["deliveries"]

    async def ensure_indexes(self) -> None:
        await self.deliveries.create_index("ticket", name="ticket")

    async def ping(self) -> bool:
        await self._client.admin.command("ping")
        return True

    async def status(self, key: str) -> str | None:
        doc = await self.deliveries.find_one({"_id": key}, {"status": 1})
        return doc["status"] if doc else None

    async def record(self, key: str, **fields: Any) -> None:
        await self.deliveries.update_one({"_id": key}, {"$set": fields}, upsert=True)

    async def mark(self, key: str, status: str, now: datetime, error: str | None = None) -> None:
        await self.deliveries.update_one(
            {"_id": key}, {"$set": {"status": status, "updated": now, "error": error}}
        )
