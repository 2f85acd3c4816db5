"""Fixtures of the tickets integration tests: a store in a fresh database, and the
service wired to the real broker in a fresh virtual host, with a tap on its events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from services.tickets.adapters.attachments import MongoAttachmentStore
from services.tickets.adapters.mongo_store import MongoTicketStore
from services.tickets.service import TicketService
from shared.messaging import EventPublisher, build_broker, declare_topology
from shared.settings import BaseServiceSettings
from tests.integration.tickets.support import QUEUE, EventTap


@pytest.fixture
async def store(mongo: Any, namespace: str) -> MongoTicketStore:
    store = MongoTicketStore(mongo, f"{namespace}_tickets")
    await store.ensure_indexes()
    await store.set_instance("example", ["oldrt"])
    await store.upsert_queue(QUEUE)
    return store


@pytest.fixture
async def attachments(mongo: Any, namespace: str) -> MongoAttachmentStore:
    return MongoAttachmentStore(mongo, f"{namespace}_tickets")


@pytest.fixture
async def wired(
    vhost: str, store: MongoTicketStore, attachments: MongoAttachmentStore
) -> AsyncIterator[tuple[TicketService, EventTap]]:
    broker = build_broker(BaseServiceSettings(broker_url=vhost))
    await broker.start()
    await declare_topology(broker)
    tap = EventTap(vhost)
    await tap.start()
    service = TicketService(
        store,
        EventPublisher(broker, timeout=5),
        relay_grace=timedelta(0),
        attachments=attachments,
    )
    yield service, tap
    await tap.stop()
    await broker.stop()
