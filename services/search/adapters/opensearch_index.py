"""OpenSearch adapter: one versioned index behind an alias, written in bulk with external
versions, rebuilt beside the live one and swapped in atomically.

While a rebuild runs, its new index carries a second alias (``<ns>-tickets-rebuild``):
every write goes to both, so nothing written during the rebuild is missing from it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from opensearchpy import AsyncOpenSearch, NotFoundError, RequestError

from services.search.domain.documents import MAPPING_VERSION, Action, index_body, mapping_body
from shared.errors import InvalidInputError, RetryableError

log = logging.getLogger(__name__)

TARGETS_TTL_SECONDS = 1.0


class StaleIndexError(RuntimeError):
    """The live index has an older mapping: it must be rebuilt (``guichet search reindex``)."""


@dataclass
class _Pending:
    actions: list[Action]
    done: asyncio.Future[int]


class OpenSearchTicketIndex:
    def __init__(
        self,
        client: AsyncOpenSearch,
        namespace: str,
        *,
        refresh_interval: str,
        max_batch: int = 1000,
        linger_seconds: float = 0.02,
    ) -> None:
        self.client = client
        self.alias = f"{namespace}-tickets"
        self.rebuild_alias = f"{namespace}-tickets-rebuild"
        self.refresh_interval = refresh_interval
        self._max_batch = max_batch
        self._linger = linger_seconds
        self._pending: list[_Pending] = []
        self._wake = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None
        self._targets: tuple[float, list[str]] = (0.0, [])

    # the index -----------------------------------------------------------------------------
    def new_index_name(self) -> str:
        return f"{self.alias}-v{MAPPING_VERSION}-{datetime.now(UTC):%Y%m%d%H%M%S%f}"

    async def create_index(self, name: str, *, refresh_interval: str | None = None) -> None:
        body = index_body(refresh_interval or self.refresh_interval)
        body["mappings"]["_meta"] = {"mapping_version": MAPPING_VERSION}
        await self.client.indices.create(index=name, body=body)

    async def live_index(self) -> str | None:
        try:
            found = await self.client.indices.get_alias(name=self.alias)
        except NotFoundError:
            return None
        return str(next(iter(found)))

    async def mapping_version(self, index: str) -> int:
        found = await self.client.indices.get_mapping(index=index)
        meta = next(iter(found.values()))["mappings"].get("_meta", {})
        return int(meta.get("mapping_version", 1))

    async def ensure_index(self) -> None:
        """Create the first index; refuse to write into one of an older mapping."""
        live = await self.live_index()
        if live is None:
            name = self.new_index_name()
            await self.create_index(name)
            await self.client.indices.put_alias(index=name, name=self.alias)
            log.info("created index %s behind %s", name, self.alias)
            return
        version = await self.mapping_version(live)
        if version != MAPPING_VERSION:
            raise StaleIndexError(
                f"index {live} has mapping version {version}, this service writes version "
                f"{MAPPING_VERSION}: run `guichet search reindex` to rebuild it"
            )
        # New fields are added in place (a mapping only grows); a change to an existing
        # field needs a new MAPPING_VERSION and a rebuild.
        await self.client.indices.put_mapping(index=self.alias, body=mapping_body())

    async def ping(self) -> bool:
        return bool(await self.client.ping())

    async def refresh(self) -> None:
        await self.client.indices.refresh(index=self.alias)

    async def write_targets(self) -> list[str]:
        """The live alias, and the index being rebuilt if any (looked up once a second)."""
        checked, targets = self._targets
        if time.monotonic() - checked < TARGETS_TTL_SECONDS and targets:
            return targets
        targets = [self.alias]
        try:
            found = await self.client.indices.get_alias(name=self.rebuild_alias)
            targets += sorted(found)
        except NotFoundError:
            pass
        self._targets = (time.monotonic(), targets)
        return targets

    # writing --------------------------------------------------------------------------------
    async def write(self, actions: list[Action]) -> int:
        """Write ``actions`` (in the next bulk request, shared with concurrent callers);
        returns how many were stale — older than what is stored, ignored. Raises when any
        write failed otherwise, so the event is retried."""
        if not actions:
            return 0
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_forever())
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._pending.append(_Pending(actions, done))
        self._wake.set()
        return await done

    async def _flush_forever(self) -> None:
        while True:
            await self._wake.wait()
            if sum(len(p.actions) for p in self._pending) < self._max_batch:
                await asyncio.sleep(self._linger)  # let concurrent events join this bulk
            self._wake.clear()
            batch, self._pending = self._pending, []
            try:
                outcomes = await self.bulk([a for p in batch for a in p.actions])
            except Exception as exc:  # every caller of this bulk retries its event
                for pending in batch:
                    if not pending.done.done():
                        pending.done.set_exception(exc)
                continue
            position = 0
            for pending in batch:
                mine = outcomes[position : position + len(pending.actions)]
                position += len(pending.actions)
                failures = [o for o in mine if o not in ("ok", "stale")]
                if pending.done.done():
                    continue
                if failures:
                    pending.done.set_exception(RuntimeError(f"indexing failed: {failures[0]}"))
                else:
                    pending.done.set_result(mine.count("stale"))

    async def bulk(self, actions: list[Action], *, targets: list[str] | None = None) -> list[str]:
        """One bulk request: each action to every target. Per action: "ok", "stale" (its
        version is older than the stored one), or the error."""
        targets = targets or await self.write_targets()
        lines: list[dict[str, Any]] = []
        for action in actions:
            for target in targets:
                meta = {k: v for k, v in action.items() if k != "_source"}
                lines.append({"index": {"_index": target, **meta}})
                lines.append(action["_source"])
        result = await self.client.bulk(body=lines)
        outcomes = []
        items = result["items"]
        for position in range(len(actions)):
            outcome = "ok"
            for item in items[position * len(targets) : (position + 1) * len(targets)]:
                status = item["index"].get("status", 500)
                if status == 409:
                    outcome = "stale" if outcome == "ok" else outcome
                elif status >= 300:
                    outcome = str(item["index"].get("error", status))[:500]
            outcomes.append(outcome)
        return outcomes

    async def close(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()

    # reading --------------------------------------------------------------------------------
    async def search(self, body: dict[str, Any], *, index: str | None = None) -> dict[str, Any]:
        """Run a search; one OpenSearch refuses (a ``search_after`` of the wrong shape, a
        time zone it does not know) is the asker's error, not ours."""
        try:
            result: dict[str, Any] = await self.client.search(index=index or self.alias, body=body)
        except RequestError as exc:
            raise _refused_request(exc) from None
        return result

    async def search_many(self, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Several searches in one request (``_msearch``), answered in order; one that
        OpenSearch refuses fails them all, as ``search`` would."""
        if not bodies:
            return []
        lines: list[dict[str, Any]] = []
        for body in bodies:
            lines += [{}, body]
        try:
            answer = await self.client.msearch(index=self.alias, body=lines)
        except RequestError as exc:
            raise _refused_request(exc) from None
        results: list[dict[str, Any]] = answer["responses"]
        for result in results:
            if "error" not in result:
                continue
            if result.get("status") == 400:  # as a refused search alone: the asker's
                raise _refused(result, "refused")
            raise RetryableError(f"OpenSearch could not run a search: {result['error']!r:.300}")
        return results

    async def children(
        self, ids: list[str], routing: dict[str, str], *, index: str | None = None
    ) -> dict[str, dict[str, Any]]:
        """Stored children by id (their ticket's number as routing), for reuse."""
        if not ids:
            return {}
        docs = [{"_id": i, "routing": routing[i]} for i in ids]
        try:
            result = await self.client.mget(index=index or self.alias, body={"docs": docs})
        except NotFoundError:
            return {}
        return {d["_id"]: d["_source"] for d in result["docs"] if d.get("found")}


def _refused_request(exc: RequestError) -> InvalidInputError:
    return _refused(exc.info if isinstance(exc.info, dict) else {}, exc.error)


def _refused(info: dict[str, Any], fallback: object) -> InvalidInputError:
    """An asker's error from what OpenSearch said of a search it refused."""
    error = info.get("error")
    reason = ""
    if isinstance(error, dict):
        reason = (error.get("root_cause") or [{}])[0].get("reason", "") or error.get("reason", "")
    return InvalidInputError(f"the search cannot be run: {reason or fallback}")
