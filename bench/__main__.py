"""The benchmark runner: ``.venv/bin/python -m bench [name ...] [--mails N]``.

Every module ``bench/bench_<name>.py`` is a benchmark. It exposes

* ``NAME`` (defaults to ``<name>``) and ``DESCRIPTION``;
* ``run() -> dict`` or ``async def run() -> dict``, taking its parameters from the
  environment (``GUICHET_BENCH_*``; the runner's options only set those variables).

The dict it returns is stored as is; two keys are also printed:

* ``figures``: a list of ``{"name": str, "value": number | str | None, "unit": str}``;
* ``tables``: a list of ``{"title": str, "columns": [str], "rows": [[cell]]}``.

Each result goes to ``bench/results/<name>-<UTC timestamp>.json`` with the machine facts
(cores, memory, CPU, kernel, Python, RabbitMQ, FerretDB, OpenSearch, git commit).
The exit status is 1 when a benchmark raised or reported ``"ok": false``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import json
import os
import pkgutil
import platform
import subprocess
import sys
import time
import traceback
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
PREFIX = "bench_"
OPENSEARCH_URL = "http://127.0.0.1:9200/"
FERRETDB_BIN = ROOT / ".cache" / "ferretdb-v1.24.1" / "ferretdb"


@dataclass(frozen=True)
class Benchmark:
    name: str
    description: str
    module: ModuleType


def discover() -> dict[str, Benchmark]:
    """Every ``bench/bench_*.py`` module that has a ``run`` callable, by name."""
    found: dict[str, Benchmark] = {}
    for info in sorted(pkgutil.iter_modules([str(BENCH_DIR)]), key=lambda i: i.name):
        if not info.name.startswith(PREFIX):
            continue
        module = importlib.import_module(f"{__package__ or 'bench'}.{info.name}")
        if not callable(getattr(module, "run", None)):
            continue
        name = str(getattr(module, "NAME", info.name.removeprefix(PREFIX)))
        description = str(getattr(module, "DESCRIPTION", (module.__doc__ or "").strip()))
        found[name] = Benchmark(name, description.splitlines()[0] if description else "", module)
    return found


# --- machine facts ------------------------------------------------------------------------


def _command(args: Sequence[str], *, strip: bool = True) -> str | None:
    try:
        done = subprocess.run(
            list(args), capture_output=True, text=True, timeout=15, check=False, cwd=ROOT
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip() if strip else done.stdout


def _proc_field(path: str, key: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                name, sep, value = line.partition(":")
                if sep and name.strip() == key:
                    return value.strip()
    except OSError:
        return None
    return None


def _opensearch_version() -> str | None:
    try:
        with urllib.request.urlopen(OPENSEARCH_URL, timeout=5) as resp:
            return str(json.load(resp)["version"]["number"])
    except (OSError, ValueError, KeyError):
        return None


def _ferretdb_version() -> str | None:
    out = _command([str(FERRETDB_BIN), "--version"])
    if out is None:
        return None
    for line in out.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "version":
            return value.strip()
    return out.splitlines()[0] if out else None


def machine_facts() -> dict[str, Any]:
    mem_kb = _proc_field("/proc/meminfo", "MemTotal")
    commit = _command(["git", "rev-parse", "HEAD"])
    # --no-optional-locks: never take index.lock while others work in this checkout.
    status = _command(["git", "--no-optional-locks", "status", "--porcelain"], strip=False)
    uname = os.uname()
    try:
        loadavg = Path("/proc/loadavg").read_text(encoding="ascii").split()[:3]
    except OSError:
        loadavg = []
    return {
        "hostname": uname.nodename,
        "cores": os.cpu_count(),
        "memory_total_mb": round(int(mem_kb.split()[0]) / 1024) if mem_kb else None,
        "cpu_model": _proc_field("/proc/cpuinfo", "model name"),
        "kernel": f"{uname.sysname} {uname.release}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "rabbitmq": _command(["dpkg-query", "-W", "-f=${Version}", "rabbitmq-server"]),
        "ferretdb": _ferretdb_version(),
        "opensearch": _opensearch_version(),
        "git_commit": commit,
        "git_dirty": bool(status) if status is not None else None,
        "git_changed_files": sorted(line[3:] for line in (status or "").splitlines())[:50],
        "loadavg_at_start": loadavg,
    }


# --- printing -----------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value == 0:
            return "0"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def format_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[_cell(c) for c in row] for row in rows]
    widths = [len(c) for c in columns]
    for row in cells:
        for i, c in enumerate(row):
            widths[i] = max(widths[i], len(c))

    def line(values: Sequence[str]) -> str:
        first, *rest = values
        parts = [first.ljust(widths[0])] + [v.rjust(widths[i + 1]) for i, v in enumerate(rest)]
        return "| " + " | ".join(parts) + " |"

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(list(columns)), sep, *(line(r) for r in cells)])


def render(name: str, result: dict[str, Any]) -> str:
    out = [f"## {name}"]
    figures = result.get("figures") or []
    if figures:
        rows = [[f["name"], f.get("value"), f.get("unit", "")] for f in figures]
        out += ["", format_table(["figure", "value", "unit"], rows)]
    for table in result.get("tables") or []:
        out += ["", f"### {table['title']}", "", format_table(table["columns"], table["rows"])]
    for note in result.get("notes") or []:
        out += [f"- {note}"]
    return "\n".join(out)


# --- running ------------------------------------------------------------------------------


def run_one(bench: Benchmark) -> dict[str, Any]:
    run = bench.module.run
    result = asyncio.run(run()) if inspect.iscoroutinefunction(run) else run()
    if not isinstance(result, dict):
        raise TypeError(f"{bench.name}.run() returned {type(result).__name__}, not a dict")
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="benchmarks to run (all by default)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and stop")
    parser.add_argument("--mails", type=int, help="mails to send (sets GUICHET_BENCH_MAILS)")
    parser.add_argument("--no-save", action="store_true", help="print only, write no JSON")
    args = parser.parse_args(argv)

    benches = discover()
    if args.list:
        for b in benches.values():
            print(f"{b.name:16} {b.description}")
        return 0
    unknown = [n for n in args.names if n not in benches]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(benches)}")
    if args.mails is not None:
        if args.mails < 1:
            parser.error("--mails must be at least 1")
        os.environ["GUICHET_BENCH_MAILS"] = str(args.mails)

    facts = machine_facts()
    shown = {k: len(v) if k == "git_changed_files" else v for k, v in facts.items()}
    print(format_table(["machine", ""], [[k, v] for k, v in shown.items()]), flush=True)
    failed = 0
    for name in args.names or list(benches):
        bench = benches[name]
        print(f"\n>> {name}: {bench.description}", flush=True)
        started = datetime.now(UTC)
        t0 = time.perf_counter()
        try:
            result = run_one(bench)
            error = None
        except Exception as exc:  # a broken benchmark must not stop the others
            traceback.print_exc()
            result, error = {"ok": False}, f"{type(exc).__name__}: {exc}"
        elapsed = time.perf_counter() - t0
        ok = error is None and result.get("ok", True) is not False
        failed += not ok
        record = {
            "benchmark": name,
            "description": bench.description,
            "started_at": started.isoformat(),
            "duration_s": round(elapsed, 3),
            "ok": ok,
            "error": error,
            "argv": sys.argv,
            "machine": facts,
            "result": result,
        }
        print("\n" + render(name, result), flush=True)
        if not args.no_save:
            RESULTS_DIR.mkdir(parents=True, exist_ok=True)
            path = RESULTS_DIR / f"{name}-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
            path.write_text(json.dumps(record, indent=2, default=str) + "\n", encoding="utf-8")
            print(f"\nsaved {path.relative_to(ROOT)}", flush=True)
        print(f"{name}: {'ok' if ok else 'FAILED'} in {elapsed:.1f} s", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
