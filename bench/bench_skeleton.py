"""Walking-skeleton benchmark: mails by SMTP → ticket in the API → searchable → autoreply.

N mails (``GUICHET_BENCH_MAILS``, 500 by default) go to ``achats@tickets.example.org`` on
127.0.0.1:2525 from 4 SMTP clients, each mail with its own requestor address and its own
random word in the subject and the body (1–20 KB of text). For every mail answered 250:

* DATA→250: the DATA command, the content and the wait for the reply (``SMTP.data()``);
* 250→ticket: polling ``GET /api/v1/tickets?requestor=<address>`` until it lists a ticket;
* 250→searchable: polling ``GET /api/v1/search?q=<word>`` until it finds the ticket;
* 250→autoreply: the mtime of the caught autoreply to that address in ``var/outbox``.

Polling (see ``Watch``) has at most 2 requests in flight per stage and 50 starts/s: the
2 oldest mails pending are polled every 10 ms growing to 50 ms, mails overtaken by later
ones get every 4th poll, the younger ones what is left, both less often as they age. A
mail not seen 60 s after its 250 is counted late and still polled until the drain deadline
(2400 s after the last 250; ``GUICHET_BENCH_DRAIN_S``). A latency is taken when the
successful poll's answer arrives: an upper bound, at most one polling gap ("± poll", the
median of that gap) and one API round trip late. The JSON has the lower bound too
(``*_after_ms``: the last miss, or for a ticket its creation if later). The ticket's own
``created`` time (same clock) is shown too: 250→created is exact, it does not depend on
polling; so is 250→autoreply.

The RSS and CPU time of every process of the stack are read from /proc before and after.
Every mail answered 250 must become exactly one ticket, be found by search and be
autoreplied once; anything else is a failure and makes the run not ``ok``.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import random
import string
import subprocess
import textwrap
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate
from pathlib import Path
from typing import Any

import aiosmtplib
import httpx

NAME = "skeleton"
DESCRIPTION = "N mails through the walking skeleton: SMTP → ticket → search → autoreply"

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # all load goes to this machine, never elsewhere
SMTP_PORT = 2525
API_URL = f"http://{HOST}:8000/api/v1"
AUTH = ("admin@example.org", "changeme")  # the public dev-only seed account
QUEUE_ADDRESS = "achats@tickets.example.org"
REQUESTOR_DOMAIN = "bench.example.net"
OUTBOX = ROOT / "var" / "outbox"
RUN_DIR = ROOT / "var" / "run"
PIDFILE_PROCESSES = (
    "ingest",
    "tickets",
    "notify",
    "search",
    "web",
    "catcher",
    "supervisor",
    "ferretdb",
    "opensearch",
)
STAGES = ("ticket", "search", "autoreply")
READY_PORTS = {"ingest": 8101, "tickets": 8102, "notify": 8103, "search": 8104, "web": 8000}


@dataclass(frozen=True)
class Params:
    mails: int = 500
    clients: int = 4
    body_min_bytes: int = 1024
    body_max_bytes: int = 20 * 1024
    ticket_workers: int = 2  # polls in flight at most: a slow API is not piled on
    ticket_rate: float = 50.0  # requests/s at most, for all ticket polls together
    ticket_fast: int = 2  # mails in the fast lane (2 x 20/s leaves 10/s for the others)
    search_workers: int = 2
    search_rate: float = 50.0
    search_fast: int = 2
    poll_min_s: float = 0.010
    poll_max_s: float = 0.050
    visible_deadline_s: float = 60.0  # a mail seen later than this after its 250 is late
    drain_s: float = 2400.0  # polling goes on until this long after the last 250
    send_deadline_s: float = 600.0
    outbox_scan_s: float = 0.200
    settle_s: float = 5.0
    seed: int = 20261125

    @classmethod
    def from_env(cls) -> Params:
        def num(name: str, default: int) -> int:
            value = int(os.environ.get(f"GUICHET_BENCH_{name}", default))
            if value < 1:
                raise ValueError(f"GUICHET_BENCH_{name} must be at least 1")
            return value

        d = cls()
        return cls(
            mails=num("MAILS", d.mails),
            clients=num("CLIENTS", d.clients),
            seed=num("SEED", d.seed),
            drain_s=float(num("DRAIN_S", int(d.drain_s))),
        )

    @property
    def budget_s(self) -> float:
        """A hard bound on the whole run (the reconciliation has 300 s of it)."""
        return self.send_deadline_s + self.drain_s + self.settle_s + 360.0


@dataclass
class Mail:
    index: int
    requestor: str
    word: str
    raw: bytes
    body_bytes: int
    data_s: float | None = None
    accepted_at: float | None = None  # perf_counter() when the 250 arrived
    accepted_wall: float | None = None  # time.time() then, to compare with file mtimes
    smtp_error: str | None = None
    latency: dict[str, float] = field(default_factory=dict)  # stage → seconds after 250
    latency_lo: dict[str, float] = field(default_factory=dict)  # ...before it: the last miss
    found_id: dict[str, int] = field(default_factory=dict)  # stage → ticket id seen
    ticket_subject_ok: bool | None = None
    final_tickets: int | None = None  # tickets of this requestor at the end
    final_searchable: bool | None = None
    autoreplies: int = 0
    reconcile_error: str | None = None


@dataclass
class Phase:
    sending_done: bool = False
    drain_deadline: float = math.inf  # perf_counter() time: observation stops then


@dataclass
class PollStats:
    requests: int = 0
    errors: int = 0
    timeouts: int = 0
    last_error: str | None = None
    round_trips: list[float] = field(default_factory=list)  # seconds per poll request


# --- the mails ----------------------------------------------------------------------------

_WORDS = (
    "bonjour merci demande devis commande livraison facture fournisseur écran clavier souris "
    "ordinateur portable licence logiciel maintenance contrat garantie délai budget service "
    "direction comptabilité achat référence quantité prix remise conditions paiement trente "
    "jours fin mois transport installation matériel bureau réunion projet équipe urgent "
    "semaine prochaine possible rapidement validation bon pour accord signature pièce jointe "
    "catalogue tarif annuel renouvellement abonnement support téléphone imprimante cartouche "
    "papier mobilier chaise siège ergonomique lampe câble adaptateur station accueil réseau "
    "serveur stockage disque mémoire sauvegarde sécurité antivirus formation utilisateur "
    "site agence Lyon Paris Nantes Lille Bordeaux Marseille le la les un une des du de pour "
    "avec sans sur dans par nous vous ils est sont avons avez pouvez serait merci d'avance "
    "cordialement vite dès que possible afin de préciser le montant hors taxes toutes taxes"
)
VOCABULARY = tuple(_WORDS.split())
TOPICS = (
    "écrans pour le service comptable",
    "renouvellement des licences",
    "devis mobilier de bureau",
    "commande de cartouches",
    "portables pour les nouveaux arrivants",
    "contrat de maintenance des imprimantes",
    "stations d'accueil et câbles",
    "formation sécurité des utilisateurs",
)


def _sentence(rng: random.Random) -> str:
    words = rng.choices(VOCABULARY, k=rng.randint(6, 18))
    return " ".join(words).capitalize() + rng.choice((".", ".", ".", " ?", " !"))


def make_body(rng: random.Random, target_bytes: int, word: str) -> str:
    """French-looking paragraphs of about ``target_bytes`` (UTF-8) naming ``word`` twice."""
    paragraphs = [
        "Bonjour,",
        textwrap.fill(f"Je vous écris au sujet du dossier {word}. " + _sentence(rng), 72),
    ]
    size = sum(len(p.encode()) + 2 for p in paragraphs)
    closing = f"Rappel : référence {word}.\n\nCordialement,\n-- \nService achats"
    size += len(closing.encode())
    while size < target_bytes:
        para = textwrap.fill(" ".join(_sentence(rng) for _ in range(rng.randint(2, 6))), 72)
        paragraphs.append(para)
        size += len(para.encode()) + 2
    return "\n\n".join([*paragraphs, closing]) + "\n"


def make_mails(p: Params) -> list[Mail]:
    content_rng = random.Random(p.seed)  # bodies reproducible from the seed...
    unique_rng = random.SystemRandom()  # ...words and addresses new at every run
    run_id = "".join(unique_rng.choices(string.ascii_lowercase + string.digits, k=8))
    words: set[str] = set()
    while len(words) < p.mails:
        words.add("".join(unique_rng.choices(string.ascii_lowercase, k=12)))
    mails = []
    for i, word in enumerate(sorted(words, key=lambda _: unique_rng.random())):
        requestor = f"bench-{run_id}-{i:04d}@{REQUESTOR_DOMAIN}"
        body = make_body(content_rng, content_rng.randint(p.body_min_bytes, p.body_max_bytes), word)
        msg = EmailMessage()
        msg["From"] = requestor
        msg["To"] = QUEUE_ADDRESS
        msg["Subject"] = f"Demande {word} : {content_rng.choice(TOPICS)}"
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = f"<bench-{run_id}-{i:04d}@{REQUESTOR_DOMAIN}>"
        msg.set_content(body)
        raw = msg.as_bytes(policy=SMTP_POLICY)
        mails.append(Mail(i, requestor, word, raw, len(body.encode())))
    return mails


# --- the stack's processes ----------------------------------------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _pid_from_file(name: str) -> int | None:
    try:
        return int((RUN_DIR / f"{name}.pid").read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None


def _rabbitmq_pid() -> int | None:
    try:
        out = subprocess.run(
            ["pgrep", "-f", "beam.smp"], capture_output=True, text=True, timeout=5, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        out = ""
    pids = [int(x) for x in out.split()]
    from_file = _pid_from_file("rabbitmq")
    if from_file in pids:
        return from_file
    return pids[0] if pids else from_file


def stack_pids() -> dict[str, int | None]:
    pids = {name: _pid_from_file(name) for name in PIDFILE_PROCESSES}
    pids["rabbitmq"] = _rabbitmq_pid()
    return pids


def proc_sample(pid: int | None) -> dict[str, Any]:
    """RSS (KiB, from /proc/<pid>/status) and CPU seconds so far of one process."""
    if pid is None:
        return {"pid": None, "rss_kb": None, "cpu_s": None, "comm": None}
    sample: dict[str, Any] = {"pid": pid, "rss_kb": None, "cpu_s": None, "comm": None}
    try:
        for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition(":")
            if key == "VmRSS":
                sample["rss_kb"] = int(value.split()[0])
            elif key == "Name":
                sample["comm"] = value.strip()
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
        fields = stat.rsplit(")", 1)[1].split()
        sample["cpu_s"] = (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime
    except (OSError, ValueError, IndexError):
        pass  # the process is gone
    return sample


def stack_sample() -> dict[str, dict[str, Any]]:
    return {name: proc_sample(pid) for name, pid in stack_pids().items()}


def cpu_used(a: dict[str, dict[str, Any]], b: dict[str, dict[str, Any]]) -> float:
    """CPU seconds the stack's processes used between two samples (same pids only)."""
    total = 0.0
    for name, x in a.items():
        y = b.get(name, {})
        if x.get("pid") == y.get("pid") and x.get("cpu_s") is not None and y.get("cpu_s"):
            total += y["cpu_s"] - x["cpu_s"]
    return total


