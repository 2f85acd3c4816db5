"""The committed interface documents: one AsyncAPI document per service, plus the web
gateway's OpenAPI document (``make asyncapi`` → ``docs/asyncapi/``).

Each AsyncAPI document is generated from the service's own FastStream broker, built by
``services.<name>.app.asyncapi(settings)`` with every subscriber and publisher registered
and nothing connected. The output is deterministic, so the contract tests can diff it
against the committed files:

- settings are each class's *defaults*, never the environment (``model_construct``): a
  ``GUICHET_BROKER_URL`` set in a shell or in CI must not change the ``servers`` section;
- JSON is written with sorted keys, two-space indent and a trailing newline;
- nothing in the documents holds a timestamp or a random id.

``shared`` does not otherwise import ``services``: the imports below are local to the
functions, so that importing this module stays cheap and ``shared`` has no import-time
dependency on the services.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from faststream.specification import AsyncAPI

SERVICES_WITH_ASYNCAPI: tuple[str, ...] = ("ingest", "tickets", "notify", "search")


def _asyncapi_factories() -> dict[str, Callable[[], AsyncAPI]]:
    from services.ingest.app import asyncapi as ingest
    from services.ingest.settings import IngestSettings
    from services.notify.app import asyncapi as notify
    from services.notify.settings import NotifySettings
    from services.search.app import asyncapi as search
    from services.search.settings import SearchSettings
    from services.tickets.app import asyncapi as tickets
    from services.tickets.settings import TicketsSettings

    return {
        "ingest": lambda: ingest(IngestSettings.model_construct()),
        "tickets": lambda: tickets(TicketsSettings.model_construct()),
        "notify": lambda: notify(NotifySettings.model_construct()),
        "search": lambda: search(SearchSettings.model_construct()),
    }


def documents() -> dict[str, dict[str, Any]]:
    """Each service's AsyncAPI 3.0 document as JSON-able data, keyed by service name."""
    factories = _asyncapi_factories()
    docs: dict[str, dict[str, Any]] = {}
    for name in SERVICES_WITH_ASYNCAPI:
        jsonable = factories[name]().to_specification().to_jsonable()
        # A round trip through JSON turns tuples into lists and fails on anything that
        # would not survive being written (the committed file is what readers get).
        docs[name] = json.loads(json.dumps(jsonable))
    return docs


def openapi_document() -> dict[str, Any]:
    """The web gateway's OpenAPI document; building the app connects to nothing (its RPC
    client only connects in the lifespan)."""
    from services.web.app import build_app
    from services.web.settings import WebSettings

    openapi = build_app(WebSettings.model_construct()).openapi()
    jsonable: dict[str, Any] = json.loads(json.dumps(openapi))
    return jsonable


def render(document: dict[str, Any]) -> str:
    """The committed text of a document: sorted keys, indent 2, trailing newline."""
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def rendered() -> dict[str, str]:
    """File name → exact text of every document ``write_all`` writes."""
    files = {f"asyncapi-{name}.json": render(doc) for name, doc in documents().items()}
    files["openapi-web.json"] = render(openapi_document())
    return files


def write_all(out_dir: Path) -> list[Path]:
    """Write every document into ``out_dir`` (created if needed); return the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for file_name, text in rendered().items():
        path = out_dir / file_name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
