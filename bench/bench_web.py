"""The web interface under load: the ticket page (a ticket with 200 transactions) and the
home page, for ``GUICHET_BENCH_USERS`` (20) agents logged in at once, against the running
stack (``make up``).

Setup: that many privileged agents (created through the REST API), one ticket with
``GUICHET_BENCH_TRANSACTIONS`` (200) transactions (replies, comments and status changes
through the tickets service's RPC, each reply about 1 KB), a browser session each (the
login form with its CSRF token). Then, for each page: one agent alone
(``GUICHET_BENCH_SOLO`` requests, 100); all agents at work together, each asking
``GUICHET_BENCH_REQUESTS`` (30) times with a pause to read between pages (uniform in
``GUICHET_BENCH_THINK`` seconds, 0.5–1.5: about a page a second each, a busy office); and
all agents asking as fast as answers come, without a pause (the most pages the stack
serves). Reported: the time to the whole answer seen by the client (p50 / p95 / max) and
the server's own time (its ``Server-Timing`` header: from the request to the first byte of
the answer).
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import statistics
import time
import uuid
from typing import Any

import httpx

from shared.messaging import RpcClient
from shared.rpc import tickets as rpc
from shared.settings import BaseServiceSettings

NAME = "web"
DESCRIPTION = "ticket page (200 transactions) and home page, 20 agents at work and without pause"
WEB = os.environ.get("GUICHET_WEB_URL", "http://127.0.0.1:8000")
ADMIN = ("admin@example.org", "changeme")
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
TIMING = re.compile(r"app;dur=([0-9.]+)")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


async def _agents(count: int, tag: str) -> list[tuple[str, str]]:
    agents = []
    async with httpx.AsyncClient(base_url=WEB, auth=ADMIN, timeout=30) as api:
        for i in range(count):
            email, password = f"bench-agent-{tag}-{i}@example.org", uuid.uuid4().hex
            answer = await api.put(
                f"/api/v1/users/{email}",
                json={"name": f"Agent {i}", "password": password, "privileged": True},
            )
            answer.raise_for_status()
            agents.append((email, password))
    return agents


async def _ticket(transactions: int, tag: str) -> int:
    client = RpcClient(BaseServiceSettings().broker_url, timeout=60, name="bench-web")
    await client.start()
    try:
        created = await client.call(
            rpc.CREATE_TICKET,
            {
                "command_id": f"bench-web-{tag}",
                "actor": ADMIN[0],
                "queue": "achats",
                "subject": f"Bench web {tag}: devis écrans",
                "text": "Bonjour, merci de chiffrer trois écrans 27 pouces.\n" * 10,
                "requestors": [f"bench-web-{tag}@example.net"],
            },
        )
        ticket = int(created["ticket"]["id"])
        for n in range(transactions - 1):
            base = {"command_id": f"bench-web-{tag}-{n}", "actor": ADMIN[0], "ticket": ticket}
            if n % 10 == 9:  # stalled, or open when it is stalled already (replies reopen it)
                current = (await client.call(rpc.GET_TICKET, {"actor": ADMIN[0], "id": ticket}))[
                    "status"
                ]
                change = {
                    "action": "set_status",
                    "status": "open" if current == "stalled" else "stalled",
                }
            elif n % 3 == 2:
                change = {"action": "comment", "text": f"Note interne {n}: relancer.\n" * 8}
            else:
                change = {
                    "action": "reply",
                    "text": f"Réponse {n}.\n\n> message précédent cité\n> encore\n" * 12,
                }
            await client.call(rpc.TICKET_COMMAND, {**base, **change})
        return ticket
    finally:
        await client.stop()


async def _log_in(email: str, password: str) -> httpx.AsyncClient:
    session = httpx.AsyncClient(base_url=WEB, timeout=30, follow_redirects=False)
    form = await session.get("/login")
    token = CSRF.search(form.text)
    assert token, "no CSRF token on the login page"
    answer = await session.post(
        "/login", data={"csrf": token.group(1), "email": email, "password": password}
    )
    assert answer.status_code == 303, answer.status_code
    return session


async def _series(
    session: httpx.AsyncClient,
    path: str,
    count: int,
    think: tuple[float, float] | None = None,
    seed: int = 0,
) -> list[tuple[float, float]]:
    """(client ms, server ms) of ``count`` requests in a row, with a pause drawn in
    ``think`` (seconds) before each when given."""
    found = []
    pauses = random.Random(seed)  # a reproducible load
    for _ in range(count):
        if think is not None:
            await asyncio.sleep(pauses.uniform(*think))
        started = time.perf_counter()
        answer = await session.get(path)
        elapsed = (time.perf_counter() - started) * 1000
        answer.raise_for_status()
        timing = TIMING.search(answer.headers.get("server-timing", ""))
        found.append((elapsed, float(timing.group(1)) if timing else float("nan")))
    return found


def _row(page: str, users: str, samples: list[tuple[float, float]], seconds: float) -> list[Any]:
    client = [c for c, _ in samples]
    server = [s for _, s in samples]
    return [
        page,
        users,
        len(samples),
        round(len(samples) / seconds, 1),
        round(statistics.median(client), 1),
        round(_percentile(client, 0.95), 1),
        round(max(client), 1),
        round(statistics.median(server), 1),
        round(_percentile(server, 0.95), 1),
    ]


async def run() -> dict[str, Any]:
    users = int(os.environ.get("GUICHET_BENCH_USERS", "20"))
    transactions = int(os.environ.get("GUICHET_BENCH_TRANSACTIONS", "200"))
    requests = int(os.environ.get("GUICHET_BENCH_REQUESTS", "30"))
    solo = int(os.environ.get("GUICHET_BENCH_SOLO", "100"))
    low, high = (float(x) for x in os.environ.get("GUICHET_BENCH_THINK", "0.5-1.5").split("-"))
    tag = uuid.uuid4().hex[:8]
    started = time.perf_counter()
    agents = await _agents(users, tag)
    ticket = await _ticket(transactions, tag)
    setup = time.perf_counter() - started
    sessions = [await _log_in(email, password) for email, password in agents]
    rows, figures = [], []
    try:
        for name, path in (("ticket page", f"/t/{ticket}"), ("home page", "/")):
            await _series(sessions[0], path, 5)  # warm-up
            began = time.perf_counter()
            alone = await _series(sessions[0], path, solo)
            rows.append(_row(name, "1", alone, time.perf_counter() - began))
            for load, think in ((f"{users} at work", (low, high)), (f"{users} no pause", None)):
                began = time.perf_counter()
                together = await asyncio.gather(
                    *(_series(s, path, requests, think, n) for n, s in enumerate(sessions))
                )
                samples = [sample for series in together for sample in series]
                rows.append(_row(name, load, samples, time.perf_counter() - began))
                figures.append(
                    {
                        "name": f"{name}, {load}: client p50 / p95",
                        "value": f"{rows[-1][4]} / {rows[-1][5]}",
                        "unit": "ms",
                    }
                )
                figures.append(
                    {
                        "name": f"{name}, {load}: server p50 / p95",
                        "value": f"{rows[-1][7]} / {rows[-1][8]}",
                        "unit": "ms",
                    }
                )
        page = await sessions[0].get(f"/t/{ticket}")
        size = len(page.content)
    finally:
        for session in sessions:
            await session.aclose()
    return {
        "ok": True,
        "params": {
            "users": users,
            "transactions": transactions,
            "requests": requests,
            "solo": solo,
            "think_seconds": f"{low}-{high}",
            "ticket": ticket,
        },
        "figures": [
            {"name": "setup (agents, ticket)", "value": round(setup, 1), "unit": "s"},
            {"name": "ticket page size", "value": round(size / 1024, 1), "unit": "KiB"},
            *figures,
        ],
        "tables": [
            {
                "title": "Pages (client: whole answer; server: Server-Timing)",
                "columns": [
                    "page",
                    "agents",
                    "requests",
                    "per s",
                    "client p50 ms",
                    "client p95 ms",
                    "client max ms",
                    "server p50 ms",
                    "server p95 ms",
                ],
                "rows": rows,
            }
        ],
    }
