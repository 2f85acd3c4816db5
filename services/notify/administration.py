"""An administrator's view and edits of each queue's rules and templates (notify's RPC).

Who is an administrator is the tickets service's to say, and it has no query for it yet:
until it has, only the operator's CLI (the system actor) may call these.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from services.notify.adapters.mongo_deliveries import MongoDeliveryLog
from services.notify.adapters.mongo_queue_settings import MongoQueueSettings
from services.notify.adapters.tickets_rpc import TicketsClient
from services.notify.domain.rules import RULES, RULES_BY_NAME, QueueSettings
from services.notify.domain.templates import (
    DEFAULT_TEMPLATES,
    LANGUAGES,
    TEMPLATE_VARIABLES,
    TemplateText,
    check_template,
    sample_context,
)
from shared.errors import NotFoundError, PermissionDeniedError
from shared.rpc import notify as rpc
from shared.rpc.tickets import SYSTEM_ACTOR


def queue_view(queue: str, settings: QueueSettings) -> rpc.QueueNotifications:
    return rpc.QueueNotifications(
        queue=queue,
        notify_actor=settings.notify_actor,
        rules=tuple(
            rpc.RulePublic(
                name=rule.name,
                description=rule.description,
                template=rule.template,
                enabled=settings.enabled(rule),
                default_enabled=rule.enabled,
            )
            for rule in RULES
        ),
        templates=tuple(
            rpc.TemplatePublic(
                name=name,
                language=language,
                subject=settings.template(name, language).subject,
                body=settings.template(name, language).body,
                customised=(name, language) in settings.templates,
            )
            for name in DEFAULT_TEMPLATES
            for language in LANGUAGES
        ),
        variables=TEMPLATE_VARIABLES,
    )


class NotifyAdministration:
    def __init__(
        self,
        settings: MongoQueueSettings,
        deliveries: MongoDeliveryLog,
        tickets: TicketsClient,
        *,
        on_change: Callable[[], None],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._settings = settings
        self._deliveries = deliveries
        self._tickets = tickets
        self._on_change = on_change
        self._clock = clock

    async def _require_admin(self, actor: str) -> None:
        """The operator's CLI (the system) or a system administrator, as the tickets
        service knows them."""
        if actor != SYSTEM_ACTOR and not await self._tickets.is_admin(actor):
            raise PermissionDeniedError(f"{actor} is not a system administrator", right="SuperUser")

    async def _existing_queue(self, actor: str, queue: str) -> str:
        await self._require_admin(actor)
        if queue not in await self._tickets.queue_names():
            raise NotFoundError(f"queue {queue} does not exist")
        return queue

    async def _view(self, queue: str) -> dict[str, Any]:
        self._on_change()
        return queue_view(queue, await self._settings.get(queue)).model_dump(mode="json")

    async def queue(self, ref: rpc.QueueRef) -> dict[str, Any]:
        return await self._view(await self._existing_queue(ref.actor, ref.queue))

    async def set_rule(self, cmd: rpc.SetRule) -> dict[str, Any]:
        queue = await self._existing_queue(cmd.actor, cmd.queue)
        if cmd.rule not in RULES_BY_NAME:
            raise NotFoundError(f"no rule {cmd.rule!r}; one of {', '.join(RULES_BY_NAME)}")
        await self._settings.set_rule(queue, cmd.rule, cmd.enabled, cmd.actor, self._clock())
        return await self._view(queue)

    async def set_template(self, cmd: rpc.SetTemplate) -> dict[str, Any]:
        queue = await self._existing_queue(cmd.actor, cmd.queue)
        if cmd.template not in DEFAULT_TEMPLATES:
            raise NotFoundError(
                f"no template {cmd.template!r}; one of {', '.join(DEFAULT_TEMPLATES)}"
            )
        text = TemplateText(cmd.subject, cmd.body)
        check_template(text, sample_context(cmd.language))
        await self._settings.set_template(
            queue, cmd.template, cmd.language, text, cmd.actor, self._clock()
        )
        return await self._view(queue)

    async def reset_template(self, cmd: rpc.TemplateRef) -> dict[str, Any]:
        queue = await self._existing_queue(cmd.actor, cmd.queue)
        if cmd.template not in DEFAULT_TEMPLATES:
            raise NotFoundError(f"no template {cmd.template!r}")
        await self._settings.reset_template(
            queue, cmd.template, cmd.language, cmd.actor, self._clock()
        )
        return await self._view(queue)

    async def set_options(self, cmd: rpc.SetOptions) -> dict[str, Any]:
        queue = await self._existing_queue(cmd.actor, cmd.queue)
        await self._settings.set_notify_actor(queue, cmd.notify_actor, cmd.actor, self._clock())
        return await self._view(queue)

    async def failing_addresses(self, cmd: rpc.ActorOnly) -> list[dict[str, Any]]:
        await self._require_admin(cmd.actor)
        return [
            rpc.FailingAddress(
                address=doc["_id"],
                first_failed=doc["first_failed"],
                last_failed=doc["last_failed"],
                tickets=tuple(doc.get("tickets") or ()),
                reason=doc.get("reason", ""),
            ).model_dump(mode="json")
            for doc in await self._deliveries.failing_addresses()
        ]