def loadavg() -> list[str]:
    try:
        return Path("/proc/loadavg").read_text(encoding="ascii").split()[:3]
    except OSError:
        return []


# --- sending ------------------------------------------------------------------------------


class BenchSmtp:
    """One bench client's SMTP connection: opened when needed, reset or dropped after a
    failure (the next mail opens a new one)."""

    def __init__(self, port: int = SMTP_PORT) -> None:
        self._port = port
        self._client: aiosmtplib.SMTP | None = None

    async def send(self, mail_from: str, raw: bytes, before_mail: Callable[[], None]) -> float:
        """Send one mail; the seconds from DATA to its 250. A refusal or a broken
        connection raises ``SmtpFailure`` with what the server or the socket said."""
        try:
            if self._client is None or not self._client.is_connected:
                self._client = aiosmtplib.SMTP(
                    hostname=HOST,
                    port=self._port,
                    timeout=30,
                    start_tls=False,
                    local_hostname="bench.example.net",
                )
                await self._client.connect()
            before_mail()
            await self._client.mail(mail_from)
            await self._client.rcpt(QUEUE_ADDRESS)
            t0 = time.perf_counter()
            await self._client.data(raw)  # DATA, 354, content, "." → 250 (else raises)
            return time.perf_counter() - t0
        except aiosmtplib.SMTPResponseException as exc:
            if self._client is not None and self._client.is_connected:
                try:
                    await self._client.rset()
                except aiosmtplib.SMTPException:
                    self._client.close()
            raise SmtpFailure(f"{exc.code} {exc.message}") from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            if self._client is not None:
                self._client.close()
            self._client = None
            raise SmtpFailure(f"{type(exc).__name__}: {exc}") from exc

    async def close(self) -> None:
        if self._client is not None and self._client.is_connected:
            try:
                await self._client.quit()
            except aiosmtplib.SMTPException:
                self._client.close()


