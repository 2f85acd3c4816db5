"""The delivery log: one document per (transaction, recipient, template).

Its ``_id`` is that triple, so a redelivered event finds the mail already sent, and two
copies of one event handled at once send it once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.errors import DuplicateKeyError


class MongoDeliveryLog:
    def __init__(self, client: AsyncMongoClient[dict[str, Any]], database: str) -> None:
        self._client = client
        self.deliveries = client[database]["deliveries"]

    async def ensure_indexes(self) -> None:
        await self.deliveries.create_index("ticket", name="ticket")

    async def ping(self) -> bool:
        await self._client.admin.command("ping")
        return True

    async def claim(self, key: str, now: datetime, stale_after: timedelta, **fields: Any) -> str:
        """Take the right to send mail ``key``: "claimed" (go ahead), "done" (sent or failed
        for good already), or "busy" (another worker is sending it right now).

        The claim is an insert under a unique ``_id`` — atomic on MongoDB and on FerretDB —
        so two copies of one event, handled at once, send one mail. A claim left "sending"
        longer than ``stale_after`` (its worker died) is taken over.
        """
        try:
            await self.deliveries.insert_one(
                {"_id": key, "status": "sending", "created": now, "updated": now, **fields}
            )
            return "claimed"
        except DuplicateKeyError:
            pass
        doc = await self.deliveries.find_one({"_id": key}, {"status": 1, "updated": 1})
        if doc is None or doc["status"] in {"sent", "failed"}:
            return "done" if doc is not None else "busy"
        if doc["updated"] < now - stale_after:
            taken = await self.deliveries.update_one(
                {"_id": key, "status": "sending", "updated": doc["updated"]},
                {"$set": {"updated": now}},
            )
            return "claimed" if taken.modified_count == 1 else "busy"
        return "busy"

    async def release(self, key: str) -> None:
        await self.deliveries.delete_one({"_id": key, "status": "sending"})

    async def mark(self, key: str, status: str, now: datetime, error: str | None = None) -> None:
        await self.deliveries.update_one(
            {"_id": key}, {"$set": {"status": status, "updated": now, "error": error}}
        )
