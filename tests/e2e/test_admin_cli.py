"""The operator's CLI against the running stack: administration through the tickets service."""

from __future__ import annotations

import subprocess
import sys
import uuid

from tests.e2e.conftest import ROOT


def guichet(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shared.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_users_queues_and_grants_are_administered_from_the_cli() -> None:
    group = f"g{uuid.uuid4().hex[:8]}"
    user = guichet("admin", "user", f"{group}@example.org", "--privileged", "--group", group)
    assert user.returncode == 0, user.stderr
    granted = guichet(
        "admin", "grant", "ModifyTicket", "--to", f"group:{group}", "--queue", "achats"
    )
    assert granted.returncode == 0, granted.stderr
    listed = guichet("admin", "grants")
    assert f"group:{group}" in listed.stdout
    revoked = guichet(
        "admin", "revoke", "ModifyTicket", "--to", f"group:{group}", "--queue", "achats"
    )
    assert revoked.returncode == 0, revoked.stderr
    assert f"group:{group}" not in guichet("admin", "grants").stdout


def test_a_refused_command_says_why_in_one_line_and_exits_2() -> None:
    result = guichet("admin", "grant", "Bogus", "--to", "everyone")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: unknown right 'Bogus'"