class SmtpFailure(Exception):
    pass


async def sender(
    work: deque[Mail], on_accepted: Callable[[Mail], None], deadline: float, window: list[float]
) -> None:
    """One SMTP client: one connection (reopened after a failure), mails taken from ``work``."""
    smtp = BenchSmtp()
    try:
        while work and time.perf_counter() < deadline:
            mail = work.popleft()
            try:
                mail.data_s = await smtp.send(
                    mail.requestor, mail.raw, lambda: window.append(time.perf_counter())
                )
            except SmtpFailure as exc:
                mail.smtp_error = str(exc)
                continue
            mail.accepted_at = time.perf_counter()
            mail.accepted_wall = time.time()
            window.append(mail.accepted_at)
            on_accepted(mail)
    finally:
        await smtp.close()


# --- observing ----------------------------------------------------------------------------

Probe = Callable[[Mail], Awaitable[int | None]]


def ticket_probe(http: httpx.AsyncClient) -> Probe:
    async def probe(mail: Mail) -> int | None:
        resp = await http.get("/tickets", params={"requestor": mail.requestor, "limit": 5})
        resp.raise_for_status()
        body = resp.json()
        if not body["data"]:
            return None
        first = body["data"][0]
        mail.ticket_subject_ok = mail.word in first["subject"]
        created = datetime.fromisoformat(first["created"].replace("Z", "+00:00"))
        if mail.accepted_wall is not None:
            mail.latency["created"] = created.timestamp() - mail.accepted_wall
            # Not visible before it was created: a tighter lower bound than the last miss.
            mail.latency_lo["created"] = mail.latency["created"]
        return int(first["id"])

    return probe


def search_probe(http: httpx.AsyncClient) -> Probe:
    async def probe(mail: Mail) -> int | None:
        resp = await http.get("/search", params={"q": mail.word, "limit": 5})
        resp.raise_for_status()
        items = resp.json()["items"]
        return int(items[0]["id"]) if items else None

    return probe


