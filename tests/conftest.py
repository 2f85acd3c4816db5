"""Test levels by folder (unit, contract, integration, e2e): each test gets its level's marker.

Integration and end-to-end tests need the real servers (RabbitMQ, FerretDB, OpenSearch,
and for e2e the running services): `make test` starts them. They are never skipped: a
missing server fails the run. Addresses come from the environment (GUICHET_BROKER_URL,
GUICHET_MONGO_URL, GUICHET_OPENSEARCH_URL), so the same tests run against servers started
elsewhere (e.g. testcontainers on a laptop with Docker, see tests/integration/conftest.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

LEVELS = ("unit", "contract", "integration", "e2e")
TESTS = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.fspath)).relative_to(TESTS).parts
        if parts and parts[0] in LEVELS:
            item.add_marker(getattr(pytest.mark, parts[0]))
