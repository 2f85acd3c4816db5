"""Text extraction in separate processes, so a hostile or huge file cannot hang or crash
the search service.

Each file is read by ``extract_text`` in a worker process of a ``ProcessPoolExecutor``
started with the "forkserver" method (never "fork": the service runs asyncio and threads,
whose locks a forked child would inherit held). A file over ``max_bytes`` is refused
before any work; a file still being read after ``timeout_seconds`` has its worker killed
(the pool is made anew on the next call); a worker that dies (a crash in a parser, the
memory limit) costs that file a "failed". Files wait for a free worker before their clock
starts, so a queue of slow files never times out the one that is running.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from services.search.domain.extraction import Extracted, extract_text

log = logging.getLogger(__name__)

# A worker's address space: past this, a decompression bomb is a MemoryError, not a host
# out of memory (Linux; where resource limits do not exist, the worker runs without one).
WORKER_MEMORY_BYTES = 1024 * 1024 * 1024
MAX_WORKERS = 8


def _start_worker() -> None:
    """In each worker: the memory limit, and pypdf's warnings about damaged files (which
    only the status reports) kept out of the logs."""
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = (
            WORKER_MEMORY_BYTES
            if hard == resource.RLIM_INFINITY
            else min(hard, WORKER_MEMORY_BYTES)
        )
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, ValueError, OSError):
        pass  # no such limit on this system: the timeout still bounds the worker


def _extract(content: bytes, content_type: str, filename: str, max_chars: int) -> Extracted:
    """``extract_text`` with positional arguments, as ``run_in_executor`` passes them."""
    return extract_text(content, content_type=content_type, filename=filename, max_chars=max_chars)


class ExtractionPool:
    """Extracts attachments' text in worker processes, each file bounded in size and time."""

    def __init__(
        self,
        *,
        workers: int = 1,
        timeout_seconds: float = 15.0,
        max_bytes: int = 25 * 1024 * 1024,
        max_chars: int = 200_000,
    ) -> None:
        if workers < 1 or timeout_seconds <= 0 or max_bytes < 0 or max_chars < 1:
            raise ValueError("workers, timeout, max_bytes and max_chars must be positive")
        self._workers = min(workers, MAX_WORKERS, os.cpu_count() or 1)
        self._timeout = timeout_seconds
        self._max_bytes = max_bytes
        self._max_chars = max_chars
        self._executor: ProcessPoolExecutor | None = None  # made on first use
        # Pools killed so far: a file whose pool was killed for another's timeout retries.
        self._generation = 0
        self._free_workers = asyncio.Semaphore(self._workers)
        self._running = 0

    async def extract(self, content: bytes, *, content_type: str, filename: str) -> Extracted:
        """The text of one attachment (see ``extract_text``), or "too_large" when it has
        more than ``max_bytes``, "timeout" when reading it takes too long, "failed" when
        its worker dies."""
        if len(content) > self._max_bytes:
            return Extracted(
                "", "too_large", f"{len(content)} bytes (at most {self._max_bytes} are read)"
            )
        return await self._run(_extract, content, content_type, filename, self._max_chars)

    async def _run(self, fn: Callable[..., Extracted], *args: object) -> Extracted:
        """``fn(*args)`` in a worker, within the timeout. ``fn`` must be importable by
        name (a module-level function), as the worker receives it pickled."""
        async with self._free_workers:
            for attempt in range(2):
                executor, generation = self._ensure_executor(), self._generation
                try:
                    return await self._submit(executor, fn, args)
                except TimeoutError:
                    log.warning("extraction took over %ss: its worker is killed", self._timeout)
                    self._kill(executor)
                    return Extracted("", "timeout", f"over {self._timeout:g} s")
                except BrokenProcessPool:
                    if generation != self._generation and attempt == 0:
                        continue  # killed for another file (its timeout): a new try for this one
                    log.warning("an extraction worker died; the pool is made anew")
                    self._kill(executor)
            return Extracted("", "failed", "the extraction process died")

    async def _submit(
        self, executor: ProcessPoolExecutor, fn: Callable[..., Extracted], args: tuple[object, ...]
    ) -> Extracted:
        loop = asyncio.get_running_loop()
        self._running += 1
        try:
            return await asyncio.wait_for(
                loop.run_in_executor(executor, fn, *args), timeout=self._timeout
            )
        finally:
            self._running -= 1

    def _ensure_executor(self) -> ProcessPoolExecutor:
        if self._executor is None:
            context = multiprocessing.get_context("forkserver")
            # The fork server imports the main module (its default) and the extractor with
            # pypdf once; a new worker, even after a kill, is then a fork away, not imports.
            context.set_forkserver_preload(["__main__", extract_text.__module__])
            self._executor = ProcessPoolExecutor(
                max_workers=self._workers, mp_context=context, initializer=_start_worker
            )
        return self._executor

    def _kill(self, executor: ProcessPoolExecutor) -> None:
        """Kill ``executor``'s workers at once (a stuck parser never returns, so shutting
        down gently would wait for it) and forget it; the next call makes a new one."""
        if executor is self._executor:
            self._executor = None
            self._generation += 1
        # The workers' processes: the executor has no public way to kill them before
        # Python 3.14 (terminate_workers); its manager thread reaps them once they are dead.
        for process in list(executor._processes.values()):
            if process.is_alive():
                process.kill()
        executor.shutdown(wait=False, cancel_futures=True)

    async def close(self) -> None:
        """Stop the workers: gently when idle, killed when a file is still being read."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        if self._running:
            self._kill(executor)
            return
        await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)