class Watch:
    """The polling of one stage for every accepted mail, within a budget of requests.

    At most ``workers`` polls are in flight (a slow API is not piled on) and at most
    ``rate`` start per second. Visibility is roughly FIFO, so three lanes:

    * fast: the ``fast`` oldest mails pending that are not stragglers, polled 10 ms after
      a miss growing by half up to 50 ms (or 1 % of the mail's age, at most 1 s);
    * stragglers: mails still pending a while (``grace``: 0.5 s, or 3 round trips if more)
      after a later mail was found; every 4th poll goes to the most overdue of them, every
      5 % of its age (0.25 to 10 s), so a mail that never shows up starves no other one;
    * queued: the younger ones, every 10 % of their age (0.25 to 30 s), with what is left.

    Mails are polled until ``drain_s`` after the last 250, then given up.
    """

    def __init__(self, stage: str, probe: Probe, p: Params, rate: float, fast: int) -> None:
        self.stage = stage
        self.stats = PollStats()
        self._probe = probe
        self._p = p
        self._spacing = 1.0 / rate
        self._fast = fast
        self._next_slot = 0.0
        self._picks = 0
        self._pending: dict[int, Mail] = {}  # in acceptance order
        self._due: dict[int, float] = {}
        self._interval: dict[int, float] = {}
        self._last_miss: dict[int, float] = {}
        self._lane: dict[int, str] = {}  # the lane a mail was last scheduled in
        self._claimed: set[int] = set()
        self._found: list[tuple[float, int]] = []  # (when, acceptance rank) of mails found
        self._rank: dict[int, int] = {}  # mail index → acceptance rank
        self._closed = False
        self._drain_deadline = math.inf
        self._wakeup = asyncio.Event()

    def add(self, mail: Mail) -> None:
        assert mail.accepted_at is not None
        self._rank[mail.index] = len(self._rank)
        self._pending[mail.index] = mail
        self._due[mail.index] = mail.accepted_at
        self._interval[mail.index] = self._p.poll_min_s
        self._last_miss[mail.index] = mail.accepted_at
        self._wakeup.set()

    def close(self, drain_deadline: float) -> None:
        """No more mails will be added: workers stop once every pending mail is settled,
        or at ``drain_deadline``."""
        self._closed = True
        self._drain_deadline = drain_deadline
        self._wakeup.set()

    def _lanes(self, now: float) -> tuple[set[int], set[int]]:
        """(fast lane, stragglers) among the pending mails."""
        recent = self.stats.round_trips[-20:]
        grace = max(0.5, 3 * (percentile(recent, 0.5) or 0.0))
        settled = now - grace
        front = max((rank for when, rank in self._found if when <= settled), default=-1)
        fast: set[int] = set()
        stragglers: set[int] = set()
        for index in self._pending:  # dicts keep insertion (acceptance) order
            if self._rank[index] < front:
                stragglers.add(index)
            elif len(fast) < self._fast:
                fast.add(index)
            else:
                break  # the rest are queued
        return fast, stragglers

    def _next(self, now: float) -> tuple[Mail | None, str, float]:
        """The mail to poll now and its lane, and when to look again if none is due."""
        fast, stragglers = self._lanes(now)
        for index in fast:  # promoted to the fast lane: due at once, at the fast pace
            if self._lane.get(index, "fast") != "fast":
                self._lane[index] = "fast"
                self._due[index] = min(self._due[index], now)
                self._interval[index] = self._p.poll_min_s
        self._picks += 1
        straggler_turn = self._picks % 4 == 0
        best: tuple[int, float, int] | None = None
        earliest = now + 1.0  # add() wakes the workers sooner
        for index in self._pending:
            if index in self._claimed:
                continue
            due = self._due[index]
            earliest = min(earliest, due)
            if due > now:
                continue
            if index in stragglers:
                tier = 0 if straggler_turn else 2
            else:
                tier = 1 if index in fast else 2
            key = (tier, due, index)
            if best is None or key < best:
                best = key
        if best is None:
            return None, "", earliest
        index = best[2]
        lane = "straggler" if index in stragglers else "fast" if index in fast else "queued"
        return self._pending[index], lane, earliest

    async def worker(self, hard_deadline: float) -> None:
        while time.perf_counter() < hard_deadline:
            if self._closed and not self._pending:
                return
            now = time.perf_counter()
            if now > self._drain_deadline:
                self.stats.timeouts += len(self._pending) - len(self._claimed)
                for index in list(self._pending):
                    if index not in self._claimed:
                        self._settle(index)
                return
            self._wakeup.clear()  # before looking: an add() from now on is not missed
            mail, lane, earliest = self._next(now)
            if mail is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), max(earliest - now, 0.001))
                continue
            self._claimed.add(mail.index)
            try:
                await self._poll(mail, lane, now)
            finally:
                self._claimed.discard(mail.index)

    async def _poll(self, mail: Mail, lane: str, now: float) -> None:
        p = self._p
        index = mail.index
        assert mail.accepted_at is not None
        slot = max(now, self._next_slot)  # the shared rate cap
        self._next_slot = slot + self._spacing
        if slot > now:
            await asyncio.sleep(slot - now)
        sent = time.perf_counter()
        try:
            found = await self._probe(mail)
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            self.stats.errors += 1
            self.stats.last_error = f"{type(exc).__name__}: {exc}"
            found = None
        now = time.perf_counter()
        self.stats.requests += 1
        self.stats.round_trips.append(now - sent)
        if found is not None:
            mail.latency[self.stage] = now - mail.accepted_at
            lower = self._last_miss[index] - mail.accepted_at
            mail.latency_lo[self.stage] = max(lower, mail.latency_lo.pop("created", lower))
            mail.found_id[self.stage] = found
            self._found.append((now, self._rank[index]))
            self._settle(index)
            return
        age = now - mail.accepted_at
        if lane == "fast":
            growing = min(self._interval[index] * 1.5, p.poll_max_s)
            interval = min(max(growing, 0.01 * age), 1.0)
        elif lane == "straggler":
            interval = min(max(0.05 * age, 0.25), 10.0)
        else:
            interval = min(max(0.10 * age, 0.25), 30.0)
        self._interval[index] = interval
        self._due[index] = now + interval
        self._last_miss[index] = sent
        self._lane[index] = lane

    def _settle(self, index: int) -> None:
        for table in (self._pending, self._due, self._interval, self._last_miss, self._lane):
            table.pop(index, None)


