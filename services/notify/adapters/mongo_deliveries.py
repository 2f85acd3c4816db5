"""The delivery log: for each (transaction, recipient), a claim on sending its mail and,
once done, the outcome; and the addresses that fail.

Claims and outcomes are two collections written by unique inserts under the same ``_id``
(the delivery's key): a redelivered event finds the outcome, and two copies of one event
handled at once send one mail. The usual path only inserts and reads by ``_id``: unique
inserts are the one write FerretDB v1 makes atomic under concurrency, and reads by
``_id`` the one look-up its SQLite backend serves from an index — an update there reads
the whole collection, so updates are kept to the rare paths (takeover, failure report).
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from pymongo import AsyncMongoClient
from pymongo.errors import DuplicateKeyError

ClaimState = Literal["claimed", "done", "busy"]
Outcome = Literal["sent", "failed", "skipped"]


@dataclass(frozen=True)
class Claim:
    state: ClaimState
    outcome: dict[str, Any] = field(default_factory=dict)  # when done: what became of it


class MongoDeliveryLog:
    def __init__(self, client: AsyncMongoClient[dict[str, Any]], database: str) -> None:
        self._client = client
        db = client[database]
        self._claims = db["delivery_claims"]
        self.deliveries = db["deliveries"]  # the outcomes: the log an operator reads
        self._takeovers = db["delivery_takeovers"]
        self._failing = db["failing_addresses"]

    async def ensure_indexes(self) -> None:
        await self.deliveries.create_index("ticket", name="ticket")

    async def ping(self) -> bool:
        await self._client.admin.command("ping")
        return True

    async def claim(self, key: str, now: datetime, stale_after: timedelta) -> Claim:
        """Take the right to send mail ``key``: "claimed" (go ahead), "done" (its outcome
        is recorded), or "busy" (another worker is sending it right now).

        A claim whose worker died (older than ``stale_after``, no outcome) is taken over
        — by one worker only: the takeover is itself a unique insert, named after the
        abandoned claim's time.
        """
        try:
            await self._claims.insert_one({"_id": key, "at": now})
            return Claim("claimed")
        except DuplicateKeyError:
            pass
        outcome = await self.deliveries.find_one({"_id": key})
        if outcome is not None:
            return Claim("done", outcome)
        claim = await self._claims.find_one({"_id": key})
        if claim is None or claim["at"] >= now - stale_after:
            return Claim("busy")  # (None: released just now by a worker whose send failed)
        try:
            await self._takeovers.insert_one({"_id": f"{key}@{claim['at'].isoformat()}", "at": now})
        except DuplicateKeyError:
            return Claim("busy")
        await self._claims.update_one({"_id": key}, {"$set": {"at": now}})
        return Claim("claimed")

    async def release(self, key: str) -> None:
        """Give a claim back without sending: the next attempt may take it."""
        await self._claims.delete_one({"_id": key})

    async def record(self, key: str, outcome: Outcome, now: datetime, **details: Any) -> None:
        """The outcome of mail ``key``, once: "sent", "failed" (refused for good) or
        "skipped" (and why)."""
        # A duplicate: recorded by the worker that took over an old claim of ours.
        with suppress(DuplicateKeyError):
            await self.deliveries.insert_one({"_id": key, "status": outcome, "at": now, **details})

    async def note(self, key: str, **fields: Any) -> None:
        await self.deliveries.update_one({"_id": key}, {"$set": fields})

    async def mark_failing(self, address: str, now: datetime, *, ticket: int, reason: str) -> None:
        """Remember that our mail to ``address`` did not arrive (a 5xx or a bounce)."""
        await self._failing.update_one(
            {"_id": address},
            {
                "$set": {"last_failed": now, "reason": reason[:1000]},
                "$setOnInsert": {"first_failed": now},
                "$addToSet": {"tickets": ticket},
            },
            upsert=True,
        )

    async def failing_addresses(self, limit: int = 1000) -> list[dict[str, Any]]:
        cursor = self._failing.find({}).sort("last_failed", -1).limit(limit)
        return [doc async for doc in cursor]

    async def forget_takeovers(self, before: datetime) -> int:
        result = await self._takeovers.delete_many({"at": {"$lt": before}})
        return result.deleted_count
