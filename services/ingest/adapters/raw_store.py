"""The raw mail spool: every accepted mail's bytes, durable before SMTP says 250.

Write to a temporary file, fsync, rename, fsync the directory (Mailman's switchboard).
Files are named by the SHA-256 of their bytes, so a mail delivered twice is stored once.
``write`` returns as soon as the bytes are written, with a future for their durability:
the caller can do its other work (publish) while the disk syncs.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SpoolWrite:
    sha256: str
    ref: str
    durable: asyncio.Future[None]


class FileRawStore:
    def __init__(self, directory: Path) -> None:
        self._dir = directory
        self._dir.mkdir(parents=True, exist_ok=True)
        self._made: set[str] = set()  # subdirectories known to exist, not made again

    async def write(self, raw: bytes) -> SpoolWrite:
        """Write ``raw`` into the spool; return once its bytes are written (raise if the
        spool cannot take them). Its ``durable`` completes once they are fsync'ed under
        their final name, or raises."""
        sha256 = hashlib.sha256(raw).hexdigest()
        loop = asyncio.get_running_loop()
        written: asyncio.Future[None] = loop.create_future()

        def mark_written() -> None:
            if not written.done():
                written.set_result(None)

        def announce_written() -> None:  # called from the writing thread
            loop.call_soon_threadsafe(mark_written)

        durable = asyncio.ensure_future(
            asyncio.to_thread(self._write, sha256, raw, announce_written)
        )
        await asyncio.wait((written, durable), return_when=asyncio.FIRST_COMPLETED)
        if durable.done():
            durable.result()  # an early failure (or the same mail, already durable)
        return SpoolWrite(sha256, f"spool:{sha256}", durable)

    def _write(self, sha256: str, raw: bytes, written: Callable[[], None]) -> None:
        # Plain os calls on str paths: this runs for every mail (pathlib was 3 % of the CPU).
        parent = os.path.join(self._dir, sha256[:2])
        path = os.path.join(parent, f"{sha256}.eml")
        try:
            if os.stat(path).st_size == len(raw):
                return  # the same bytes, already durable
        except FileNotFoundError:
            pass
        if parent not in self._made:
            os.makedirs(parent, exist_ok=True)
            self._made.add(parent)
        tmp = f"{path}.tmp.{os.getpid()}.{threading.get_ident()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
        try:
            left = memoryview(raw)
            while left:
                left = left[os.write(fd, left) :]
            written()
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        dir_fd = os.open(parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def writable(self) -> bool:
        return os.access(self._dir, os.W_OK)
