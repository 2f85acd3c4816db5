"""Files carried by messages (pure): described alike whether a mail brought them or the web
sent them, so that the history, the search index and notify treat them the same.

Files from the web come as base64 (:class:`~shared.rpc.tickets.NewAttachment`); they are
decoded and checked here, before anything is stored: at most ``MAX_NEW_ATTACHMENTS`` files,
``MAX_NEW_ATTACHMENTS_BYTES`` decoded in all, each with a name (its last part only).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence

from shared.errors import InvalidInputError
from shared.events.ticket import AttachmentInfo
from shared.mail.parsing import ParsedAttachment, bare_content_id
from shared.rpc.tickets import MAX_NEW_ATTACHMENTS, MAX_NEW_ATTACHMENTS_BYTES, NewAttachment

DEFAULT_CONTENT_TYPE = "application/octet-stream"
_PART = r"[a-z0-9][a-z0-9!#$&^_.+-]*"
_CONTENT_TYPE = re.compile(rf"{_PART}/{_PART}")


def describe(attachment: ParsedAttachment) -> AttachmentInfo:
    """What a transaction lists of a file (its bytes are stored apart, by SHA-256)."""
    return AttachmentInfo(
        filename=attachment.filename,
        content_type=attachment.content_type,
        size=len(attachment.content),
        sha256=attachment.sha256,
        content_id=bare_content_id(attachment.content_id or "") or None,
    )


def base_name(filename: str) -> str:
    """The last part of a path, either separator (a browser may send a whole Windows
    path), without control characters; empty when nothing usable is left."""
    last = filename.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(c for c in last if c.isprintable()).strip()
    return "" if cleaned in (".", "..") else cleaned


def content_type_of(declared: str) -> str:
    """``type/subtype`` in lower case, without parameters; anything else is unknown bytes."""
    found = declared.split(";", 1)[0].strip().lower()
    return found if _CONTENT_TYPE.fullmatch(found) else DEFAULT_CONTENT_TYPE


def _decoded(number: int, encoded: str) -> bytes:
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInputError(f"file {number}: its content is not valid base64") from None


def read_new_attachments(files: Sequence[NewAttachment]) -> tuple[ParsedAttachment, ...]:
    """The files sent with a message, decoded and checked: a clear error for too many,
    too large in all, without a name, or not base64."""
    if len(files) > MAX_NEW_ATTACHMENTS:
        raise InvalidInputError(
            f"at most {MAX_NEW_ATTACHMENTS} files go with one message, not {len(files)}"
        )
    read: list[ParsedAttachment] = []
    total = 0
    for number, file in enumerate(files, start=1):
        name = base_name(file.filename)
        if not name:
            raise InvalidInputError(f"file {number}: {file.filename!r} names no file")
        # Whitespace (the line breaks of a MIME-style encoding) is allowed, nothing else.
        encoded = "".join(file.content_b64.split())
        # Its length tells the decoded size (to two bytes): refuse before decoding.
        if total + len(encoded) * 3 // 4 - 2 > MAX_NEW_ATTACHMENTS_BYTES:
            raise _too_large()
        content = _decoded(number, encoded)
        total += len(content)
        if total > MAX_NEW_ATTACHMENTS_BYTES:
            raise _too_large()
        read.append(ParsedAttachment(name, content_type_of(file.content_type), content))
    return tuple(read)


def _too_large() -> InvalidInputError:
    megabytes = MAX_NEW_ATTACHMENTS_BYTES // (1024 * 1024)
    return InvalidInputError(f"the files of one message may weigh {megabytes} MB in all, no more")
