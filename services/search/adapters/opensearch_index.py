"""OpenSearch adapter: versioned indices behind aliases, externally versioned writes."""

from __future__ import annotations

import logging
from typing import Any

from opensearchpy import AsyncOpenSearch
from opensearchpy.helpers import async_bulk

from services.search.domain.documents import (
    MAPPING_VERSION,
    MESSAGE_FIELDS,
    TICKET_FIELDS,
    index_body,
    mapping_body,
)

log = logging.getLogger(__name__)


class OpenSearchTicketIndex:
    def __init__(self, client: AsyncOpenSearch, namespace: str, *, refresh_interval: str) -> None:
        self._client = client
        self.tickets_alias = f"{namespace}-tickets"
        self.messages_alias = f"{namespace}-messages"
        self._refresh_interval = refresh_interval

    async def ensure_indices(self) -> None:
        for alias, fields in (
            (self.tickets_alias, TICKET_FIELDS),
            (self.messages_alias, MESSAGE_FIELDS),
        ):
            if await self._client.indices.exists_alias(name=alias):
                # New fields are added in place (a mapping only grows); a change to an
                # existing field needs a new MAPPING_VERSION and a rebuild.
                await self._client.indices.put_mapping(index=alias, body=mapping_body(fields))
                continue
            concrete = f"{alias}-v{MAPPING_VERSION}"
            if not await self._client.indices.exists(index=concrete):
                await self._client.indices.create(
                    index=concrete, body=index_body(fields, self._refresh_interval)
                )
            await self._client.indices.put_alias(index=concrete, name=alias)

    async def ping(self) -> bool:
        return bool(await self._client.ping())

    async def write(self, ticket_doc: dict[str, Any], message_doc: dict[str, Any] | None) -> int:
        """Index a ticket (and its message) at the ticket's version; an older version than
        the one stored is refused by OpenSearch (external versioning) and ignored here.
        Returns how many writes were stale."""
        version = ticket_doc["version"]
        actions: list[dict[str, Any]] = [
            {
                "_op_type": "index",
                "_index": self.tickets_alias,
                "_id": str(ticket_doc["ticket_id"]),
                "version": version,
                "version_type": "external",
                "_source": ticket_doc,
            }
        ]
        if message_doc is not None:
            actions.append(
                {
                    "_op_type": "index",
                    "_index": self.messages_alias,
                    "_id": message_doc["txn_id"],
                    # The message's own text never changes; its ticket fields may: >= lets a
                    # redelivery or a reindex write the same version again.
                    "version": version,
                    "version_type": "external_gte",
                    "_source": message_doc,
                }
            )
        _, errors = await async_bulk(self._client, actions, raise_on_error=False)
        stale = 0
        for error in errors:  # type: ignore[union-attr]
            item = next(iter(error.values()))
            if item.get("status") == 409:
                stale += 1
            else:
                raise RuntimeError(f"indexing failed: {item}")
        return stale

    async def search(
        self, query: dict[str, Any], *, limit: int, offset: int
    ) -> tuple[int, list[int]]:
        """Ticket ids matching ``query`` in tickets or messages, one per ticket, best first."""
        body = {
            "query": query,
            "collapse": {"field": "ticket_id"},
            "from": offset,
            "size": limit,
            "_source": False,
            "fields": ["ticket_id"],
            "sort": [{"_score": "desc"}, {"ticket_id": "desc"}],
            "aggs": {
                "tickets": {"cardinality": {"field": "ticket_id", "precision_threshold": 40000}}
            },
            "track_total_hits": False,
        }
        result = await self._client.search(
            index=f"{self.tickets_alias},{self.messages_alias}", body=body
        )
        ids = [int(hit["fields"]["ticket_id"][0]) for hit in result["hits"]["hits"]]
        return int(result["aggregations"]["tickets"]["value"]), ids

    async def tickets(self, ids: list[int]) -> dict[int, dict[str, Any]]:
        if not ids:
            return {}
        result = await self._client.mget(
            index=self.tickets_alias, body={"ids": [str(i) for i in ids]}
        )
        return {int(d["_id"]): d["_source"] for d in result["docs"] if d.get("found")}
