"""Schemathesis against the running web gateway: requests generated from its OpenAPI
document, valid and not, as an administrator — none may end in a server error (5xx).

Bounded: a few examples per operation, the same ones every run (derandomized), so a
failure replays and the whole run takes well under a minute."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.e2e.conftest import ADMIN, WEB

EXAMPLES_PER_OPERATION = 15


@pytest.fixture
def admin_preferences_kept() -> Iterator[None]:
    """The fuzzing changes the administrator's own preferences (language, signature, home
    layout) at random: they are put back after, for the tests that sign in as them."""
    with httpx.Client(base_url=WEB, auth=ADMIN, timeout=15) as client:
        before = client.get("/api/v1/me/preferences").raise_for_status().json()
        yield
        kept = {k: before[k] for k in ("language", "signature", "home_layout")}
        client.put("/api/v1/me/preferences", json=kept).raise_for_status()


@pytest.mark.usefixtures("admin_preferences_kept")
def test_no_request_makes_the_gateway_fail() -> None:
    schema = schemathesis.openapi.from_url(f"{WEB}/openapi.json", wait_for_schema=30)
    failures = []
    operations = 0
    for found in schema.get_all_operations():
        operation = found.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def call(case: schemathesis.Case) -> None:
            case.call_and_validate(auth=ADMIN, timeout=30, checks=[not_a_server_error])

        try:
            call()
        except Exception as exc:  # collect them all: one report of every failing operation
            failures.append(f"{operation.label}: {exc}")
    assert operations >= 15
    assert not failures, "\n\n".join(failures)