def _maildir_names() -> dict[str, Path]:
    """Messages in the outbox by their unique base name (``new/`` and, if moved, ``cur/``)."""
    names: dict[str, Path] = {}
    for sub in ("new", "cur"):
        try:
            with os.scandir(OUTBOX / sub) as it:
                for entry in it:
                    if not entry.name.startswith("."):
                        names[entry.name.split(":", 1)[0]] = Path(entry.path)
        except FileNotFoundError:
            continue
    return names


def _envelope(path: Path) -> tuple[list[str], int | None, float] | None:
    """(X-Envelope-To addresses, X-Guichet-Ticket, mtime) of one caught message."""
    try:
        with path.open("rb") as f:
            head = f.read(16384)
        mtime = path.stat().st_mtime
    except OSError:
        return None
    end = min((i for i in (head.find(b"\r\n\r\n"), head.find(b"\n\n")) if i >= 0), default=-1)
    rcpts: list[str] = []
    ticket: int | None = None
    for line in head[: end if end >= 0 else None].decode("utf-8", "replace").splitlines():
        name, _, value = line.partition(":")
        if name.lower() == "x-envelope-to":
            rcpts.append(value.strip().strip("<>").lower())
        elif name.lower() == "x-guichet-ticket" and value.strip().isdigit():
            ticket = int(value.strip())
    return rcpts, ticket, mtime


def newly_caught(seen: set[str]) -> Iterator[tuple[list[str], int | None, float]]:
    """(envelope recipients, ticket, mtime) of each caught mail not ``seen`` yet."""
    for name, path in _maildir_names().items():
        if name in seen:
            continue
        seen.add(name)
        envelope = _envelope(path)
        if envelope is not None:
            yield envelope


async def outbox_watcher(
    by_requestor: dict[str, Mail], seen: set[str], phase: Phase, p: Params, hard_deadline: float
) -> None:
    """Scans the Maildir every 200 ms (the file's mtime is the time taken, not the scan's);
    stops when every accepted mail has its autoreply, or at the drain deadline."""
    while time.perf_counter() < min(hard_deadline, phase.drain_deadline):
        for rcpts, ticket, mtime in newly_caught(seen):
            for rcpt in rcpts:
                mail = by_requestor.get(rcpt)
                if mail is None or mail.accepted_wall is None:
                    continue
                mail.autoreplies += 1
                if "autoreply" not in mail.latency:
                    mail.latency["autoreply"] = mtime - mail.accepted_wall
                    if ticket is not None:
                        mail.found_id["autoreply"] = ticket
        if phase.sending_done and all(
            "autoreply" in m.latency for m in by_requestor.values() if m.accepted_at is not None
        ):
            return
        await asyncio.sleep(p.outbox_scan_s)


async def progress(mails: list[Mail], deadline: float) -> None:
    """A line every 15 s while the run lasts."""
    start = time.perf_counter()
    while time.perf_counter() < deadline:
        await asyncio.sleep(15.0)
        accepted = [m for m in mails if m.accepted_at is not None]
        seen = {s: sum(s in m.latency for m in accepted) for s in STAGES}
        print(
            f"   t+{time.perf_counter() - start:4.0f} s: {len(accepted)} answered 250, "
            + ", ".join(f"{n} {s}" for s, n in seen.items()),
            flush=True,
        )


async def wait_ready(deadline: float) -> list[str]:
    """Waits (until ``deadline``) for every service's /readyz; returns those not ready."""
    not_ready = list(READY_PORTS)
    async with httpx.AsyncClient(timeout=2.0) as http:
        while not_ready:
            for name in list(not_ready):
                with contextlib.suppress(httpx.HTTPError):
                    resp = await http.get(f"http://{HOST}:{READY_PORTS[name]}/readyz")
                    if resp.status_code == 200:
                        not_ready.remove(name)
            if not not_ready or time.perf_counter() > deadline:
                break
            await asyncio.sleep(1.0)
    return not_ready


