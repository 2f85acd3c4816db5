"""A ticket's file as an HTTP answer, for the REST API and the interface alike: its own
type only when a browser may safely show it, a safe ``Content-Disposition``, and a policy
that keeps whatever it holds from running in our origin."""

from __future__ import annotations

import base64
from urllib.parse import quote

from fastapi.responses import Response

from shared.messaging import RpcClient
from shared.rpc import tickets as rpc

# What a browser may show inline; anything else downloads (an HTML or SVG file from a
# supplier must never run in our origin).
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
INLINE_TYPES = IMAGE_TYPES | {"application/pdf", "text/plain"}


def media_type(content_type: str) -> str:
    """``type/subtype`` of a stored file's type, lower case, without parameters."""
    return content_type.split(";")[0].strip().lower()


def content_disposition(filename: str, *, inline: bool) -> str:
    """RFC 6266: an ASCII fallback and the UTF-8 name, nothing that breaks the header."""
    cleaned = "".join(c for c in filename if c.isprintable() and c not in '\\"/').strip() or "file"
    ascii_name = cleaned.encode("ascii", "replace").decode().replace("?", "_")
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(cleaned, safe='')}"


async def file_response(
    client: RpcClient, actor: str, ticket: int, sha256: str, *, download: bool = False
) -> Response:
    found = rpc.AttachmentContent.model_validate(
        await client.call(rpc.GET_ATTACHMENT, {"actor": actor, "sha256": sha256, "ticket": ticket})
    )
    content_type = media_type(found.content_type) or "application/octet-stream"
    shown = content_type in INLINE_TYPES
    disposition = content_disposition(found.filename, inline=shown and not download)
    return Response(
        base64.b64decode(found.content_b64),
        media_type=content_type if shown else "application/octet-stream",
        headers={
            "Content-Disposition": disposition,
            "X-Content-Type-Options": "nosniff",
            # A sandbox would also stop the browser's own PDF viewer; a PDF's scripts run in
            # that viewer, never in our origin.
            "Content-Security-Policy": "default-src 'none'"
            + ("" if content_type == "application/pdf" else "; sandbox"),
            "Cache-Control": "private, max-age=3600",
        },
    )
