"""The queue addresses ingest accepts, asked of the tickets service and kept fresh.

The last answer is also written to disk, so ingest restarted while tickets is down still
knows its addresses (mail keeps flowing into the spool and the broker).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from shared.messaging import RpcClient
from shared.rpc.tickets import MAIL_ROUTES, MailRoutes

log = logging.getLogger(__name__)


class RouteCache:
    def __init__(self, rpc: RpcClient, snapshot: Path) -> None:
        self._rpc = rpc
        self._snapshot = snapshot
        self.current: MailRoutes | None = None
        if snapshot.exists():
            try:
                self.current = MailRoutes.model_validate_json(snapshot.read_bytes())
            except ValueError:
                log.warning("ignoring unreadable routes snapshot %s", snapshot)

    async def refresh(self) -> MailRoutes:
        routes = MailRoutes.model_validate(await self._rpc.call(MAIL_ROUTES, {}))
        if routes != self.current:
            self.current = routes
            tmp = self._snapshot.with_suffix(".tmp")
            tmp.write_text(routes.model_dump_json())
            os.replace(tmp, self._snapshot)
            log.info("mail routes now: %s", sorted(routes.routes))
        return routes
