"""RPC contracts of the notify service: the administrator's view and edits of each queue's
notification rules (RT's scrips) and mail templates, and the addresses known to fail.

Every request names its ``actor``; only an administrator may call these.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

QUEUE_SETTINGS = "notify.admin.queue"
SET_RULE = "notify.admin.set_rule"
SET_TEMPLATE = "notify.admin.set_template"
RESET_TEMPLATE = "notify.admin.reset_template"
SET_OPTIONS = "notify.admin.set_options"
FAILING_ADDRESSES = "notify.admin.failing_addresses"

Language = Literal["fr", "en"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class QueueRef(_Model):
    actor: str = Field(min_length=1)
    queue: str = Field(min_length=1, max_length=64)


class SetRule(_Model):
    """Switch one rule on or off for a queue."""

    actor: str = Field(min_length=1)
    queue: str = Field(min_length=1, max_length=64)
    rule: str = Field(min_length=1, max_length=100)
    enabled: bool


class SetTemplate(_Model):
    """Replace a template of a queue in one language. Both parts are Jinja2 (sandboxed); the
    subject gets the ticket's tag in front. A template that does not render is refused."""

    actor: str = Field(min_length=1)
    queue: str = Field(min_length=1, max_length=64)
    template: str = Field(min_length=1, max_length=100)
    language: Language
    subject: str = Field(min_length=1, max_length=500)
    body: str = Field(min_length=1, max_length=100_000)


class TemplateRef(_Model):
    """A queue's template in one language (to go back to the default)."""

    actor: str = Field(min_length=1)
    queue: str = Field(min_length=1, max_length=64)
    template: str = Field(min_length=1, max_length=100)
    language: Language


class SetOptions(_Model):
    """``notify_actor``: whether the author of a transaction gets a copy of their own
    message (RT's NotifyActor; off by default)."""

    actor: str = Field(min_length=1)
    queue: str = Field(min_length=1, max_length=64)
    notify_actor: bool


class RulePublic(_Model):
    name: str
    description: str
    template: str
    enabled: bool
    default_enabled: bool


class TemplatePublic(_Model):
    name: str
    language: Language
    subject: str
    body: str
    customised: bool


class QueueNotifications(_Model):
    """Everything notify does for one queue; ``variables`` are those templates may use."""

    queue: str
    notify_actor: bool
    rules: tuple[RulePublic, ...]
    templates: tuple[TemplatePublic, ...]
    variables: tuple[str, ...]


class ActorOnly(_Model):
    actor: str = Field(min_length=1)


class FailingAddress(_Model):
    """An address our mail could not reach: refused by the smarthost or bounced (DSN)."""

    address: str
    first_failed: AwareDatetime
    last_failed: AwareDatetime
    tickets: tuple[int, ...]
    reason: str
