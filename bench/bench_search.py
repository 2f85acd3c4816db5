"""Search at 100,000 tickets: indexing throughput, transaction→searchable, query latency,
and ``guichet search reindex`` — on a namespace and a RabbitMQ virtual host of its own.

``GUICHET_BENCH_TICKETS`` (100,000) tickets made from ``GUICHET_BENCH_SEED`` by
``bench/search_corpus.py`` (about 3 messages each, 3.8 transactions) are written straight
into the tickets store of namespace ``GUICHET_BENCH_NAMESPACE`` (``benchsearch``): the
documents ``MongoTicketStore`` writes for them (``insert_many``). Then the real tickets
and search services (``python -m services.tickets``, ``services.search``) are started on
a fresh virtual host with that namespace, on ops ports 18102 and 18104
(``GUICHET_BENCH_TICKETS_PORT``, ``GUICHET_BENCH_SEARCH_PORT``), and:

1. indexing: every transaction's ``ticket.txn.*`` event (the envelope the tickets service
   publishes, in time order) goes to the events exchange, with publisher confirms, never
   more than ``GUICHET_BENCH_BACKLOG`` (20,000) waiting in search's queue; the clock stops
   when the index holds every message and the sum of the tickets' versions there equals
   the number of transactions (polled every second; the index refreshes every second);
2. transaction→searchable: while ``GUICHET_BENCH_BACKGROUND_RATE`` (50) events/s of new
   tickets go out, ``GUICHET_BENCH_MARKED`` (100) new tickets, each with a word of its own,
   are published one at a time; ``search.tickets`` (the RPC the web gateway calls) is
   asked for the word every 20 ms from the publish until it answers the ticket;
3. queries: ``GUICHET_BENCH_QUERY_CALLS`` (200) sequential calls of each query after 20
   warm-up calls, as the administrator and as the requestor with the most tickets, through
   the RPC (with its ``tickets.visibility`` call, cached 2 s) and, for OpenSearch's own
   ``took``, the same body sent straight to OpenSearch; then, for the two heaviest text
   queries, variants of their body (no highlights, no exact hit count, the words in the
   messages alone) and OpenSearch's profile of it;
4. ``guichet search reindex`` (``python -m shared.cli search reindex``) over it all, timed
   (its progress lines as they come), and the new index counted; then how fast FerretDB
   streams the export's two cursors (their first 20,000 documents);
5. the query series of 3 again, on the rebuilt index (the same documents, without the
   replaced ticket versions that phases 1–2's burst left in the live one).

Every document of the store of this namespace is the bench's: the database, the indices
and the virtual host are dropped at the start and at the end (kept with
``GUICHET_BENCH_KEEP=1``). ``notify``'s queue is unbound from the events exchange of this
virtual host (no notify runs there: the events would pile up in it). The services' logs
stay in ``/tmp/guichet-bench-search-*/logs`` (named in the notes). The whole run is bounded
by ``GUICHET_BENCH_BUDGET_S`` (3 h); at 100,000 tickets it takes about 25 minutes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import mmap
import os
import random
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aio_pika
import aio_pika.abc
import httpx
from pymongo import AsyncMongoClient

from bench.bench_skeleton import fig, mb, ms, percentile, proc_sample, stack_pids
from bench.search_corpus import (
    ADMIN,
    QUEUES,
    RTNAME,
    Corpus,
    Step,
    event_of,
    now_minute,
    store_docs,
)
from services.search.domain.queries import TEXT_FIELDS, QueryBuilder
from services.search.domain.query_language import parse_quick_query
from services.tickets.adapters.mongo_store import WITHOUT_EVENT, MongoTicketStore
from shared.messaging import RpcClient
from shared.rpc import search as search_rpc
from shared.rpc import tickets as tickets_rpc
from shared.rpc.search import TextCondition
from shared.topology import EVENTS_EXCHANGE, NOTIFY_EVENTS, SEARCH_EVENTS

NAME = "search"
DESCRIPTION = "100,000 tickets: indexing, transaction→searchable, query p50/p95, reindex"

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # everything on this machine
AMQP_BASE = f"amqp://guest:guest@{HOST}:5672"
MANAGEMENT = f"http://{HOST}:15672"
MONGO_URL = f"mongodb://{HOST}:27017/"
OPENSEARCH = f"http://{HOST}:9200"
VHOST_PREFIX = "guichet-bench-search-"
EVENT_TYPES = (
    "ticket.txn.create",
    "ticket.txn.correspond",
    "ticket.txn.comment",
    "ticket.txn.status",
)
QUERIES: tuple[tuple[str, str | None], ...] = (
    ("field: status:open queue:achats", "status:open queue:achats"),
    ("full text: devis écran", "devis écran"),
    ("full text, selective: a quote reference", ""),  # one from the corpus, at run time
    ('phrase: "bon de commande"', '"bon de commande"'),
    ("dashboard aggregation", None),
)


@dataclass(frozen=True)
class Params:
    tickets: int = 100_000
    seed: int = 20261125
    namespace: str = "benchsearch"
    keep: bool = False
    backlog: int = 20_000
    publish_chunk: int = 500
    background_rate: float = 50.0
    marked: int = 100
    marked_timeout_s: float = 30.0
    poll_s: float = 0.020
    query_calls: int = 200
    warmup: int = 20
    tickets_port: int = 18102
    search_port: int = 18104
    index_drain_s: float = 3600.0
    reindex_timeout_s: float = 1800.0
    budget_s: float = 3 * 3600.0

    @classmethod
    def from_env(cls) -> Params:
        d = cls()

        def env(name: str, default: float) -> float:
            return float(os.environ.get(f"GUICHET_BENCH_{name}", default))

        namespace = os.environ.get("GUICHET_BENCH_NAMESPACE", d.namespace)
        if not namespace.isalnum() or not namespace.islower() or namespace == "guichet":
            raise ValueError("GUICHET_BENCH_NAMESPACE: lower-case letters and digits, not guichet")
        return cls(
            tickets=int(env("TICKETS", d.tickets)),
            seed=int(env("SEED", d.seed)),
            namespace=namespace,
            keep=os.environ.get("GUICHET_BENCH_KEEP", "0") == "1",
            backlog=int(env("BACKLOG", d.backlog)),
            background_rate=env("BACKGROUND_RATE", d.background_rate),
            marked=int(env("MARKED", d.marked)),
            query_calls=int(env("QUERY_CALLS", d.query_calls)),
            warmup=int(env("WARMUP", d.warmup)),
            tickets_port=int(env("TICKETS_PORT", d.tickets_port)),
            search_port=int(env("SEARCH_PORT", d.search_port)),
            index_drain_s=env("INDEX_DRAIN_S", d.index_drain_s),
            reindex_timeout_s=env("REINDEX_TIMEOUT_S", d.reindex_timeout_s),
            budget_s=env("BUDGET_S", d.budget_s),
        )

    @property
    def database(self) -> str:
        return f"{self.namespace}_tickets"

    @property
    def alias(self) -> str:
        return f"{self.namespace}-tickets"


def say(text: str) -> None:
    print(f"   {time.strftime('%H:%M:%S')} {text}", flush=True)


# --- the events, in a file ----------------------------------------------------------------


@dataclass
class EventFile:
    """Serialised envelopes, one after the other in one file (they would not all fit in
    memory comfortably), with where each one is."""

    path: Path
    # (occurred_at, offset, length, type index, event id)
    index: list[tuple[float, int, int, int, str]] = field(default_factory=list)
    _out: Any = None
    _size: int = 0

    def open(self) -> None:
        self._out = self.path.open("wb")

    def add(self, wire: dict[str, Any], occurred: float) -> None:
        body = json.dumps(wire, ensure_ascii=False, separators=(",", ":")).encode()
        self._out.write(body)
        self.index.append(
            (occurred, self._size, len(body), EVENT_TYPES.index(wire["type"]), wire["id"])
        )
        self._size += len(body)

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None

    @property
    def bytes(self) -> int:
        return self._size


# --- the store ----------------------------------------------------------------------------


@dataclass
class Loaded:
    tickets: int = 0
    transactions: int = 0
    messages: int = 0
    documents: int = 0
    requestor_tickets: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)

    def note(self, steps: list[Step]) -> None:
        self.tickets += 1
        self.transactions += len(steps)
        self.messages += sum(s.txn.message is not None for s in steps)
        final = steps[-1].after
        self.statuses[final.status] += 1
        for address in final.requestors:
            self.requestor_tickets[address] += 1


class Loader:
    """Histories → store documents (``insert_many``, several collections at once) and
    events (into the ``EventFile``); generation overlaps FerretDB's work."""

    def __init__(self, db: Any, events: EventFile | None, batch: int = 2000) -> None:
        self._db = db
        self._events = events
        self._batch = batch
        self._docs: dict[str, list[Any]] = {}
        self._pending = 0
        self._writes: asyncio.Queue[dict[str, list[Any]] | None] = asyncio.Queue(maxsize=3)
        self._writer: asyncio.Task[None] | None = None
        self.loaded = Loaded()
        self.write_s = 0.0

    async def _write_forever(self) -> None:
        while (docs := await self._writes.get()) is not None:
            started = time.perf_counter()
            await asyncio.gather(
                *(
                    self._db[name].insert_many(items, ordered=False)
                    for name, items in docs.items()
                    if items
                )
            )
            self.write_s += time.perf_counter() - started

    async def add(self, steps: list[Step]) -> list[dict[str, Any]]:
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_forever())
        wires = [event_of(s).to_wire() for s in steps]
        if self._events is not None:
            for step, wire in zip(steps, wires, strict=True):
                self._events.add(wire, step.txn.created.timestamp())
        for name, items in store_docs(steps, wires).items():
            self._docs.setdefault(name, []).extend(items)
            self.loaded.documents += len(items)
        self.loaded.note(steps)
        self._pending += len(steps)
        if self._pending >= self._batch:
            await self.flush()
        return wires

    async def flush(self) -> None:
        if self._docs:
            await self._writes.put(self._docs)
            if self._writer is not None and self._writer.done():
                self._writer.result()
        self._docs, self._pending = {}, 0

    async def close(self) -> None:
        await self.flush()
        await self._writes.put(None)
        if self._writer is not None:
            await self._writer