async def reconcile(http: httpx.AsyncClient, mails: list[Mail], deadline: float) -> int:
    """The final word on every accepted mail: how many tickets its requestor has, and
    whether search finds its word; returns how many checks could not be made. A check is
    tried up to 5 times (a service may be restarting)."""
    work = deque(m for m in mails if m.accepted_at is not None)
    failures = 0

    async def check(mail: Mail) -> None:
        resp = await http.get("/tickets", params={"requestor": mail.requestor})
        resp.raise_for_status()
        mail.final_tickets = int(resp.json()["count"])
        if "search" in mail.latency:
            mail.final_searchable = True
            return
        resp = await http.get("/search", params={"q": mail.word, "limit": 5})
        resp.raise_for_status()
        mail.final_searchable = bool(resp.json()["items"])

    async def worker() -> None:
        nonlocal failures
        while work and time.perf_counter() < deadline:
            mail = work.popleft()
            for attempt in range(5):
                try:
                    await check(mail)
                    mail.reconcile_error = None
                    break
                except (httpx.HTTPError, ValueError, KeyError) as exc:
                    mail.reconcile_error = f"{type(exc).__name__}: {exc}"
                    await asyncio.sleep(0.5 * 2**attempt)
            failures += mail.reconcile_error is not None

    await asyncio.gather(*(worker() for _ in range(4)))
    return failures


# --- figures ------------------------------------------------------------------------------


