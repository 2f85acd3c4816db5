"""The raw mail spool: every accepted mail's bytes, durable before SMTP says 250.

Write to a temporary file, fsync, rename, fsync the directory (Mailman's switchboard).
Files are named by the SHA-256 of their bytes, so a mail delivered twice is stored once.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path


class FileRawStore:
    def __init__(self, directory: Path) -> None:
        self._dir = directory
        self._dir.mkdir(parents=True, exist_ok=True)

    def _path(self, sha256: str) -> Path:
        return self._dir / sha256[:2] / f"{sha256}.eml"

    async def store(self, raw: bytes) -> tuple[str, str]:
        """Store ``raw`` durably; return its SHA-256 and its reference."""
        sha256 = hashlib.sha256(raw).hexdigest()
        await asyncio.to_thread(self._write, sha256, raw)
        return sha256, f"spool:{sha256}"

    def _write(self, sha256: str, raw: bytes) -> None:
        path = self._path(sha256)
        if path.exists() and path.stat().st_size == len(raw):
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
        try:
            os.write(fd, raw)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def writable(self) -> bool:
        return os.access(self._dir, os.W_OK)