async def prepare_store(p: Params, mongo: AsyncMongoClient[dict[str, Any]], corpus: Corpus) -> None:
    """The namespace's database as a running instance has it: indexes, instance, queues,
    users (the defaults grants apply: agents are privileged)."""
    store = MongoTicketStore(mongo, p.database)
    await store.ensure_indexes()
    await store.set_instance(RTNAME, [])
    for queue in QUEUES:
        await store.upsert_queue(queue)
    await mongo[p.database]["users"].insert_many(corpus.users(), ordered=False)


# --- the services -------------------------------------------------------------------------


@dataclass
class Service:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def alive(self) -> bool:
        return self.process.poll() is None

    def tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def start_service(name: str, port: int, env: dict[str, str], logs: Path) -> Service:
    log_path = logs / f"{name}.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", f"services.{name}"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Service(name, port, process, log_path)


async def wait_ready(services: list[Service], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2.0) as http:
        for service in services:
            while True:
                if not service.alive():
                    raise RuntimeError(f"{service.name} exited:\n{service.tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    resp = await http.get(f"http://{HOST}:{service.port}/readyz")
                    if resp.status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{service.name} not ready in {timeout:.0f} s")
                await asyncio.sleep(0.5)


def stop_service(service: Service) -> None:
    if service.alive():
        service.process.send_signal(signal.SIGTERM)
        try:
            service.process.wait(20)
        except subprocess.TimeoutExpired:
            service.process.kill()
            service.process.wait(10)
    # the extraction workers it started, if any were left (its own process group)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(service.process.pid, signal.SIGKILL)


# --- RabbitMQ -----------------------------------------------------------------------------


async def create_vhost(http: httpx.AsyncClient, name: str) -> str:
    (await http.put(f"/api/vhosts/{name}")).raise_for_status()
    (
        await http.put(
            f"/api/permissions/{name}/guest", json={"configure": ".*", "write": ".*", "read": ".*"}
        )
    ).raise_for_status()
    return f"{AMQP_BASE}/{name}"


async def delete_old_vhosts(http: httpx.AsyncClient) -> None:
    """Virtual hosts an interrupted run of this bench left (only ever made by it)."""
    resp = await http.get("/api/vhosts")
    resp.raise_for_status()
    for vhost in resp.json():
        if str(vhost["name"]).startswith(VHOST_PREFIX):
            await http.delete(f"/api/vhosts/{vhost['name']}")


class Events:
    """Publishes serialised envelopes to the events exchange, confirmed, as the tickets
    service's ``EventPublisher`` does (persistent, mandatory, id and type set)."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._connection: aio_pika.abc.AbstractRobustConnection | None = None
        self._exchange: aio_pika.abc.AbstractExchange | None = None
        # Not robust: a robust channel keeps the queue it declared once and answers a
        # passive declare of the same name from it, without asking the broker again.
        self._peek_connection: aio_pika.abc.AbstractConnection | None = None
        self._peek: aio_pika.abc.AbstractChannel | None = None

    async def start(self) -> None:
        self._connection = await aio_pika.connect_robust(self._url)
        channel = await self._connection.channel(publisher_confirms=True, on_return_raises=True)
        self._exchange = await channel.get_exchange(EVENTS_EXCHANGE.name, ensure=True)
        self._peek_connection = await aio_pika.connect(self._url)
        self._peek = await self._peek_connection.channel()

    async def stop(self) -> None:
        for connection in (self._peek_connection, self._connection):
            if connection is not None:
                await connection.close()

    async def publish(self, body: bytes, event_type: str, event_id: str) -> None:
        assert self._exchange is not None
        await self._exchange.publish(
            aio_pika.Message(
                body,
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                message_id=event_id,
                correlation_id=f"bench-{event_id}",
                type=event_type,
            ),
            routing_key=event_type,
            mandatory=True,
            timeout=30,
        )

    async def waiting(self, queue: str = SEARCH_EVENTS.name) -> int:
        """Messages ready in ``queue`` (a passive declare)."""
        assert self._peek is not None
        found = await self._peek.declare_queue(queue, passive=True)
        result = found.declaration_result
        return int(result.message_count or 0)

    async def unbind_notify(self) -> None:
        assert self._peek is not None and self._exchange is not None
        queue = await self._peek.declare_queue(NOTIFY_EVENTS.name, passive=True)
        for key in NOTIFY_EVENTS.binding_keys:
            await queue.unbind(EVENTS_EXCHANGE.name, routing_key=key)
        await queue.purge()


async def queue_totals(http: httpx.AsyncClient, vhost: str) -> dict[str, int]:
    resp = await http.get(f"/api/queues/{vhost}", params={"columns": "name,messages"})
    resp.raise_for_status()
    return {q["name"]: int(q.get("messages") or 0) for q in resp.json()}


# --- OpenSearch ---------------------------------------------------------------------------


async def index_state(http: httpx.AsyncClient, alias: str) -> tuple[int, int, int]:
    """(tickets, sum of their versions, messages) in the index behind ``alias``."""
    body = {
        "size": 0,
        "track_total_hits": True,
        "aggs": {
            "kinds": {
                "terms": {"field": "doc_kind", "size": 5},
                "aggs": {"versions": {"sum": {"field": "version"}}},
            }
        },
    }
    resp = await http.post(f"/{alias}/_search", json=body)
    if resp.status_code == 404:
        return 0, 0, 0
    resp.raise_for_status()
    buckets = {b["key"]: b for b in resp.json()["aggregations"]["kinds"]["buckets"]}
    tickets = buckets.get("ticket", {})
    return (
        int(tickets.get("doc_count", 0)),
        int(tickets.get("versions", {}).get("value", 0)),
        int(buckets.get("message", {}).get("doc_count", 0)),
    )


async def wait_indexed(
    http: httpx.AsyncClient,
    alias: str,
    want: tuple[int, int, int],
    deadline: float,
    *,
    label: str,
    trace: list[tuple[float, int, int, int]] | None = None,
) -> tuple[float | None, tuple[int, int, int]]:
    """Polls every second until the index holds ``want``; the time it did, or None.
    ``trace`` gets (perf_counter, tickets, versions, messages) at every poll."""
    state = (0, 0, 0)
    last_say = time.monotonic()
    while time.monotonic() < deadline:
        state = await index_state(http, alias)
        if trace is not None:
            trace.append((time.perf_counter(), *state))
        if state == want:
            return time.perf_counter(), state
        if time.monotonic() - last_say > 30:
            last_say = time.monotonic()
            say(
                f"{label}: index has {state[0]:,} tickets (versions {state[1]:,}/{want[1]:,}), "
                f"{state[2]:,}/{want[2]:,} messages"
            )
        await asyncio.sleep(1.0)
    return None, state


async def index_stats(http: httpx.AsyncClient, alias: str) -> dict[str, Any]:
    resp = await http.get(f"/{alias}/_stats/docs,store,indexing,refresh,merge,segments,flush")
    resp.raise_for_status()
    found: dict[str, Any] = next(iter(resp.json()["indices"].values()))["primaries"]
    return found


async def write_tasks(http: httpx.AsyncClient) -> int:
    """Write requests the node has done (bulk shard requests; of every index)."""
    resp = await http.get("/_nodes/_local/stats/thread_pool")
    resp.raise_for_status()
    node = next(iter(resp.json()["nodes"].values()))
    return int(node["thread_pool"]["write"]["completed"])


async def drop_everything(
    p: Params, mongo: AsyncMongoClient[dict[str, Any]], os_http: httpx.AsyncClient
) -> None:
    for name in await mongo.list_database_names():
        if name == p.database:
            await mongo.drop_database(name)
    await os_http.delete(f"/{p.alias}*", params={"ignore_unavailable": "true"})


# --- measuring ----------------------------------------------------------------------------


def cpu_of(pid: int | None) -> float | None:
    return proc_sample(pid).get("cpu_s")


class Cpu:
    """CPU seconds of the processes that matter, phase by phase."""

    def __init__(self, pids: dict[str, int | None]) -> None:
        self.pids = pids
        self.phases: list[tuple[str, dict[str, float | None]]] = []
        self._last = self._sample()

    def _sample(self) -> dict[str, float | None]:
        found = {name: cpu_of(pid) for name, pid in self.pids.items()}
        found["bench"] = time.process_time()
        return found

    def mark(self, phase: str) -> dict[str, float | None]:
        now = self._sample()
        used = {
            name: (now[name] or 0.0) - (self._last.get(name) or 0.0)
            if now[name] is not None and self._last.get(name) is not None
            else None
            for name in now
        }
        self.phases.append((phase, used))
        self._last = now
        return used

    def table(self) -> dict[str, Any]:
        names = [*self.pids, "bench"]
        rows = [
            [phase, *[None if (x := u.get(n)) is None else round(x, 1) for n in names]]
            for phase, u in self.phases
        ]
        return {
            "title": "CPU seconds by phase (FerretDB, OpenSearch, RabbitMQ are shared with "
            "whatever else ran on the machine)",
            "columns": ["phase", *names],
            "rows": rows,
        }


# --- phase 1: indexing --------------------------------------------------------------------


async def publish_all(
    events: Events, efile: EventFile, p: Params, progress: Callable[[int], None]
) -> float:
    """Every event, in time order, the queue never more than ``backlog`` deep; returns the
    time the last one was confirmed."""
    order = sorted(efile.index)
    with efile.path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        position = 0
        while position < len(order):
            if await events.waiting() > p.backlog:
                await asyncio.sleep(0.2)
                continue
            chunk = order[position : position + p.publish_chunk]
            await asyncio.gather(
                *(
                    events.publish(mm[offset : offset + length], EVENT_TYPES[kind], event_id)
                    for _, offset, length, kind, event_id in chunk
                )
            )
            position += len(chunk)
            progress(position)
    return time.perf_counter()


# --- phase 2: transaction → searchable ----------------------------------------------------


async def search_call(rpc: RpcClient, who: str, q: str, limit: int = 25) -> dict[str, Any]:
    request = search_rpc.SearchTickets(principal=search_rpc.Principal(email=who), q=q, limit=limit)
    result: dict[str, Any] = await rpc.call(
        search_rpc.SEARCH_TICKETS, request.model_dump(mode="json")
    )
    return result


@dataclass
class Marked:
    number: int
    word: str
    published: float = 0.0  # perf_counter() before the publish
    confirmed: float = 0.0
    found: float | None = None
    last_miss: float | None = None
    polls: int = 0


async def background(
    events: Events, items: list[tuple[bytes, str, str]], rate: float, stop: asyncio.Event
) -> tuple[int, float]:
    """``rate`` events/s from ``items`` until ``stop`` (or none left): (sent, seconds)."""
    started = time.perf_counter()
    sent = 0
    for body, kind, event_id in items:
        if stop.is_set():
            break
        wait = started + sent / rate - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        await events.publish(body, kind, event_id)
        sent += 1
    return sent, time.perf_counter() - started


async def one_marked(
    events: Events, rpc: RpcClient, db: Any, steps: list[Step], m: Marked, p: Params
) -> None:
    wire = event_of(steps[0]).to_wire()
    for name, docs in store_docs(steps, [wire]).items():
        if docs:
            await db[name].insert_many(docs)
    body = json.dumps(wire, ensure_ascii=False, separators=(",", ":")).encode()
    m.published = time.perf_counter()
    await events.publish(body, wire["type"], wire["id"])
    m.confirmed = time.perf_counter()
    deadline = m.published + p.marked_timeout_s
    while time.perf_counter() < deadline:
        asked = time.perf_counter()
        result = await search_call(rpc, ADMIN, m.word)
        m.polls += 1
        if any(int(item["id"]) == m.number for item in result["items"]):
            m.found = time.perf_counter()
            return
        m.last_miss = asked
        await asyncio.sleep(p.poll_s)


QUERY_COLUMNS = [
    "query",
    "as",
    "hits",
    "RPC p50",
    "RPC p95",
    "RPC p99",
    "RPC max",
    "took p50",
    "took p95",
    "direct p50",
    "direct p95",
]


# --- phase 3: queries ---------------------------------------------------------------------


@dataclass
class Series:
    query: str
    who: str
    hits: int | None = None
    rpc_s: list[float] = field(default_factory=list)
    took_ms: list[float] = field(default_factory=list)
    direct_s: list[float] = field(default_factory=list)
    errors: int = 0


async def query_series(
    rpc: RpcClient,
    os_http: httpx.AsyncClient,
    p: Params,
    label: str,
    q: str | None,
    who: str,
    role: str,
) -> Series:
    series = Series(label, role)

    async def through_rpc() -> dict[str, Any]:
        if q is None:
            request = search_rpc.Aggregate(principal=search_rpc.Principal(email=who))
            found: dict[str, Any] = await rpc.call(
                search_rpc.SEARCH_AGGREGATE, request.model_dump(mode="json")
            )
            return found
        return await search_call(rpc, who, q)

    for i in range(p.warmup + p.query_calls):
        started = time.perf_counter()
        try:
            result = await through_rpc()
        except Exception:
            series.errors += 1
            continue
        if i >= p.warmup:
            series.rpc_s.append(time.perf_counter() - started)
        series.hits = int(result["total"])
    # The same body, straight to OpenSearch: its own ``took`` and the HTTP round trip.
    visibility = tickets_rpc.Visibility.model_validate(
        await rpc.call(tickets_rpc.VISIBILITY, {"actor": who})
    )
    builder = QueryBuilder(visibility)
    if q is None:
        body = builder.aggregation_body(None, weeks=26, time_zone="Europe/Paris")
    else:
        parsed = parse_quick_query(q, me=who.lower())
        body = builder.tickets_body(parsed.condition, sort=(), limit=25, offset=0)
    for i in range(p.warmup + p.query_calls):
        started = time.perf_counter()
        resp = await os_http.post(f"/{p.alias}/_search", json=body)
        elapsed = time.perf_counter() - started
        resp.raise_for_status()
        if i >= p.warmup:
            series.direct_s.append(elapsed)
            series.took_ms.append(float(resp.json()["took"]))
    return series


async def took_series(
    http: httpx.AsyncClient, alias: str, body: dict[str, Any], calls: int, warmup: int
) -> list[float]:
    """OpenSearch's ``took`` (ms) of ``body``, ``calls`` times after ``warmup``."""
    took = []
    for i in range(warmup + calls):
        resp = await http.post(f"/{alias}/_search", json=body)
        resp.raise_for_status()
        if i >= warmup:
            took.append(float(resp.json()["took"]))
    return took


def profile_rows(result: dict[str, Any], depth: int = 2) -> list[list[Any]]:
    """The query tree OpenSearch's profiler timed (to ``depth``), its rewrite, collectors,
    and the request's ``took``. Profiling inflates every timed call: the parts are to be
    compared with each other, not with an unprofiled ``took``."""
    shard = result["profile"]["shards"][0]
    search = shard["searches"][0]
    rows: list[list[Any]] = []

    def walk(node: dict[str, Any], level: int) -> None:
        text = " ".join(str(node.get("description", "")).split())
        name = f"{'· ' * level}{node['type']}: {text[:90]}"
        rows.append([name, round(node["time_in_nanos"] / 1e6, 1)])
        if level < depth:
            for child in node.get("children", []):
                walk(child, level + 1)

    for node in search["query"]:
        walk(node, 0)
    # has_child runs its children's query while rewriting (to find their tickets)
    rows.append(
        ["rewrite (has_child: the children's search)", round(search["rewrite_time"] / 1e6, 1)]
    )
    for collector in search["collector"]:  # overlaps the query's own times
        rows.append([f"collector {collector['name']}", round(collector["time_in_nanos"] / 1e6, 1)])
    rows.append(["took (the whole request, profiled)", float(result["took"])])
    return rows


def words_in_messages(q: str) -> dict[str, Any]:
    """The text of ``q`` matched in messages alone: no join to tickets, no permission, no
    highlight (a floor for what the ticket query does with it)."""
    parsed = parse_quick_query(q, me=ADMIN)
    condition = parsed.condition
    assert isinstance(condition, TextCondition)
    parts = [condition.text] if condition.phrase else condition.text.split()
    kind = {"type": "phrase"} if condition.phrase else {"operator": "and"}
    must = [{"multi_match": {"query": part, "fields": TEXT_FIELDS, **kind}} for part in parts]
    return {
        "size": 25,
        "track_total_hits": True,
        "query": {"bool": {"filter": [{"term": {"doc_kind": "message"}}], "must": must}},
    }


async def anatomy(
    rpc: RpcClient, http: httpx.AsyncClient, p: Params, label: str, q: str
) -> tuple[list[list[Any]], list[list[Any]]]:
    """Where a text query's time goes, as the administrator: variants of its body sent
    straight to OpenSearch (their ``took``), and the profile of the body as it is."""
    visibility = tickets_rpc.Visibility.model_validate(
        await rpc.call(tickets_rpc.VISIBILITY, {"actor": ADMIN})
    )
    builder = QueryBuilder(visibility)
    condition = parse_quick_query(q, me=ADMIN).condition
    as_is = builder.tickets_body(condition, sort=(), limit=25)
    variants = {
        "as search.tickets sends it": as_is,
        "without highlights (advanced search's highlight=false)": builder.tickets_body(
            condition, sort=(), limit=25, highlight=False
        ),
        "the same, without counting every hit (track_total_hits: 10,000)": {
            **builder.tickets_body(condition, sort=(), limit=25, highlight=False),
            "track_total_hits": 10_000,
        },
        "the words in messages alone (no join, no permission)": words_in_messages(q),
    }
    calls = max(10, p.query_calls // 4)
    rows = []
    for name, body in variants.items():
        took = await took_series(http, p.alias, body, calls, 5)
        rows.append([label, name, calls, percentile(took, 0.5), percentile(took, 0.95)])
    resp = await http.post(f"/{p.alias}/_search", json={**as_is, "profile": True})
    resp.raise_for_status()
    return rows, [[label, *row] for row in profile_rows(resp.json())]


async def store_read(db: Any, limit: int, timeout: float) -> list[list[Any]]:
    """How fast FerretDB streams the export's cursors (their first ``limit`` documents):
    every ticket, and every transaction with a message (without its event and ticket)."""
    rows: list[list[Any]] = []
    for name, collection, query, projection in (
        ("tickets (each_ticket)", "tickets", {}, None),
        (
            "transactions with a message, projected (each_message_transaction)",
            "transactions",
            {"message": {"$ne": None}},
            WITHOUT_EVENT,
        ),
        ("transactions, whole documents", "transactions", {}, None),
    ):
        started = time.perf_counter()
        first: float | None = None
        count = 0
        try:
            # No .limit(): pymongo then asks for the rest in one getMore, which FerretDB
            # answers whole, past the protocol's 48 MB (ProtocolError); the export has none.
            async with asyncio.timeout(timeout), db[collection].find(query, projection) as cursor:
                async for _ in cursor:
                    if first is None:
                        first = time.perf_counter() - started
                    count += 1
                    if count >= limit:
                        break
        except TimeoutError:
            pass
        seconds = time.perf_counter() - started
        rows.append([name, count, ms(first), round(count / seconds, 1) if seconds else None])
    return rows


async def visibility_series(rpc: RpcClient, who: str, calls: int) -> list[float]:
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        await rpc.call(tickets_rpc.VISIBILITY, {"actor": who})
        times.append(time.perf_counter() - started)
    return times


# --- phase 4: reindex ---------------------------------------------------------------------


PROGRESS = re.compile(r"tickets (\d+)/\S+\s+messages (\d+)/")


async def run_reindex(env: dict[str, str], logs: Path, timeout: float) -> dict[str, Any]:
    """``guichet search reindex`` in a process of its own; its progress lines (one per
    batch written) are timed as they come."""
    out_path = logs / "reindex.out"
    before = os.times()
    started = time.perf_counter()
    progress: list[tuple[float, int, int]] = []  # (seconds, tickets, messages)
    errors: list[str] = []
    with out_path.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "shared.cli",
            "search",
            "reindex",
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        assert process.stderr is not None

        async def follow(stream: asyncio.StreamReader) -> None:
            async for raw in stream:
                line = raw.decode(errors="replace").strip()
                found = PROGRESS.search(line)
                if found:
                    at = time.perf_counter() - started
                    progress.append((at, int(found.group(1)), int(found.group(2))))
                elif line:
                    errors.append(line)

        try:
            await asyncio.wait_for(asyncio.gather(follow(process.stderr), process.wait()), timeout)
            rc = process.returncode
        except TimeoutError:
            process.kill()
            await process.wait()
            rc = None
    elapsed = time.perf_counter() - started
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    lines = out_path.read_text(errors="replace").strip().splitlines()
    (logs / "reindex.err").write_text("\n".join(errors) + "\n")
    first = progress[0][0] if progress else None
    first_message = next((t for t, _, m in progress if m > 0), None)
    last = progress[-1][0] if progress else None
    return {
        "rc": rc,
        "seconds": elapsed,
        "cpu_s": cpu,
        "last_line": lines[-1] if lines else "",
        "stderr_tail": errors[-3:],
        # until the export's first answer; the tickets; the messages; the swap after them
        "before_first_batch_s": first,
        "tickets_s": (first_message - first) if first is not None and first_message else None,
        "messages_s": (last - first_message) if last is not None and first_message else None,
        "after_last_batch_s": (elapsed - last) if last is not None else None,
        "progress": progress[:: max(1, len(progress) // 200)],
    }


# --- the benchmark ------------------------------------------------------------------------


async def run() -> dict[str, Any]:
    p = Params.from_env()
    bench = Bench(p)
    try:
        async with asyncio.timeout(p.budget_s):
            return await bench.run()
    finally:
        await bench.clean_up()


class Bench:
    """One run: its namespace, virtual host, services, and what it found, phase by phase."""

    def __init__(self, p: Params) -> None:
        self.p = p
        self.work = Path(tempfile.mkdtemp(prefix="guichet-bench-search-"))
        self.logs = self.work / "logs"
        self.logs.mkdir()
        self.vhost = f"{VHOST_PREFIX}{secrets.token_hex(4)}"
        self.url = f"{AMQP_BASE}/{self.vhost}"
        self.mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            MONGO_URL, tz_aware=True, serverSelectionTimeoutMS=5000
        )
        self.db = self.mongo[p.database]
        self.mgmt = httpx.AsyncClient(base_url=MANAGEMENT, auth=("guest", "guest"), timeout=30)
        self.os_http = httpx.AsyncClient(base_url=OPENSEARCH, timeout=120)
        self.corpus = Corpus.make(p.seed, p.tickets, now_minute())
        self.efile = EventFile(self.work / "events.bin")
        self.env = {
            **os.environ,
            "GUICHET_BROKER_URL": self.url,
            "GUICHET_NAMESPACE": p.namespace,
            "GUICHET_MONGO_URL": MONGO_URL,
            "GUICHET_OPENSEARCH_URL": OPENSEARCH,
            "GUICHET_TICKETS_HTTP_PORT": str(p.tickets_port),
            "GUICHET_SEARCH_HTTP_PORT": str(p.search_port),
        }
        self.services: dict[str, Service] = {}
        self.events = Events(self.url)
        self.rpc = RpcClient(self.url, timeout=30, name="bench-search")
        self.cpu: Cpu | None = None
        self.main = Loaded()  # the tickets of the main load
        self.extra = Loaded()  # those of phase 2 (background and marked)
        self.figures: list[dict[str, Any]] = []
        self.tables: list[dict[str, Any]] = []
        self.phases: list[list[Any]] = []
        self.notes: list[str] = []
        self.problems: list[str] = []
        self.samples: dict[str, Any] = {}
        self.ok = False

    # the whole --------------------------------------------------------------------------
    async def run(self) -> dict[str, Any]:
        started = time.perf_counter()
        await drop_everything(self.p, self.mongo, self.os_http)
        await delete_old_vhosts(self.mgmt)
        await create_vhost(self.mgmt, self.vhost)
        await prepare_store(self.p, self.mongo, self.corpus)
        await self.load()
        await self.start_services()
        await self.events.start()
        await self.events.unbind_notify()
        await self.rpc.start()
        await self.indexing()
        await self.txn_to_searchable()
        await self.queries()
        await self.reindex()
        await self.queries_after_rebuild()
        await self.report()
        self.samples["total_s"] = round(time.perf_counter() - started, 1)
        self.ok = not self.problems
        return {
            "ok": self.ok,
            "params": {k: getattr(self.p, k) for k in self.p.__dataclass_fields__},
            "figures": self.figures,
            "tables": self.tables,
            "notes": self.notes + self.problems,
            "samples": self.samples,
        }

    async def clean_up(self) -> None:
        with contextlib.suppress(Exception):
            await self.rpc.stop()
        with contextlib.suppress(Exception):
            await self.events.stop()
        for service in self.services.values():
            stop_service(service)
        if not self.p.keep:
            with contextlib.suppress(Exception):
                await self.mgmt.delete(f"/api/vhosts/{self.vhost}")
            with contextlib.suppress(Exception):
                await drop_everything(self.p, self.mongo, self.os_http)
        with contextlib.suppress(OSError):
            self.efile.path.unlink()
        await self.mongo.close()
        await self.mgmt.aclose()
        await self.os_http.aclose()

    def phase(self, name: str, seconds: float, what: str) -> None:
        self.phases.append([name, round(seconds, 1), what])
        say(f"{name}: {seconds:.1f} s ({what})")

    @property
    def totals(self) -> tuple[int, int, int]:
        """(tickets, transactions, messages) in the store: what the index should hold."""
        return (
            self.main.tickets + self.extra.tickets,
            self.main.transactions + self.extra.transactions,
            self.main.messages + self.extra.messages,
        )

    # set up -----------------------------------------------------------------------------
    async def load(self) -> None:
        """The store of the namespace, filled (not a goal: how the bench gets its tickets)."""
        self.efile.open()
        loader = Loader(self.db, self.efile)
        started = time.perf_counter()
        for number in range(1, self.p.tickets + 1):
            await loader.add(self.corpus.history(number))
            if number % 10_000 == 0:
                say(f"loaded {number:,} tickets ({time.perf_counter() - started:.0f} s)")
        await loader.close()
        self.efile.close()
        seconds = time.perf_counter() - started
        self.main = m = loader.loaded
        self.phase(
            "load the store",
            seconds,
            f"{m.tickets:,} tickets, {m.transactions:,} transactions, {m.messages:,} messages;"
            f" {m.documents:,} documents by insert_many",
        )
        self.figures += [
            fig(
                "tickets / transactions / messages loaded",
                f"{m.tickets:,} / {m.transactions:,} / {m.messages:,}",
            ),
            fig("final statuses", ", ".join(f"{k} {v:,}" for k, v in sorted(m.statuses.items()))),
            fig("store load (generate + insert_many, not a goal)", round(seconds, 1), "s"),
        ]

    async def start_services(self) -> None:
        started = time.perf_counter()
        for name, port in (("tickets", self.p.tickets_port), ("search", self.p.search_port)):
            self.services[name] = start_service(name, port, self.env, self.logs)
            await wait_ready(list(self.services.values()), 300)
        self.phase("start tickets and search", time.perf_counter() - started, "until /readyz")
        stack = stack_pids()
        self.cpu = Cpu(
            {
                "search": self.services["search"].process.pid,
                "tickets": self.services["tickets"].process.pid,
                "opensearch": stack.get("opensearch"),
                "rabbitmq": stack.get("rabbitmq"),
                "ferretdb": stack.get("ferretdb"),
            }
        )

    def mark(self, phase: str) -> dict[str, float | None]:
        assert self.cpu is not None
        return self.cpu.mark(phase)

    # 1 ----------------------------------------------------------------------------------
    async def indexing(self) -> None:
        p, m = self.p, self.main
        say(f"publishing {len(self.efile.index):,} events ({self.efile.bytes / 2**20:,.0f} MiB)…")
        self.mark("set up")
        started = time.perf_counter()
        last = [time.monotonic()]

        def progress(done: int) -> None:
            if time.monotonic() - last[0] > 30:
                last[0] = time.monotonic()
                rate = done / (time.perf_counter() - started)
                say(f"published {done:,} events ({rate:,.0f}/s)")

        writes_before = await write_tasks(self.os_http)
        publisher = asyncio.create_task(publish_all(self.events, self.efile, p, progress))
        trace: list[tuple[float, int, int, int]] = []
        done_at, state = await wait_indexed(
            self.os_http,
            p.alias,
            self.totals,
            time.monotonic() + p.index_drain_s,
            label="indexing",
            trace=trace,
        )
        published_at = await publisher
        seconds = (done_at or time.perf_counter()) - started
        used = self.mark("1. indexing")
        bulks = await write_tasks(self.os_http) - writes_before
        self.samples["index_stats_after_indexing"] = await index_stats(self.os_http, p.alias)
        if done_at is None:
            self.problems.append(f"indexing incomplete after {p.index_drain_s:.0f} s: {state}")
        self.phase(
            "1. indexing",
            seconds,
            f"{len(self.efile.index):,} events published in {published_at - started:.0f} s; "
            f"index complete: {done_at is not None}",
        )
        search_cpu = used.get("search")
        # events/s by tenth of the run: does indexing slow down as the index grows?
        tenths = []
        for k in range(10):
            window = [t for t in trace if k / 10 <= (t[0] - started) / seconds < (k + 1) / 10]
            if len(window) >= 2:
                tenths.append(
                    round((window[-1][2] - window[0][2]) / (window[-1][0] - window[0][0]))
                )
        self.samples["indexing_trace"] = [(round(t - started, 1), a, b, c) for t, a, b, c in trace]
        self.figures += [
            fig("indexing: events/s by tenth of the run", " ".join(map(str, tenths))),
            fig("indexing: events indexed", m.transactions),
            fig(
                "indexing: bulk requests (the node's write tasks, every index) / events per bulk",
                f"{bulks:,} / {m.transactions / bulks:.1f}" if bulks else None,
            ),
            fig(
                "indexing: events/s (first publish → all searchable)",
                m.transactions / seconds,
                "/s",
            ),
            fig(
                "indexing: documents/s (tickets + messages in the index at the end)",
                (m.tickets + m.messages) / seconds,
                "/s",
            ),
            fig(
                "indexing: bulk actions/s (a ticket write per event, plus its message)",
                (m.transactions + m.messages) / seconds,
                "/s",
            ),
            fig(
                "indexing: search service CPU per event",
                round(search_cpu / m.transactions * 1000, 2) if search_cpu else None,
                "ms",
            ),
        ]

    # 2 ----------------------------------------------------------------------------------
    async def txn_to_searchable(self) -> None:
        p = self.p
        say(f"{p.marked} marked tickets, one at a time, under {p.background_rate:.0f} events/s…")
        number = self.main.tickets + 1
        loader = Loader(self.db, None)
        items: list[tuple[float, bytes, str, str]] = []
        wanted = int(p.background_rate * (p.marked * 2.5 + 60))
        while len(items) < wanted:
            steps = self.corpus.history(number)
            for step, wire in zip(steps, await loader.add(steps), strict=True):
                body = json.dumps(wire, ensure_ascii=False, separators=(",", ":")).encode()
                items.append((step.txn.created.timestamp(), body, wire["type"], wire["id"]))
            number += 1
        await loader.close()
        items.sort(key=lambda item: item[0])
        stop = asyncio.Event()
        feed = [(body, kind, event_id) for _, body, kind, event_id in items]
        bg = asyncio.create_task(background(self.events, feed, p.background_rate, stop))
        marked: list[Marked] = []
        tag = secrets.token_hex(3)
        pauses = random.Random(p.seed)
        started = time.perf_counter()
        for i in range(p.marked):
            m = Marked(number, f"zq{tag}{i:04d}x")
            steps = self.corpus.history(number, word=m.word)
            loader.loaded.note(steps)
            await one_marked(self.events, self.rpc, self.db, steps, m, p)
            marked.append(m)
            number += 1
            # A pause of no fixed length: a fixed one would keep every publish at the same
            # point of the index's refresh cycle.
            await asyncio.sleep(pauses.uniform(0.1, 1.1))
        stop.set()
        sent, bg_seconds = await bg
        seconds = time.perf_counter() - started
        self.mark("2. txn→searchable")
        self.extra = loader.loaded
        self.phase(
            "2. txn→searchable",
            seconds,
            f"{len(marked)} marked; background {sent:,} events in {bg_seconds:.0f} s "
            f"({sent / bg_seconds:.1f}/s)",
        )
        # what the background did not send goes now: the store and the index must agree
        rest = feed[sent:]
        for position in range(0, len(rest), p.publish_chunk):
            chunk = rest[position : position + p.publish_chunk]
            await asyncio.gather(*(self.events.publish(b, k, i) for b, k, i in chunk))
        caught_up, state = await wait_indexed(
            self.os_http, p.alias, self.totals, time.monotonic() + 600, label="catching up"
        )
        if caught_up is None:
            self.problems.append(f"index incomplete after phase 2: {state} of {self.totals}")
        found = [m.found - m.published for m in marked if m.found is not None]
        lower = [(m.last_miss or m.published) - m.published for m in marked if m.found]
        confirm = [m.confirmed - m.published for m in marked]
        polls = [m.polls for m in marked]
        if len(found) < len(marked):
            self.problems.append(f"{len(marked) - len(found)} marked ticket(s) never found")
        self.samples["txn_to_searchable_ms"] = [ms(x) for x in found]
        self.figures += [
            fig("txn→searchable: marked found / published", f"{len(found)} / {len(marked)}"),
            fig("txn→searchable: background load", sent / bg_seconds, "events/s"),
            fig(
                "txn→searchable p50 (publish → search.tickets has it)",
                ms(percentile(found, 0.5)),
                "ms",
            ),
            fig("txn→searchable p95", ms(percentile(found, 0.95)), "ms"),
            fig("txn→searchable max", ms(max(found, default=None)), "ms"),
            fig(
                "txn→searchable p50 / p95, lower bound (the last poll that missed)",
                f"{ms(percentile(lower, 0.5))} / {ms(percentile(lower, 0.95))}",
                "ms",
            ),
            fig("txn→searchable: polls per ticket p50", percentile(polls, 0.5)),
            fig("publish → broker confirm p50", ms(percentile(confirm, 0.5)), "ms"),
        ]

    # 3 ----------------------------------------------------------------------------------
    async def queries(self) -> None:
        p = self.p
        requestor, count = self.main.requestor_tickets.most_common(1)[0]
        say(f"queries: {p.query_calls} calls each, as admin and as {requestor} ({count} tickets)")
        started = time.perf_counter()
        rows, all_series = await self.query_rows(requestor)
        visibility = await visibility_series(self.rpc, ADMIN, p.query_calls)
        variants: list[list[Any]] = []
        profiles: list[list[Any]] = []
        for label, q in (QUERIES[1], QUERIES[3]):
            if q:
                found, profile = await anatomy(self.rpc, self.os_http, p, label, q)
                variants += found
                profiles += profile
        self.mark("3. queries")
        self.phase("3. queries", time.perf_counter() - started, f"{len(all_series)} series")
        self.tables.append(
            {
                "title": f"Query latency (ms), {p.query_calls} sequential calls each after "
                f"{p.warmup} warm-up calls; RPC: search.* through RabbitMQ as the web gateway "
                "calls it; took: OpenSearch's own, the same body sent to it directly",
                "columns": QUERY_COLUMNS,
                "rows": rows,
            }
        )
        self.tables.append(
            {
                "title": "Where a text query's time goes: variants of its body sent to "
                "OpenSearch as the administrator (took, ms)",
                "columns": ["query", "body", "calls", "took p50", "took p95"],
                "rows": variants,
            }
        )
        self.tables.append(
            {
                "title": "OpenSearch's profile of the body as search.tickets sends it "
                "(administrator, one call; ms)",
                "columns": ["query", "part", "ms"],
                "rows": profiles,
            }
        )
        worst = max(all_series, key=lambda s: percentile(s.rpc_s, 0.95) or 0.0)
        self.samples["queries"] = [
            {
                "query": s.query,
                "as": s.who,
                "rpc_ms": [ms(x) for x in s.rpc_s],
                "took_ms": s.took_ms,
            }
            for s in all_series
        ]
        self.notes.append(f"the requestor: {requestor}, on {count} tickets")
        self.figures += [
            fig(
                "queries: worst RPC p95",
                f"{ms(percentile(worst.rpc_s, 0.95))} ms ({worst.query}, {worst.who})",
            ),
            fig(
                "queries: goal p95 < 50 ms met by every query",
                all((percentile(s.rpc_s, 0.95) or 1.0) < 0.050 for s in all_series),
            ),
            fig(
                "tickets.visibility RPC alone p50 / p95",
                f"{ms(percentile(visibility, 0.5))} / {ms(percentile(visibility, 0.95))}",
                "ms",
            ),
        ]

    async def queries_after_rebuild(self) -> None:
        """The same query series on the rebuilt index: the same documents, without the
        replaced ticket versions the live index still held after phases 1–2's burst."""
        requestor, _ = self.main.requestor_tickets.most_common(1)[0]
        say("queries again, on the rebuilt index")
        started = time.perf_counter()
        rows, all_series = await self.query_rows(requestor)
        self.phase("5. queries, rebuilt index", time.perf_counter() - started, "")
        self.tables.append(
            {
                "title": "Query latency (ms) on the rebuilt index (after phase 4), as above",
                "columns": QUERY_COLUMNS,
                "rows": rows,
            }
        )
        worst = max(all_series, key=lambda s: percentile(s.rpc_s, 0.95) or 0.0)
        self.figures += [
            fig(
                "queries on the rebuilt index: worst RPC p95",
                f"{ms(percentile(worst.rpc_s, 0.95))} ms ({worst.query}, {worst.who})",
            ),
            fig(
                "queries on the rebuilt index: goal p95 < 50 ms met by every query",
                all((percentile(s.rpc_s, 0.95) or 1.0) < 0.050 for s in all_series),
            ),
        ]

    async def query_rows(self, requestor: str) -> tuple[list[list[Any]], list[Series]]:
        """Each query of QUERIES as the administrator and as ``requestor``: a row each."""
        p = self.p
        rows = []
        all_series: list[Series] = []
        reference = self.quote_reference()
        for label, text in QUERIES:
            q = (text or reference) if text is not None else None
            if text == "":
                label = f"full text, selective: {reference}"
            for who, role in ((ADMIN, "admin"), (requestor, "requestor")):
                s = await query_series(self.rpc, self.os_http, p, label, q, who, role)
                all_series.append(s)
                if s.errors:
                    self.problems.append(f"{label} as {role}: {s.errors} RPC error(s)")
                rows.append(
                    [
                        label,
                        role,
                        s.hits,
                        ms(percentile(s.rpc_s, 0.5)),
                        ms(percentile(s.rpc_s, 0.95)),
                        ms(percentile(s.rpc_s, 0.99)),
                        ms(max(s.rpc_s, default=None)),
                        percentile(s.took_ms, 0.5),
                        percentile(s.took_ms, 0.95),
                        ms(percentile(s.direct_s, 0.5)),
                        ms(percentile(s.direct_s, 0.95)),
                    ]
                )
                say(f"  {label} / {role}: RPC p95 {ms(percentile(s.rpc_s, 0.95))} ms")
        return rows, all_series

    def quote_reference(self) -> str:
        """A supplier's quote number from some message of the corpus (a rare word)."""
        for number in range(self.p.tickets // 2, self.p.tickets + 1):
            for step in self.corpus.history(number):
                found = re.search(r"DV-\d{5}", step.txn.message.text if step.txn.message else "")
                if found:
                    return found.group(0)
        return "DV-12345"

    # 4 ----------------------------------------------------------------------------------
    async def reindex(self) -> None:
        p = self.p
        stats = await index_stats(self.os_http, p.alias)
        search_rss = proc_sample(self.services["search"].process.pid).get("rss_kb")
        say("guichet search reindex…")
        old = await live_index(self.os_http, p.alias)
        done = await run_reindex(self.env, self.logs, p.reindex_timeout_s)
        used = self.mark("4. reindex")
        new = await live_index(self.os_http, p.alias)
        found = await index_state(self.os_http, p.alias)
        complete = found == self.totals and new != old and done["rc"] == 0
        if not complete:
            self.problems.append(
                f"reindex: rc {done['rc']}, index {old} → {new}, holds {found} of "
                f"{self.totals}; {done['last_line']} {done['stderr_tail']}"
            )
        self.phase("4. reindex", done["seconds"], done["last_line"])
        rebuilt = await index_stats(self.os_http, p.alias)
        self.samples["reindex"] = done
        self.samples["index_stats_after_reindex"] = rebuilt
        tickets, _, messages = self.totals
        tickets_cpu = used.get("tickets")
        export = re.findall(
            r"export \w+ done: (\d+) tickets, (\d+) messages in ([\d.]+) s",
            self.services["tickets"].log.read_text(errors="replace"),
        )
        say("reading the store's export cursors…")
        reads = await store_read(self.db, 20_000, 180)
        self.tables.append(
            {
                "title": "FerretDB streaming the export's cursors (their first 20,000 "
                "documents, nothing else running from this bench)",
                "columns": ["cursor", "documents", "first document ms", "documents/s"],
                "rows": reads,
            }
        )
        self.figures += [
            fig("reindex: wall time", round(done["seconds"], 1), "s"),
            fig("reindex: goal < 5 min met", done["seconds"] < 300 and complete),
            fig("reindex: tickets + messages per s", (tickets + messages) / done["seconds"], "/s"),
            fig(
                "reindex: the new index holds (tickets, sum of versions, messages)",
                f"{found[0]:,} / {found[1]:,} / {found[2]:,}; complete: {complete}",
            ),
            fig(
                "reindex: until the export starts / tickets / messages / swap",
                " / ".join(
                    "—" if x is None else f"{x:.1f}"
                    for x in (
                        done["before_first_batch_s"],
                        done["tickets_s"],
                        done["messages_s"],
                        done["after_last_batch_s"],
                    )
                ),
                "s",
            ),
            fig(
                "reindex: the tickets service's export (its log)",
                f"{export[-1][0]} tickets, {export[-1][1]} messages in {export[-1][2]} s"
                if export
                else None,
            ),
            fig("reindex: CPU of the reindex process", round(done["cpu_s"], 1), "s"),
            fig(
                "reindex: CPU of the tickets service (the export)",
                round(tickets_cpu, 1) if tickets_cpu is not None else None,
                "s",
            ),
            fig(
                "index size on disk: after phases 1–3; rebuilt",
                f"{mb_of(stats)} MiB; {mb_of(rebuilt)} MiB",
            ),
            fig(
                "index: documents / deleted ones not merged away yet, after phases 1–3; rebuilt",
                f"{stats['docs']['count']:,} / {stats['docs']['deleted']:,}; "
                f"{rebuilt['docs']['count']:,} / {rebuilt['docs']['deleted']:,}",
            ),
            fig("search service RSS after the queries", mb(search_rss), "MiB"),
        ]
        self.tables.append(opensearch_table(stats, rebuilt))

    # the rest ---------------------------------------------------------------------------
    async def report(self) -> None:
        assert self.cpu is not None
        self.tables.append(self.cpu.table())
        self.tables.append(
            {"title": "Phases", "columns": ["phase", "s", "what"], "rows": self.phases}
        )
        queues = await queue_totals(self.mgmt, self.vhost)
        parked = {k: v for k, v in queues.items() if k.endswith(".dlq") and v}
        if parked:
            self.problems.append(f"dead-lettered: {parked}")
        log = self.services["search"].log.read_text(errors="replace")
        stale = sum(1 for line in log.splitlines() if "stale write" in line)
        self.notes += [
            f"run dir {self.work} (service logs); vhost {self.vhost}; namespace {self.p.namespace}",
            f"phase 2: {self.extra.tickets:,} more tickets ({self.extra.transactions:,} "
            "transactions) stored first, their events sent during the phase",
            f"search logged {stale:,} event(s) with stale writes (an older version after a newer)",
            "refresh interval: " + os.environ.get("GUICHET_SEARCH_REFRESH_INTERVAL", "1s"),
        ]


def mb_of(stats: dict[str, Any]) -> float:
    return round(float(stats["store"]["size_in_bytes"]) / 2**20, 1)


async def live_index(http: httpx.AsyncClient, alias: str) -> str | None:
    resp = await http.get(f"/_alias/{alias}")
    if resp.status_code == 404:
        return None
    resp.raise_for_status()
    return str(next(iter(resp.json())))


def opensearch_table(index: dict[str, Any], rebuilt: dict[str, Any]) -> dict[str, Any]:
    def row(name: str, stats: dict[str, Any]) -> list[Any]:
        return [
            name,
            stats["indexing"]["index_total"],
            round(stats["indexing"]["index_time_in_millis"] / 1000, 1),
            stats["refresh"]["total"],
            round(stats["refresh"]["total_time_in_millis"] / 1000, 1),
            stats["merges"]["total"],
            round(stats["merges"]["total_time_in_millis"] / 1000, 1),
            stats["segments"]["count"],
            mb_of(stats),
        ]

    return {
        "title": "OpenSearch's own accounting of the index (primaries, since it was made)",
        "columns": [
            "index",
            "index ops",
            "indexing s",
            "refreshes",
            "refresh s",
            "merges",
            "merge s",
            "segments",
            "MiB",
        ],
        "rows": [row("live index after phases 1–3", index), row("rebuilt index", rebuilt)],
    }
