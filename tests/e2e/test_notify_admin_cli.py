"""An operator edits notifications from the CLI, through the running notify service.

Only the English templates of ``achats`` (a French queue: they are never used) are touched,
and put back, so the other tests see the defaults."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.e2e.conftest import ROOT


def guichet(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shared.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_template_is_replaced_shown_and_reset_from_the_cli(tmp_path: Path) -> None:
    body = tmp_path / "owner_given.txt"
    body.write_text("{{ author }} gave you {{ tag }}.\n", encoding="utf-8")
    try:
        changed = guichet(
            "admin", "notify", "template", "achats", "owner_given", "--language", "en",
            "--subject", "Yours: {{ ticket.subject }}", "--body-file", str(body),
        )  # fmt: skip
        assert changed.returncode == 0, changed.stderr
        assert changed.stdout.startswith("Subject: Yours: {{ ticket.subject }}\n\n{{ author }}")
        shown = guichet("admin", "notify", "show", "achats")
        assert shown.returncode == 0, shown.stderr
        assert "templates changed: owner_given.en" in shown.stdout
        assert "on  on_create_autoreply_to_requestors" in shown.stdout
    finally:
        reset = guichet(
            "admin", "notify", "template", "achats", "owner_given", "--language", "en", "--reset"
        )
    assert reset.returncode == 0, reset.stderr
    assert "templates changed: none" in guichet("admin", "notify", "show", "achats").stdout


def test_a_template_that_does_not_render_is_refused_in_one_line(tmp_path: Path) -> None:
    body = tmp_path / "broken.txt"
    body.write_text("{{ no_such_variable }}\n", encoding="utf-8")
    refused = guichet(
        "admin", "notify", "template", "achats", "autoreply", "--language", "en",
        "--subject", "x", "--body-file", str(body),
    )  # fmt: skip
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: the template does not render:")
    assert "no_such_variable" in refused.stderr


def test_an_unknown_rule_is_refused_with_the_known_ones() -> None:
    refused = guichet("admin", "notify", "rule", "achats", "on_nothing", "--off")
    assert refused.returncode == 2
    assert "on_create_autoreply_to_requestors" in refused.stderr
