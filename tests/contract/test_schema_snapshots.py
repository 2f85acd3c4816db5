"""JSON Schema snapshots of every contract: a schema may change only with a new version.

``snapshots/<name>.v<version>.json`` holds the schema of each event payload (``<name>`` is
its ``event_type``), of the envelope, and of each RPC model (``rpc.<module>.<Class>``).
Old versions' files stay: they document what older producers may still send.
Regenerate after an intended, additive change with ``GUICHET_UPDATE_SNAPSHOTS=1``.
"""

from __future__ import annotations

import inspect
import json
import os
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from pydantic import BaseModel

from shared.events import ALL_EVENTS, AnyEnvelope
from shared.events.notify import DELIVERY_EVENTS
from shared.rpc import notify as rpc_notify
from shared.rpc import search as rpc_search
from shared.rpc import tickets as rpc_tickets
from tests.contract.samples import RPC_SAMPLES, rpc_sample

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("GUICHET_UPDATE_SNAPSHOTS") == "1"
RPC_MODULES: tuple[ModuleType, ...] = (rpc_tickets, rpc_search, rpc_notify)


def rpc_models() -> list[type[BaseModel]]:
    """Every public pydantic model defined in the RPC modules."""
    return [
        obj
        for module in RPC_MODULES
        for name, obj in vars(module).items()
        if inspect.isclass(obj)
        and issubclass(obj, BaseModel)
        and obj.__module__ == module.__name__
        and not name.startswith("_")
    ]


def _rpc_name(model: type[BaseModel]) -> str:
    return f"rpc.{model.__module__.rsplit('.', 1)[-1]}.{model.__name__}"


# (snapshot name, version, model, what to do on a breaking change)
CONTRACTS: list[tuple[str, int, type[BaseModel], str]] = (
    [
        (
            t.event_type,
            t.schema_version,
            t,
            f"bump {t.__name__}.schema_version and add an upcaster in shared/events/",
        )
        for t in (*ALL_EVENTS, *DELIVERY_EVENTS)
    ]
    + [
        (
            "envelope",
            1,
            AnyEnvelope,
            "the envelope is shared by every event: keep changes additive and optional",
        ),
    ]
    + [
        (
            _rpc_name(m),
            int(getattr(m, "schema_version", 1)),
            m,
            "keep RPC changes additive (new optional fields) or add a new endpoint name",
        )
        for m in rpc_models()
    ]
)


def _render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


@pytest.mark.parametrize(
    ("name", "version", "model", "advice"), CONTRACTS, ids=[c[0] for c in CONTRACTS]
)
def test_schema_matches_the_snapshot_of_its_version(
    name: str, version: int, model: type[BaseModel], advice: str
) -> None:
    path = SNAPSHOTS / f"{name}.v{version}.json"
    current = _render(model.model_json_schema())
    if UPDATE:
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(current, encoding="utf-8")
        return
    assert path.exists(), (
        f"no schema snapshot {path.name} for {model.__name__}: "
        "run the contract tests once with GUICHET_UPDATE_SNAPSHOTS=1 and commit the file"
    )
    assert path.read_text(encoding="utf-8") == current, (
        f"the JSON Schema of {model.__name__} differs from snapshot {path.name}. "
        f"A breaking change must not keep its version: {advice}. "
        "If the change is additive and intended, regenerate the snapshot with "
        "GUICHET_UPDATE_SNAPSHOTS=1 and commit it."
    )


def test_every_snapshot_belongs_to_a_known_contract() -> None:
    known = {name for name, *_ in CONTRACTS}
    orphans = []
    for path in sorted(SNAPSHOTS.glob("*.json")):
        match = re.fullmatch(r"(?P<name>.+)\.v(?P<version>\d+)\.json", path.name)
        if match is None or match["name"] not in known:
            orphans.append(path.name)
    assert not orphans, f"snapshots of no current contract (renamed or removed?): {orphans}"


def test_every_rpc_model_has_a_sample() -> None:
    missing = [m.__name__ for m in rpc_models() if m not in RPC_SAMPLES]
    assert not missing, f"add samples to tests/contract/samples.py for: {missing}"


@pytest.mark.parametrize("model", rpc_models(), ids=lambda m: m.__name__)
def test_rpc_model_round_trips_through_json(model: type[BaseModel]) -> None:
    sample = rpc_sample(model)

    received = model.model_validate(json.loads(json.dumps(sample.model_dump(mode="json"))))

    assert received == sample
