"""Running a service process: uvicorn serves its HTTP app, whose lifespan owns the rest."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import uvicorn
from fastapi import FastAPI

log = logging.getLogger(__name__)


def serve(app: FastAPI, *, host: str, port: int) -> None:
    """Serve ``app`` until SIGTERM/SIGINT; the lifespan stops consumers gracefully."""
    config = uvicorn.Config(
        app, host=host, port=port, log_config=None, access_log=False, lifespan="on"
    )
    uvicorn.Server(config).run()


class BackgroundTasks:
    """Named periodic tasks started with a service and cancelled when it stops."""

    def __init__(self) -> None:
        self._tasks: list[asyncio.Task[None]] = []

    def every(self, seconds: float, name: str, work: Callable[[], Awaitable[object]]) -> None:
        async def loop() -> None:
            while True:
                try:
                    await work()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("background task %s failed; will run again", name)
                await asyncio.sleep(seconds)

        self._tasks.append(asyncio.create_task(loop(), name=name))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()


def run_service(
    service: str,
    settings_type: Callable[[], Any],
    build_app: Callable[[Any], FastAPI],
) -> None:
    """Entry point of ``python -m services.<service>``: settings from the environment."""
    from shared.observability import configure_logging

    settings = settings_type()
    configure_logging(service, settings.log_level, json_logs=settings.log_json)
    serve(build_app(settings), host=settings.http_host, port=settings.http_port)
