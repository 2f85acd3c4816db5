"""A slow-query log for the document store: every command slower than a threshold is
logged with its collection and filter, so a query that scans shows itself in the logs."""

from __future__ import annotations

import logging
from typing import Any

from pymongo import monitoring

log = logging.getLogger("guichet.slow_queries")

# What identifies a query in a command document, and nothing of its data.
_SHAPE_KEYS = ("filter", "q", "query", "sort", "projection", "updates", "deletes")


class SlowQueryLogger(monitoring.CommandListener):
    def __init__(self, threshold_ms: float) -> None:
        self._threshold_ms = threshold_ms
        self._started: dict[tuple[Any, int], tuple[str, dict[str, Any]]] = {}

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if len(self._started) > 10_000:  # a listener must never grow without bound
            self._started.clear()
        shape = {k: event.command[k] for k in _SHAPE_KEYS if k in event.command}
        collection = str(event.command.get(event.command_name, ""))
        self._started[(event.connection_id, event.request_id)] = (collection, shape)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._finish(
            event.connection_id, event.request_id, event.command_name, event.duration_micros
        )

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._finish(
            event.connection_id, event.request_id, event.command_name, event.duration_micros
        )

    def _finish(self, connection: Any, request: int, name: str, micros: int) -> None:
        collection, shape = self._started.pop((connection, request), ("", {}))
        if micros / 1000 >= self._threshold_ms:
            log.warning(
                "slow %s on %s: %.0f ms %s", name, collection, micros / 1000, str(shape)[:500]
            )
