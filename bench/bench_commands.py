"""Ticket commands over RPC: create, reply and get, against the running stack.

``GUICHET_BENCH_COMMANDS`` (default 300) of each kind, from ``GUICHET_BENCH_CONCURRENCY``
(default 8) concurrent callers, through the same RPC client the web gateway uses, as the
dev admin. Reported: commands/s for each kind and p50/p95/max latency of one call.
Replies go to the tickets the run created (so their versions grow as in real use).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from shared.messaging import RpcClient
from shared.rpc import tickets as rpc
from shared.settings import BaseServiceSettings

NAME = "commands"
DESCRIPTION = "create / reply / get over RPC against the tickets service"
ACTOR = "admin@example.org"  # the dev seed's administrator


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _drive(
    count: int, concurrency: int, call: Callable[[int], Awaitable[Any]]
) -> tuple[float, list[float], int]:
    """Run ``call(i)`` for i < count with ``concurrency`` callers; latencies in ms."""
    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)

    async def worker() -> None:
        nonlocal errors
        while not queue.empty():
            i = queue.get_nowait()
            started = time.perf_counter()
            try:
                await call(i)
            except Exception:
                errors += 1
                continue
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, latencies, errors


async def run() -> dict[str, Any]:
    count = int(os.environ.get("GUICHET_BENCH_COMMANDS", "300"))
    concurrency = int(os.environ.get("GUICHET_BENCH_CONCURRENCY", "8"))
    client = RpcClient(BaseServiceSettings().broker_url, timeout=60, name="bench")
    await client.start()
    tickets: list[int] = []
    try:

        async def create(i: int) -> None:
            result = await client.call(
                rpc.CREATE_TICKET,
                {
                    "command_id": f"bench-{uuid.uuid4()}",
                    "actor": ACTOR,
                    "queue": "achats",
                    "subject": f"Bench {i}: demande de devis",
                    "text": "Bonjour, merci pour votre offre. " * 20,
                    "requestors": [f"bench-{uuid.uuid4().hex[:8]}@example.net"],
                },
            )
            tickets.append(result["ticket"]["id"])

        async def reply(i: int) -> None:
            await client.call(
                rpc.TICKET_COMMAND,
                {
                    "command_id": f"bench-{uuid.uuid4()}",
                    "actor": ACTOR,
                    "ticket": tickets[i % len(tickets)],
                    "action": "reply",
                    "text": f"Réponse {i}",
                },
            )

        async def get(i: int) -> None:
            await client.call(rpc.GET_TICKET, {"actor": ACTOR, "id": tickets[i % len(tickets)]})

        rows = []
        figures = []
        ok = True
        for name, call in (("create", create), ("reply", reply), ("get", get)):
            if name != "create" and not tickets:
                ok = False
                break
            elapsed, latencies, errors = await _drive(count, concurrency, call)
            ok = ok and errors == 0
            rate = len(latencies) / elapsed if elapsed else 0.0
            p50 = statistics.median(latencies) if latencies else 0.0
            p95 = _percentile(latencies, 0.95) if latencies else 0.0
            peak = max(latencies) if latencies else 0.0
            rows.append(
                [
                    name,
                    len(latencies),
                    errors,
                    f"{rate:.1f}",
                    f"{p50:.1f}",
                    f"{p95:.1f}",
                    f"{peak:.1f}",
                ]
            )
            figures.append({"name": f"{name} commands/s", "value": round(rate, 1), "unit": "/s"})
            figures.append(
                {"name": f"{name} p50 / p95", "value": f"{p50:.1f} / {p95:.1f}", "unit": "ms"}
            )
        return {
            "ok": ok,
            "params": {"count": count, "concurrency": concurrency},
            "figures": figures,
            "tables": [
                {
                    "title": "RPC commands",
                    "columns": ["kind", "done", "errors", "per s", "p50 ms", "p95 ms", "max ms"],
                    "rows": rows,
                }
            ],
        }
    finally:
        await client.stop()