def percentile(values: Iterable[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default)."""
    data = sorted(values)
    if not data:
        return None
    k = (len(data) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    if lo == hi or data[lo] == data[hi]:
        return data[lo]
    return data[lo] + (data[hi] - data[lo]) * (k - lo)


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def fig(name: str, value: float | int | str | None, unit: str = "") -> dict[str, Any]:
    return {"name": name, "value": value, "unit": unit}


def latency_row(
    label: str,
    values: list[float],
    expected: int,
    late_after: float,
    gaps: list[float] | None = None,
) -> list[Any]:
    """n seen, p50, p95, p99, max (ms), how many after ``late_after`` s and never seen, and
    the median polling uncertainty (ms). Percentiles are of all ``expected`` mails: one
    that falls on a mail never seen reads "unseen" (a mail not seen counts as slowest)."""
    padded = sorted(values) + [math.inf] * (expected - len(values))

    def cell(q: float) -> float | str | None:
        value = percentile(padded, q)
        return "unseen" if value is not None and math.isinf(value) else ms(value)

    return [
        label,
        len(values),
        cell(0.50),
        cell(0.95),
        cell(0.99),
        cell(1.0),
        sum(v > late_after for v in values),
        expected - len(values),
        ms(percentile(gaps, 0.50)) if gaps else None,
    ]


def mb(kb: int | None) -> float | None:
    return None if kb is None else round(kb / 1024, 1)


def process_table(
    before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    rows: list[list[Any]] = []
    totals = [0, 0, 0.0]
    for name, b in before.items():
        a = after.get(name, {})
        restarted = b.get("pid") != a.get("pid")
        cpu = None
        if not restarted and a.get("cpu_s") is not None and b.get("cpu_s") is not None:
            cpu = round(a["cpu_s"] - b["cpu_s"], 2)
        label = f"{name} ({b.get('comm') or '?'})" + (" RESTARTED" if restarted else "")
        rows.append([label, b.get("pid"), mb(b["rss_kb"]), mb(a.get("rss_kb")), cpu])
        totals[0] += b["rss_kb"] or 0
        totals[1] += a.get("rss_kb") or 0
        totals[2] += cpu or 0.0
    rows.append(["total", None, mb(int(totals[0])), mb(int(totals[1])), round(totals[2], 2)])
    return {
        "title": "Processes at rest: RSS before and after; CPU seconds used during the run",
        "columns": ["process", "pid", "RSS before MB", "RSS after MB", "CPU s (run)"],
        "rows": rows,
    }


# --- the benchmark ------------------------------------------------------------------------


async def run() -> dict[str, Any]:
    p = Params.from_env()
    async with asyncio.timeout(p.budget_s):
        return await _run(p)


async def _run(p: Params) -> dict[str, Any]:
    start = time.perf_counter()
    hard_deadline = start + p.budget_s - 30
    async with httpx.AsyncClient(
        base_url=API_URL,
        auth=AUTH,
        timeout=10.0,
        limits=httpx.Limits(max_connections=p.ticket_workers + p.search_workers + 4),
    ) as http:
        not_ready = await wait_ready(time.perf_counter() + 90)
        if not_ready:
            raise RuntimeError(f"the stack is not ready ({', '.join(not_ready)}): make up")
        resp = await http.get("/tickets", params={"limit": 1})  # the API answers
        resp.raise_for_status()
        tickets_before = int(resp.json()["count"])

        mails = make_mails(p)
        gen_s = time.perf_counter() - start
        print(f"   {len(mails)} mails generated in {gen_s:.1f} s; sampling the stack", flush=True)
        load_before = loadavg()
        idle0 = stack_sample()
        await asyncio.sleep(3.0)
        before = stack_sample()
        idle_cores = cpu_used(idle0, before) / 3.0
        print(f"   the stack uses {idle_cores:.2f} cores at rest before the run", flush=True)
        seen_outbox = set(_maildir_names())
        client_cpu0 = time.process_time()

        by_requestor = {m.requestor: m for m in mails}
        watches = (
            (
                Watch("ticket", ticket_probe(http), p, p.ticket_rate, p.ticket_fast),
                p.ticket_workers,
            ),
            (
                Watch("search", search_probe(http), p, p.search_rate, p.search_fast),
                p.search_workers,
            ),
        )
        phase = Phase()

        def on_accepted(mail: Mail) -> None:
            for watch, _ in watches:
                watch.add(mail)

        pollers = [
            asyncio.create_task(watch.worker(hard_deadline))
            for watch, workers in watches
            for _ in range(workers)
        ]
        watcher = asyncio.create_task(
            outbox_watcher(by_requestor, seen_outbox, phase, p, hard_deadline)
        )
        reporter = asyncio.create_task(progress(mails, hard_deadline))

        print(f"   sending with {p.clients} SMTP clients…", flush=True)
        work = deque(mails)
        window: list[float] = []
        send_deadline = time.perf_counter() + p.send_deadline_s
        await asyncio.gather(
            *(sender(work, on_accepted, send_deadline, window) for _ in range(p.clients))
        )
        accepted = [m for m in mails if m.accepted_at is not None]
        last_250 = max((m.accepted_at or 0.0 for m in accepted), default=time.perf_counter())
        phase.sending_done = True
        phase.drain_deadline = last_250 + p.drain_s
        for watch, _ in watches:
            watch.close(phase.drain_deadline)
        print(
            f"   {len(accepted)} answered 250; waiting for tickets, search, autoreplies "
            f"(at most {p.drain_s:.0f} s)…",
            flush=True,
        )
        await asyncio.gather(*pollers, watcher)
        reporter.cancel()
        observed_until = time.perf_counter()
        client_cpu = time.process_time() - client_cpu0

        print("   reconciling every mail with the API…", flush=True)
        reconcile_failures = await reconcile(http, mails, hard_deadline)

    await asyncio.sleep(p.settle_s)
    after = stack_sample()
    load_after = loadavg()
    # A last look at the outbox: duplicate or late autoreplies.
    counts: dict[str, int] = {}
    for path in _maildir_names().values():
        envelope = _envelope(path)
        for rcpt in envelope[0] if envelope else []:
            counts[rcpt] = counts.get(rcpt, 0) + 1
    for m in accepted:
        m.autoreplies = counts.get(m.requestor, 0)

    return summarize(
        p,
        mails,
        accepted,
        window,
        {watch.stage: watch.stats for watch, _ in watches},
        before,
        after,
        extra={
            "generation_s": round(gen_s, 2),
            "observed_s": round(observed_until - start, 2),
            "client_cpu_s": round(client_cpu, 2),
            "stack_cores_at_rest_before": round(idle_cores, 2),
            "tickets_before": tickets_before,
            "reconcile_failures": reconcile_failures,
            "loadavg_before": load_before,
            "loadavg_after": load_after,
        },
    )


def summarize(
    p: Params,
    mails: list[Mail],
    accepted: list[Mail],
    window: list[float],
    stats: dict[str, PollStats],
    before: dict[str, dict[str, Any]],
    after: dict[str, dict[str, Any]],
    extra: dict[str, Any],
) -> dict[str, Any]:
    n_ok = len(accepted)
    smtp_errors = [m for m in mails if m.accepted_at is None]
    send_window = (max(window) - min(window)) if len(window) > 1 else None
    lat = {s: [m.latency[s] for m in accepted if s in m.latency] for s in (*STAGES, "created")}
    data_s = [m.data_s for m in accepted if m.data_s is not None]
    gaps = {
        s: [m.latency[s] - m.latency_lo[s] for m in accepted if s in m.latency_lo]
        for s in ("ticket", "search")
    }
    lost = [m for m in accepted if m.final_tickets == 0]
    late = p.visible_deadline_s
    late_tickets = [m for m in accepted if m.latency.get("ticket", 0.0) > late]
    duplicates = [m for m in accepted if (m.final_tickets or 0) > 1]
    unsearchable = [m for m in accepted if not m.final_searchable]
    no_autoreply = [m for m in accepted if m.autoreplies == 0]
    extra_autoreplies = [m for m in accepted if m.autoreplies > 1]
    wrong_subject = [m for m in accepted if m.ticket_subject_ok is False]
    id_mismatch = [
        m
        for m in accepted
        if len(set(m.found_id.values())) > 1  # search or autoreply named another ticket
    ]
    first_send = min(window) if window else None
    last_ticket = max(
        (
            m.accepted_at + m.latency["ticket"]
            for m in accepted
            if m.accepted_at is not None and "ticket" in m.latency
        ),
        default=None,
    )
    pipeline_rate = (
        round(len(lat["ticket"]) / (last_ticket - first_send), 1)
        if last_ticket is not None and first_send is not None and last_ticket > first_send
        else None
    )
    failures = (
        len(smtp_errors)
        + len(lost)
        + len(duplicates)
        + len(unsearchable)
        + len(no_autoreply)
        + len(extra_autoreplies)
        + len(wrong_subject)
        + len(id_mismatch)
        + extra["reconcile_failures"]
    )
    total_cpu = round(cpu_used(before, after), 1)
    body_sizes = [m.body_bytes for m in mails]
    raw_sizes = [len(m.raw) for m in mails]
    figures = [
        fig("mails sent", len(mails), "mails"),
        fig("SMTP clients", p.clients),
        fig(
            "body size p50 / max",
            f"{percentile(body_sizes, 0.5) or 0:,.0f} / {max(body_sizes):,}",
            "bytes",
        ),
        fig("message size total", round(sum(raw_sizes) / 1024 / 1024, 2), "MiB"),
        fig("answered 250", n_ok, "mails"),
        fig(
            "accepted rate (first MAIL → last 250)",
            round(n_ok / send_window, 1) if send_window else None,
            "mails/s",
        ),
        fig("sending window", round(send_window, 2) if send_window else None, "s"),
        fig("tickets visible rate (first MAIL → last ticket seen)", pipeline_rate, "mails/s"),
        fig("failures (all kinds below)", failures),
        fig("SMTP refusals / errors", len(smtp_errors)),
        fig("lost (250 but no ticket after the drain)", len(lost)),
        fig("late (ticket seen > 60 s after its 250)", len(late_tickets)),
        fig("duplicate tickets", len(duplicates)),
        fig("not searchable at the end", len(unsearchable)),
        fig("no autoreply / more than one", f"{len(no_autoreply)} / {len(extra_autoreplies)}"),
        fig("ticket id mismatches (API/search/autoreply)", len(id_mismatch) + len(wrong_subject)),
        fig(
            "poll requests tickets / search",
            f"{stats['ticket'].requests:,} / {stats['search'].requests:,}",
        ),
        fig(
            "poll round trip p50 / p95 tickets",
            f"{ms(percentile(stats['ticket'].round_trips, 0.5))} / "
            f"{ms(percentile(stats['ticket'].round_trips, 0.95))}",
            "ms",
        ),
        fig(
            "poll round trip p50 / p95 search",
            f"{ms(percentile(stats['search'].round_trips, 0.5))} / "
            f"{ms(percentile(stats['search'].round_trips, 0.95))}",
            "ms",
        ),
        fig("poll errors tickets / search", f"{stats['ticket'].errors} / {stats['search'].errors}"),
        fig("tickets in the database before the run", extra["tickets_before"]),
        fig("stack CPU at rest before the run", extra["stack_cores_at_rest_before"], "cores"),
        fig("stack CPU during the run (all processes)", total_cpu, "s"),
        fig("bench client CPU", extra["client_cpu_s"], "s"),
        fig(
            "loadavg before → after",
            f"{' '.join(extra['loadavg_before'])} → {' '.join(extra['loadavg_after'])}",
        ),
    ]
    latencies = {
        "title": "Latencies (ms) of the mails answered 250",
        "columns": [
            "stage",
            "seen",
            "p50",
            "p95",
            "p99",
            "max",
            f"> {p.visible_deadline_s:.0f} s",
            "unseen",
            "± poll",
        ],
        "rows": [
            latency_row("SMTP DATA → 250", data_s, n_ok, late),
            latency_row("250 → ticket created (its timestamp)", lat["created"], n_ok, late),
            latency_row("250 → ticket visible in API", lat["ticket"], n_ok, late, gaps["ticket"]),
            latency_row("250 → searchable", lat["search"], n_ok, late, gaps["search"]),
            latency_row("250 → autoreply in outbox (file mtime)", lat["autoreply"], n_ok, late),
        ],
    }
    samples = [
        {
            "i": m.index,
            "requestor": m.requestor,
            "word": m.word,
            "body_bytes": m.body_bytes,
            "raw_bytes": len(m.raw),
            "smtp_error": m.smtp_error,
            "data_ms": ms(m.data_s),
            **{f"{s}_ms": ms(m.latency.get(s)) for s in (*STAGES, "created")},
            **{f"{s}_after_ms": ms(m.latency_lo.get(s)) for s in ("ticket", "search")},
            **{f"{s}_id": m.found_id.get(s) for s in STAGES},
            "final_tickets": m.final_tickets,
            "autoreplies": m.autoreplies,
            "reconcile_error": m.reconcile_error,
        }
        for m in mails
    ]
    return {
        "ok": failures == 0,
        "params": {k: getattr(p, k) for k in p.__dataclass_fields__},
        "figures": figures,
        "tables": [latencies, process_table(before, after)],
        "poll_stats": {
            k: {
                "requests": v.requests,
                "errors": v.errors,
                "timeouts": v.timeouts,
                "last_error": v.last_error,
                "round_trip_ms": {
                    f"p{int(q * 100)}": ms(percentile(v.round_trips, q))
                    for q in (0.5, 0.95, 0.99, 1.0)
                },
            }
            for k, v in stats.items()
        },
        "smtp_errors": sorted({m.smtp_error or "" for m in smtp_errors}),
        "processes_before": before,
        "processes_after": after,
        **extra,
        "samples": samples,
    }
