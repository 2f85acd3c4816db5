"""Each queue's notification settings: one document per queue, ``_id`` its name.

``{"rules": {name: enabled}, "templates": {name: {language: {subject, body}}},
"notify_actor": bool}``; what is absent is the default in code.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import AsyncMongoClient

from services.notify.domain.rules import QueueSettings
from services.notify.domain.templates import TemplateText


class MongoQueueSettings:
    def __init__(self, client: AsyncMongoClient[dict[str, Any]], database: str) -> None:
        self._settings = client[database]["queue_settings"]

    async def get(self, queue: str) -> QueueSettings:
        doc = await self._settings.find_one({"_id": queue})
        if doc is None:
            return QueueSettings()
        templates = {
            (name, language): TemplateText(text["subject"], text["body"])
            for name, languages in (doc.get("templates") or {}).items()
            for language, text in languages.items()
        }
        return QueueSettings(
            rules=dict(doc.get("rules") or {}),
            templates=templates,
            notify_actor=bool(doc.get("notify_actor", False)),
        )

    async def _set(self, queue: str, changes: dict[str, Any], actor: str, now: datetime) -> None:
        await self._settings.update_one(
            {"_id": queue},
            {"$set": {**changes, "updated": now, "updated_by": actor}},
            upsert=True,
        )

    async def set_rule(
        self, queue: str, rule: str, enabled: bool, actor: str, now: datetime
    ) -> None:
        await self._set(queue, {f"rules.{rule}": enabled}, actor, now)

    async def set_template(
        self, queue: str, name: str, language: str, text: TemplateText, actor: str, now: datetime
    ) -> None:
        value = {"subject": text.subject, "body": text.body}
        await self._set(queue, {f"templates.{name}.{language}": value}, actor, now)

    async def reset_template(
        self, queue: str, name: str, language: str, actor: str, now: datetime
    ) -> None:
        await self._settings.update_one(
            {"_id": queue},
            {
                "$unset": {f"templates.{name}.{language}": ""},
                "$set": {"updated": now, "updated_by": actor},
            },
        )

    async def set_notify_actor(self, queue: str, value: bool, actor: str, now: datetime) -> None:
        await self._set(queue, {"notify_actor": value}, actor, now)
