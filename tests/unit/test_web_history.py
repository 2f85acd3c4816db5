"""One line per transaction in the ticket's history, in the reader's language (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from services.web.ui.display import history_line
from services.web.ui.i18n import translator

pytestmark = pytest.mark.unit
FR, EN = translator("fr"), translator("en")


def txn(kind: str, **values: Any) -> dict[str, Any]:
    return {"type": kind, "creator": "alice@example.org", **values}


@pytest.mark.parametrize(
    ("given", "french", "english"),
    [
        (txn("create"), "Ticket créé par alice@example.org", "Ticket created by alice@example.org"),
        (
            txn("status", old_value="new", new_value="resolved"),
            "Statut : nouveau → résolu (alice@example.org)",
            "Status: new → resolved (alice@example.org)",
        ),
        (
            txn("set", note="priority", old_value="0", new_value="5"),
            "Priorité : 0 → 5 (alice@example.org)",
            "Priority: 0 → 5 (alice@example.org)",
        ),
        (
            txn("set", note="CF.DEM LOG", old_value=None, new_value="4242"),
            "DEM LOG : ∅ → 4242 (alice@example.org)",
            "DEM LOG: ∅ → 4242 (alice@example.org)",
        ),
        (
            txn("add_watcher", note="Cc", new_value="f@acme.example"),
            "Cc ajouté : f@acme.example (alice@example.org)",
            "Cc added: f@acme.example (alice@example.org)",
        ),
        (
            txn("del_watcher", note="Requestor", old_value="r@x.example"),
            "Demandeur retiré : r@x.example (alice@example.org)",
            "Requestor removed: r@x.example (alice@example.org)",
        ),
        (
            txn("link", note="DependsOn", new_value="12"),
            "Lien DependsOn → #12 (alice@example.org)",
            "Link DependsOn → #12 (alice@example.org)",
        ),
        (
            txn("merged", new_value="7"),
            "Fusionné dans le ticket #7 (alice@example.org)",
            "Merged into ticket #7 (alice@example.org)",
        ),
        (txn("surprise"), "surprise (alice@example.org)", "surprise (alice@example.org)"),
    ],
)
def test_each_kind_of_transaction_reads_as_a_sentence(
    given: dict[str, Any], french: str, english: str
) -> None:
    assert history_line(given, FR) == french
    assert history_line(given, EN) == english
