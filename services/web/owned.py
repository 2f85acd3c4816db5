"""Saved searches, dashboards and canned responses: one call shape for the REST API and
the interface (the tickets service answers a list; one item for get and put)."""

from __future__ import annotations

from typing import Any

from shared.messaging import RpcClient


async def owned(
    client: RpcClient,
    rpc_name: str,
    actor: str,
    action: str,
    item_id: str | None = None,
    body: dict[str, Any] | None = None,
) -> Any:
    payload: dict[str, Any] = {"actor": actor, "action": action}
    if item_id is not None:
        payload["id"] = item_id
    if body is not None:
        payload["body"] = body
    found = await client.call(rpc_name, payload)
    return found if action == "list" else (found[0] if found else None)
