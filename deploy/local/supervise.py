"""Runs Guichet's processes and restarts any that dies (with back-off).

Each child's output goes to ``var/log/<name>.log``. A file ``var/run/hold/<name>`` stops
that child and keeps it stopped until the file goes (tests use it to stop a service):
    python deploy/local/supervise.py            # foreground; SIGTERM stops everything
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VAR = Path(os.environ.get("GUICHET_VAR_DIR", ROOT / "var"))
PYTHON = sys.executable
SERVICES = ("tickets", "ingest", "notify", "search", "web")


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    next_start: float = 0.0
    started_at: float = 0.0
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_path = VAR / "log" / f"{self.name}.log"

    @property
    def held(self) -> bool:
        return (VAR / "run" / "hold" / self.name).exists()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and modules
            self.argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        self.started_at = time.monotonic()
        (VAR / "run" / f"{self.name}.pid").write_text(str(self.process.pid))

    def stop(self, timeout: float = 20.0) -> None:
        if not self.alive():
            return
        assert self.process is not None
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        (VAR / "run" / f"{self.name}.pid").unlink(missing_ok=True)


def children() -> list[Child]:
    result = [
        Child(
            "catcher",
            [PYTHON, str(ROOT / "deploy/local/mail_catcher.py"), "--maildir", str(VAR / "outbox")],
        )
    ]
    result += [Child(name, [PYTHON, "-m", f"services.{name}"]) for name in SERVICES]
    return result


def main() -> None:
    for sub in ("log", "run", "run/hold"):
        (VAR / sub).mkdir(parents=True, exist_ok=True)
    (VAR / "run" / "supervisor.pid").write_text(str(os.getpid()))
    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    procs = children()
    while not stopping:
        now = time.monotonic()
        for child in procs:
            if child.held:
                child.stop()
                continue
            if child.alive():
                if now - child.started_at > 60:
                    child.restarts = 0  # it ran a while: forget earlier crashes
                continue
            if child.process is not None:
                code = child.process.returncode
                delay = min(2**child.restarts, 30)
                child.restarts += 1
                child.next_start = now + delay
                child.process = None
                print(f"{child.name} exited with {code}; restart in {delay}s", flush=True)
            if now >= child.next_start:
                child.start()
        time.sleep(0.2)
    # Stop in reverse order: the gateway and ingest first, tickets last.
    for child in reversed(procs):
        child.stop()
    (VAR / "run" / "supervisor.pid").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
