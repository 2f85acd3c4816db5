"""Ingest acceptance and the whole pipeline under mail load (issue 4's goals).

``GUICHET_BENCH_MAILS`` mails (1,000 by default; see ``bench/mail_corpus.py``: mixed text
sizes, 20 % with a ~200 KB PDF) go to ``achats@tickets.example.org`` on the running ingest
(127.0.0.1, ``GUICHET_BENCH_SMTP_PORT``, 2525) from ``GUICHET_BENCH_CLIENTS`` (4) SMTP
clients, each on one connection. Measured:

* accepted mails/s: mails answered 250 over the time from the first MAIL to the last 250;
* SMTP DATA→250: the DATA command, the content and the wait for the final reply;
* 250→ticket stored: the ticket's own ``created`` time minus the 250's (same clock, exact);
  each ticket is read once by the number its autoreply names;
* fully processed: ticket stored, autoreply caught in ``var/outbox`` (its mtime, by its
  ``X-Envelope-To``) and the ticket found by ``/api/v1/search`` (polled every 2 s for the
  run's tag, so that latency is ± 2 s); the rate is taken from the first MAIL to the last
  mail done, and "sustained" between the 10th and the 90th percentile of completions.

Observation stops when every accepted mail is fully processed or ``GUICHET_BENCH_DRAIN_S``
(600) after the last 250; what was not done by then is reported as such. With
``GUICHET_BENCH_DRAIN_S=0`` only acceptance is measured (for an ingest of one's own, on a
virtual host nobody consumes). The run is ``ok`` unless a mail was refused, or a mail got
two tickets or two autoreplies.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from bench.bench_skeleton import (
    BenchSmtp,
    SmtpFailure,
    _maildir_names,
    cpu_used,
    fig,
    loadavg,
    ms,
    newly_caught,
    percentile,
    process_table,
    stack_sample,
    wait_ready,
)
from bench.mail_corpus import BenchMail, make_mails

NAME = "mail"
DESCRIPTION = "1,000 mails (20 % with a 200 KB PDF) by 4 SMTP clients: accepted, then processed"

HOST = "127.0.0.1"  # all load goes to this machine, never elsewhere
API_URL = f"http://{HOST}:8000/api/v1"
AUTH = ("admin@example.org", "changeme")  # the public dev-only seed account
TICKETS_POLL_S = 1.0
SEARCH_POLL_S = 2.0
OUTBOX_SCAN_S = 0.5
SEARCH_PAGE = 200


@dataclass(frozen=True)
class Params:
    mails: int = 1000
    clients: int = 4
    pdf_share: float = 0.2
    smtp_port: int = 2525
    drain_s: float = 600.0
    send_deadline_s: float = 600.0
    seed: int = 20261125

    @classmethod
    def from_env(cls) -> Params:
        d = cls()

        def env(name: str, default: float) -> float:
            return float(os.environ.get(f"GUICHET_BENCH_{name}", default))

        return cls(
            mails=int(env("MAILS", d.mails)),
            clients=int(env("CLIENTS", d.clients)),
            smtp_port=int(env("SMTP_PORT", d.smtp_port)),
            drain_s=env("DRAIN_S", d.drain_s),
            seed=int(env("SEED", d.seed)),
        )

    @property
    def observe(self) -> bool:
        return self.drain_s > 0


@dataclass
class Sent:
    """One mail and what became of it; times are ``time.time()`` (the stack's clock)."""

    mail: BenchMail
    mail_at: float | None = None  # MAIL FROM sent
    data_s: float | None = None  # DATA → 250
    accepted_at: float | None = None  # 250 received
    smtp_error: str | None = None
    ticket_id: int | None = None
    tickets: int = 0  # its ticket was read (a second ticket shows as a second autoreply)
    stored_at: float | None = None  # the ticket's ``created``
    autoreply_at: float | None = None
    autoreplies: int = 0
    indexed_at: float | None = None

    @property
    def done_at(self) -> float | None:
        stages = (self.stored_at, self.autoreply_at, self.indexed_at)
        return None if any(t is None for t in stages) else max(t for t in stages if t)


@dataclass
class Observed:
    ticket_polls: int = 0
    search_polls: int = 0
    poll_errors: int = 0
    last_error: str | None = None
    by_ticket: dict[int, Sent] = field(default_factory=dict)


# --- sending ------------------------------------------------------------------------------


async def sender(work: deque[Sent], port: int, deadline: float) -> None:
    """One SMTP client on one connection (reopened after a failure)."""
    smtp = BenchSmtp(port)
    try:
        while work and time.perf_counter() < deadline:
            sent = work.popleft()

            def before_mail(sent: Sent = sent) -> None:
                sent.mail_at = time.time()

            try:
                sent.data_s = await smtp.send(sent.mail.requestor, sent.mail.raw, before_mail)
            except SmtpFailure as exc:
                sent.smtp_error = str(exc)
                continue
            sent.accepted_at = time.time()
    finally:
        await smtp.close()


# --- observing ----------------------------------------------------------------------------


async def newest_ticket_id(http: httpx.AsyncClient) -> int:
    resp = await http.get("/tickets", params={"limit": 1})
    resp.raise_for_status()
    data = resp.json()["data"]
    return int(data[0]["id"]) if data else 0


async def watch_tickets(
    http: httpx.AsyncClient,
    by_requestor: dict[str, Sent],
    first_id: int,
    obs: Observed,
    until: float,
    finished: asyncio.Event,
) -> None:
    """Reads each ticket once, by the number its autoreply names (``X-Guichet-Ticket``).

    A look-up by number is one indexed read; listing the newest tickets instead made
    FerretDB's SQLite backend read every stored ticket twice a second, and the load of
    measuring slowed what was measured."""
    while time.time() < until and not finished.is_set():
        pending = [s for s in by_requestor.values() if s.ticket_id and s.stored_at is None]
        for sent in pending:
            try:
                resp = await http.get(f"/tickets/{sent.ticket_id}")
                obs.ticket_polls += 1
                resp.raise_for_status()
                ticket = resp.json()
            except (httpx.HTTPError, ValueError) as exc:
                obs.poll_errors += 1
                obs.last_error = f"{type(exc).__name__}: {exc}"
                continue
            if int(ticket["id"]) > first_id:
                note_ticket(ticket, by_requestor, obs)
        await sleep_unless(finished, TICKETS_POLL_S)


def note_ticket(ticket: dict[str, Any], by_requestor: dict[str, Sent], obs: Observed) -> None:
    for requestor in ticket["requestors"]:
        sent = by_requestor.get(requestor)
        if sent is None:
            continue
        sent.tickets = max(sent.tickets, 1)
        if sent.stored_at is None:
            sent.ticket_id = int(ticket["id"])
            created = datetime.fromisoformat(ticket["created"].replace("Z", "+00:00"))
            sent.stored_at = created.timestamp()
            obs.by_ticket[sent.ticket_id] = sent


async def watch_search(
    http: httpx.AsyncClient, run_tag: str, obs: Observed, until: float, finished: asyncio.Event
) -> None:
    """Every 2 s, every ticket search finds for the run's tag; a ticket is indexed when
    first found (after its ticket was listed: ids are only known from the listing)."""
    while time.time() < until and not finished.is_set():
        offset = 0
        try:
            while True:
                resp = await http.get(
                    "/search", params={"q": run_tag, "limit": SEARCH_PAGE, "offset": offset}
                )
                obs.search_polls += 1
                resp.raise_for_status()
                body = resp.json()
                now = time.time()
                for item in body["items"]:
                    sent = obs.by_ticket.get(int(item["id"]))
                    if sent is not None and sent.indexed_at is None:
                        sent.indexed_at = now
                offset += SEARCH_PAGE
                if offset >= int(body["total"]) or not body["items"]:
                    break
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            obs.poll_errors += 1
            obs.last_error = f"{type(exc).__name__}: {exc}"
        await sleep_unless(finished, SEARCH_POLL_S)


async def watch_outbox(
    by_requestor: dict[str, Sent],
    seen: set[str],
    obs: Observed,
    until: float,
    finished: asyncio.Event,
) -> None:
    """Autoreplies caught by the mail catcher, by their envelope recipient; the file's
    mtime is the time taken."""
    while time.time() < until and not finished.is_set():
        for rcpts, ticket_id, mtime in newly_caught(seen):
            for rcpt in rcpts:
                sent = by_requestor.get(rcpt)
                if sent is not None:
                    sent.autoreplies += 1
                    sent.autoreply_at = sent.autoreply_at or mtime
                    if ticket_id is not None and sent.ticket_id is None:
                        sent.ticket_id = ticket_id
                        obs.by_ticket[ticket_id] = sent
        await sleep_unless(finished, OUTBOX_SCAN_S)


async def wait_all_done(accepted: list[Sent], until: float, finished: asyncio.Event) -> None:
    while time.time() < until and not all(s.done_at for s in accepted):
        await sleep_unless(finished, 0.5)
    finished.set()


async def sleep_unless(event: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)


# --- the benchmark ------------------------------------------------------------------------


async def run() -> dict[str, Any]:
    p = Params.from_env()
    async with asyncio.timeout(p.send_deadline_s + p.drain_s + 300):
        return await _run(p)


async def _run(p: Params) -> dict[str, Any]:
    run_tag = "r" + secrets.token_hex(4)  # a word of its own for search, new every run
    t0 = time.perf_counter()
    mails = [
        Sent(m) for m in make_mails(p.mails, seed=p.seed, pdf_share=p.pdf_share, run_tag=run_tag)
    ]
    print(f"   {len(mails)} mails made in {time.perf_counter() - t0:.1f} s", flush=True)
    by_requestor = {s.mail.requestor: s for s in mails}
    async with httpx.AsyncClient(base_url=API_URL, auth=AUTH, timeout=30.0) as http:
        first_id = 0
        if p.observe:
            not_ready = await wait_ready(time.perf_counter() + 90)
            if not_ready:
                raise RuntimeError(f"the stack is not ready ({', '.join(not_ready)}): make up")
            first_id = await newest_ticket_id(http)
        seen_outbox = set(_maildir_names())
        before = stack_sample()
        load_before = loadavg()
        print(f"   sending with {p.clients} SMTP clients to port {p.smtp_port}…", flush=True)
        finished = asyncio.Event()
        obs = Observed()
        until = time.time() + p.send_deadline_s + p.drain_s
        watchers = (
            [
                asyncio.create_task(
                    watch_tickets(http, by_requestor, first_id, obs, until, finished)
                ),
                asyncio.create_task(watch_search(http, run_tag, obs, until, finished)),
                asyncio.create_task(watch_outbox(by_requestor, seen_outbox, obs, until, finished)),
            ]
            if p.observe
            else []
        )
        client_cpu = time.process_time()
        work = deque(mails)
        send_deadline = time.perf_counter() + p.send_deadline_s
        await asyncio.gather(*(sender(work, p.smtp_port, send_deadline) for _ in range(p.clients)))
        after_sending = stack_sample()
        client_cpu = time.process_time() - client_cpu
        accepted = [s for s in mails if s.accepted_at is not None]
        last_250 = max((s.accepted_at or 0.0 for s in accepted), default=time.time())
        print(f"   {len(accepted)} answered 250; following them (≤ {p.drain_s:.0f} s)…", flush=True)
        if watchers:
            progress = asyncio.create_task(report_progress(accepted, finished))
            await wait_all_done(accepted, last_250 + p.drain_s, finished)
            await asyncio.gather(*watchers)
            progress.cancel()
    after = stack_sample()
    return summarize(
        p,
        mails,
        accepted,
        obs,
        {
            "before": before,
            "after_sending": after_sending,
            "after": after,
            "loadavg": [load_before, loadavg()],
            "run_tag": run_tag,
            "client_cpu_s": client_cpu,
        },
    )


async def report_progress(accepted: list[Sent], finished: asyncio.Event) -> None:
    start = time.perf_counter()
    while not finished.is_set():
        await sleep_unless(finished, 15.0)
        print(
            f"   t+{time.perf_counter() - start:4.0f} s: "
            f"{sum(s.stored_at is not None for s in accepted)} stored, "
            f"{sum(s.autoreply_at is not None for s in accepted)} autoreplied, "
            f"{sum(s.indexed_at is not None for s in accepted)} indexed, "
            f"{sum(s.done_at is not None for s in accepted)} done",
            flush=True,
        )


# --- figures ------------------------------------------------------------------------------


def rate(count: int, start: float | None, end: float | None) -> float | None:
    if start is None or end is None or end <= start or count == 0:
        return None
    return round(count / (end - start), 1)


def sustained_rate(times: list[float]) -> float | None:
    """Completions per second between the 10th and the 90th percentile of their times:
    the steady pace, without the start (queues filling) and the tail."""
    ordered = sorted(times)
    if len(ordered) < 10:
        return None
    lo, hi = ordered[len(ordered) // 10], ordered[(len(ordered) * 9) // 10]
    return rate((len(ordered) * 9) // 10 - len(ordered) // 10, lo, hi)


def p50_p95(values: list[float]) -> str:
    return f"{ms(percentile(values, 0.5))} / {ms(percentile(values, 0.95))}"


def summarize(
    p: Params, mails: list[Sent], accepted: list[Sent], obs: Observed, extra: dict[str, Any]
) -> dict[str, Any]:
    first_mail = min((s.mail_at for s in mails if s.mail_at is not None), default=None)
    last_250 = max((s.accepted_at for s in accepted if s.accepted_at is not None), default=None)
    data_s = [s.data_s for s in accepted if s.data_s is not None]
    data_pdf = [s.data_s for s in accepted if s.data_s is not None and s.mail.has_pdf]
    stored = [s.stored_at - s.accepted_at for s in accepted if s.stored_at and s.accepted_at]
    autoreplied = [
        s.autoreply_at - s.accepted_at for s in accepted if s.autoreply_at and s.accepted_at
    ]
    indexed = [s.indexed_at - s.accepted_at for s in accepted if s.indexed_at and s.accepted_at]
    done = [s.done_at for s in accepted if s.done_at is not None]
    stored_times = [s.stored_at for s in accepted if s.stored_at is not None]
    refused = [s for s in mails if s.accepted_at is None]
    duplicates = [s for s in accepted if s.tickets > 1 or s.autoreplies > 1]
    sizes = [len(s.mail.raw) for s in mails]
    ingest_cpu = cpu_of("ingest", extra["before"], extra["after_sending"])
    figures = [
        fig("mails sent / with a PDF", f"{len(mails)} / {sum(s.mail.has_pdf for s in mails)}"),
        fig("SMTP clients", p.clients),
        fig("size p50 / max", f"{percentile(sizes, 0.5) or 0:,.0f} / {max(sizes):,}", "bytes"),
        fig("size total", round(sum(sizes) / 2**20, 1), "MiB"),
        fig("answered 250 / refused or failed", f"{len(accepted)} / {len(refused)}"),
        fig(
            "accepted (first MAIL → last 250)", rate(len(accepted), first_mail, last_250), "mails/s"
        ),
        fig("SMTP DATA → 250 p50 / p95, all", p50_p95(data_s), "ms"),
        fig("SMTP DATA → 250 p50 / p95, with a PDF", p50_p95(data_pdf), "ms"),
        fig("ingest CPU while sending", round(ingest_cpu, 1) if ingest_cpu else None, "s"),
        fig(
            "ingest CPU per mail",
            round(ingest_cpu / len(accepted) * 1000, 2) if ingest_cpu and accepted else None,
            "ms",
        ),
        fig("bench client CPU while sending", round(extra["client_cpu_s"], 1), "s"),
    ]
    if p.observe:
        last_stored = max(stored_times, default=None)
        figures += [
            fig("250 → ticket stored p50 / p95 (its created time)", p50_p95(stored), "ms"),
            fig("250 → autoreply caught p50 / p95", p50_p95(autoreplied), "ms"),
            fig("250 → indexed p50 / p95 (± 2 s)", p50_p95(indexed), "ms"),
            fig("tickets stored", len(stored_times)),
            fig(
                "tickets stored (first MAIL → last stored)",
                rate(len(stored_times), first_mail, last_stored),
                "mails/s",
            ),
            fig("fully processed (stored, autoreplied, indexed)", len(done)),
            fig(
                "fully processed (first MAIL → last done)",
                rate(len(done), first_mail, max(done, default=None)),
                "mails/s",
            ),
            fig(
                "fully processed, sustained (10th → 90th percentile)",
                sustained_rate(done),
                "mails/s",
            ),
            fig("not fully processed at the end of the drain", len(accepted) - len(done)),
            fig("duplicate tickets or autoreplies", len(duplicates)),
            fig(
                "polls tickets / search / errors",
                f"{obs.ticket_polls} / {obs.search_polls} / {obs.poll_errors}",
            ),
            fig(
                "stack CPU during the run", round(cpu_used(extra["before"], extra["after"]), 1), "s"
            ),
        ]
    figures.append(fig("loadavg before → after", " → ".join(" ".join(x) for x in extra["loadavg"])))
    return {
        "ok": not refused and not duplicates,
        "params": {k: getattr(p, k) for k in p.__dataclass_fields__},
        "figures": figures,
        "tables": [process_table(extra["before"], extra["after"])],
        "run_tag": extra["run_tag"],
        "smtp_errors": sorted({s.smtp_error or "" for s in refused}),
        "last_poll_error": obs.last_error,
        "samples": [
            {
                "i": s.mail.index,
                "bytes": len(s.mail.raw),
                "pdf": s.mail.has_pdf,
                "data_ms": ms(s.data_s),
                "ticket": s.ticket_id,
                **{
                    f"{name}_ms": ms(t - s.accepted_at) if t and s.accepted_at else None
                    for name, t in (
                        ("stored", s.stored_at),
                        ("autoreply", s.autoreply_at),
                        ("indexed", s.indexed_at),
                    )
                },
                "smtp_error": s.smtp_error,
            }
            for s in mails
        ],
    }


def cpu_of(name: str, a: dict[str, dict[str, Any]], b: dict[str, dict[str, Any]]) -> float | None:
    x, y = a.get(name, {}), b.get(name, {})
    if x.get("pid") != y.get("pid") or x.get("cpu_s") is None or y.get("cpu_s") is None:
        return None
    return float(y["cpu_s"] - x["cpu_s"])
