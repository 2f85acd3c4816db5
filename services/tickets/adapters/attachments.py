"""Attachment contents, stored once by SHA-256 in GridFS (the quote archive's files).

The file's ``_id`` is its hash: a second mail with the same PDF stores nothing new, and
two concurrent uploads of one file cannot both land (unique ``_id``).
"""

from __future__ import annotations

import contextlib
from typing import Any

from gridfs import AsyncGridFSBucket
from gridfs.errors import FileExists, NoFile
from pymongo import AsyncMongoClient
from pymongo.errors import DuplicateKeyError

from shared.mail.parsing import ParsedAttachment


class GridFsAttachmentStore:
    def __init__(self, client: AsyncMongoClient[dict[str, Any]], database: str) -> None:
        self._db = client[database]
        self._bucket = AsyncGridFSBucket(self._db, bucket_name="attachments")

    async def put(self, attachment: ParsedAttachment) -> str:
        sha256 = attachment.sha256
        if await self._db["attachments.files"].find_one({"_id": sha256}, {"_id": 1}):
            return sha256
        # Stored meanwhile by another writer? Same bytes, same id: nothing to do.
        with contextlib.suppress(FileExists, DuplicateKeyError):
            await self._bucket.upload_from_stream_with_id(
                sha256,
                attachment.filename,
                attachment.content,
                metadata={"content_type": attachment.content_type},
            )
        return sha256

    async def get(self, sha256: str) -> bytes | None:
        stored = await self.get_with_metadata(sha256)
        return stored[2] if stored else None

    async def get_with_metadata(self, sha256: str) -> tuple[str, str, bytes] | None:
        """The file's first name, its content type and its bytes."""
        try:
            stream = await self._bucket.open_download_stream(sha256)
        except NoFile:
            return None
        metadata = stream.metadata or {}
        content_type = str(metadata.get("content_type", "application/octet-stream"))
        return stream.filename or sha256, content_type, await stream.read()
