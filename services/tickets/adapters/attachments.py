"""Attachment contents, stored once by SHA-256 (the quote archive's files).

Every read is a look-up by string ``_id``: the file's document under its hash, then its
chunks under ``<hash>:<n>``. (GridFS finds chunks by ``files_id`` and ``n``, which
FerretDB answers by reading every chunk of every file: about a second per file with a few
hundred PDFs stored.) A second mail with the same PDF stores nothing new; the file
document is written after its chunks, so a file that has one is complete. Files stored in
GridFS by earlier versions are still read, and moved to the keyed form on first read.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

from gridfs import AsyncGridFSBucket
from gridfs.errors import NoFile
from pymongo import AsyncMongoClient
from pymongo.errors import DuplicateKeyError

from shared.mail.parsing import ParsedAttachment

CHUNK_BYTES = 4 * 1024 * 1024  # most files are one chunk; a document stays far below 16 MB


def chunk_key(sha256: str, number: int) -> str:
    return f"{sha256}:{number}"


class MongoAttachmentStore:
    def __init__(self, client: AsyncMongoClient[dict[str, Any]], database: str) -> None:
        db = client[database]
        self._files = db["attachment_files"]
        self._chunks = db["attachment_chunks"]
        self._legacy = AsyncGridFSBucket(db, bucket_name="attachments")

    async def put(self, attachment: ParsedAttachment) -> str:
        return await self._store(
            attachment.sha256, attachment.filename, attachment.content_type, attachment.content
        )

    async def _store(self, sha256: str, filename: str, content_type: str, content: bytes) -> str:
        if await self._files.find_one({"_id": sha256}, {"_id": 1}):
            return sha256
        count = max(1, -(-len(content) // CHUNK_BYTES))
        for number in range(count):
            # Written meanwhile by another writer? Same bytes under the same key.
            with contextlib.suppress(DuplicateKeyError):
                await self._chunks.insert_one(
                    {
                        "_id": chunk_key(sha256, number),
                        "data": content[number * CHUNK_BYTES : (number + 1) * CHUNK_BYTES],
                    }
                )
        with contextlib.suppress(DuplicateKeyError):
            await self._files.insert_one(
                {
                    "_id": sha256,
                    "filename": filename,
                    "content_type": content_type,
                    "length": len(content),
                    "chunks": count,
                    "stored": datetime.now(UTC),
                }
            )
        return sha256

    async def get(self, sha256: str) -> bytes | None:
        stored = await self.get_with_metadata(sha256)
        return stored[2] if stored else None

    async def get_with_metadata(self, sha256: str) -> tuple[str, str, bytes] | None:
        """The file's first name, its content type and its bytes."""
        found = await self._files.find_one({"_id": sha256})
        if found is None:
            return await self._from_gridfs(sha256)
        parts = []
        for number in range(int(found["chunks"])):
            chunk = await self._chunks.find_one({"_id": chunk_key(sha256, number)})
            if chunk is None:  # pragma: no cover - the file document comes last
                return None
            parts.append(bytes(chunk["data"]))
        return found["filename"] or sha256, found["content_type"], b"".join(parts)

    async def _from_gridfs(self, sha256: str) -> tuple[str, str, bytes] | None:
        try:
            stream = await self._legacy.open_download_stream(sha256)
        except NoFile:
            return None
        metadata = stream.metadata or {}
        content_type = str(metadata.get("content_type", "application/octet-stream"))
        filename = stream.filename or sha256
        content = await stream.read()
        await self._store(sha256, filename, content_type, content)
        return filename, content_type, content
