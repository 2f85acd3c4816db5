"""What notify asks the tickets service, over its RPC, as the system actor: the files a
mail carries, a forwarded ticket's history, and which queues exist."""

from __future__ import annotations

import base64
import logging
from datetime import datetime
from typing import Any

from services.notify.domain.forwarding import HistoryEntry
from services.notify.domain.outgoing import AttachedFile
from shared.errors import NotFoundError, RetryableError, ServiceUnavailableError, UserError
from shared.events.ticket import AttachmentInfo
from shared.messaging import RpcClient
from shared.rpc import tickets as rpc

log = logging.getLogger(__name__)


class TicketsClient:
    def __init__(self, client: RpcClient) -> None:
        self._rpc = client

    async def _call(self, name: str, payload: dict[str, Any]) -> Any:
        try:
            return await self._rpc.call(name, {"actor": rpc.SYSTEM_ACTOR, **payload})
        except ServiceUnavailableError as exc:  # the tickets service is down or slow
            raise RetryableError(str(exc)) from exc

    async def attachment(self, info: AttachmentInfo) -> AttachedFile | None:
        """The file's bytes, or None when the tickets service has no such file."""
        try:
            found = await self._call(rpc.GET_ATTACHMENT, {"sha256": info.sha256})
        except UserError as exc:  # not found, or refused: the mail goes without it
            log.warning("attachment %s (%s) not sent: %s", info.filename, info.sha256[:12], exc)
            return None
        content = rpc.AttachmentContent.model_validate(found)
        return AttachedFile(
            filename=info.filename or content.filename,
            content_type=info.content_type or content.content_type,
            content=base64.b64decode(content.content_b64),
        )

    async def history(self, ticket: int) -> list[HistoryEntry]:
        try:
            items = await self._call(rpc.GET_HISTORY, {"id": ticket})
        except NotFoundError:
            return []
        entries = []
        for item in items:
            message = item.get("message") or {}
            entries.append(
                HistoryEntry(
                    created=datetime.fromisoformat(item["created"]),
                    creator=item["creator"],
                    type=item["type"],
                    text=item.get("text") or "",
                    attachments=tuple(
                        AttachmentInfo.model_validate(a) for a in message.get("attachments") or ()
                    ),
                )
            )
        return entries

    async def is_admin(self, email: str) -> bool:
        try:
            found = await self._call(rpc.GET_USER, {"email": email})
        except NotFoundError:
            return False
        return rpc.UserDetails.model_validate(found).is_admin

    async def queue_names(self) -> set[str]:
        routes = rpc.MailRoutes.model_validate(await self._call(rpc.MAIL_ROUTES, {}))
        return {route.queue for route in routes.routes.values()}
