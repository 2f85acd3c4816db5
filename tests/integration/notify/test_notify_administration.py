"""An administrator changes a queue's rules and templates over notify's RPC, as the CLI
would, and the next events follow them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from shared.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from shared.messaging import RpcClient
from shared.rpc import notify as rpc
from shared.rpc.tickets import SYSTEM_ACTOR
from tests.integration.notify.conftest import Consumer, Notify
from tests.integration.notify.events import ticket_event
from tests.support import unique

ADMIN = {"actor": SYSTEM_ACTOR, "queue": "achats"}


@pytest.fixture
async def admin(notify: Notify) -> AsyncIterator[RpcClient]:
    consumer = await Consumer(notify).start()
    client = RpcClient(notify.vhost, timeout=10, name="admin")
    await client.start()
    yield client
    await client.stop()
    await consumer.stop()


async def test_a_queue_lists_its_rules_and_templates_with_their_defaults(
    admin: RpcClient,
) -> None:
    view = rpc.QueueNotifications.model_validate(await admin.call(rpc.QUEUE_SETTINGS, ADMIN))
    rules = {r.name: r for r in view.rules}
    assert rules["on_create_autoreply_to_requestors"].enabled
    assert rules["on_comment_notify_owner_and_admin_ccs"].template == "admin_comment"
    languages = {(t.name, t.language) for t in view.templates}
    assert languages >= {("autoreply", "fr"), ("forward", "en")}
    assert not any(t.customised for t in view.templates)
    assert view.notify_actor is False


async def test_an_edited_template_is_used_then_the_default_again(
    admin: RpcClient, notify: Notify
) -> None:
    alice = f"{unique('alice')}@example.net"
    view = await admin.call(
        rpc.SET_TEMPLATE,
        {
            **ADMIN,
            "template": "autoreply",
            "language": "fr",
            "subject": "Bien reçu : {{ ticket.subject }}",
            "body": "Merci ! Votre numéro : {{ tag }}.\n",
        },
    )
    assert [t["customised"] for t in view["templates"] if t["name"] == "autoreply"] == [True, False]
    await notify.publish(ticket_event("create", 21, requestors=(alice,)))
    [caught] = await notify.smarthost.catcher.wait_for(1)
    assert caught.message["Subject"] == "[example #21] Bien reçu : Demande de devis écran"
    body = caught.message.get_body(("plain",))
    assert body is not None
    assert body.get_content().startswith("Merci ! Votre numéro : [example #21].")

    await admin.call(rpc.RESET_TEMPLATE, {**ADMIN, "template": "autoreply", "language": "fr"})
    await notify.publish(ticket_event("create", 22, requestors=(alice,)))
    _, second = await notify.smarthost.catcher.wait_for(2)
    assert second.message["Subject"] == "[example #22] Demande de devis écran"


async def test_a_disabled_rule_sends_nothing_and_the_others_still_do(
    admin: RpcClient, notify: Notify
) -> None:
    alice, _, chief = (f"{unique(p)}@example.org" for p in ("alice", "x", "chief"))
    await admin.call(
        rpc.SET_RULE, {**ADMIN, "rule": "on_create_autoreply_to_requestors", "enabled": False}
    )
    await notify.publish(ticket_event("create", 23, requestors=(alice,), admin_ccs=(chief,)))
    [caught] = await notify.smarthost.catcher.wait_for(1)
    assert caught.recipients == [chief]
    assert notify.smarthost.catcher.to(alice) == []


@pytest.mark.parametrize(
    ("call", "payload", "error"),
    [
        (rpc.SET_TEMPLATE, {"template": "autoreply", "language": "fr", "subject": "x",
                            "body": "{{ nope }}"}, InvalidInputError),
        (rpc.SET_TEMPLATE, {"template": "nope", "language": "fr", "subject": "x", "body": "y"},
         NotFoundError),
        (rpc.SET_RULE, {"rule": "on_nothing", "enabled": True}, NotFoundError),
        (rpc.SET_OPTIONS, {"queue": "nowhere", "notify_actor": True}, NotFoundError),
    ],
    ids=["template-that-does-not-render", "unknown-template", "unknown-rule", "unknown-queue"],
)  # fmt: skip
async def test_a_bad_change_is_refused_with_its_reason(
    admin: RpcClient, call: str, payload: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        await admin.call(call, {**ADMIN, **payload})


async def test_only_an_administrator_may_change_notifications(admin: RpcClient) -> None:
    with pytest.raises(PermissionDeniedError):
        await admin.call(rpc.QUEUE_SETTINGS, {"actor": "agent@example.org", "queue": "achats"})
    # a system administrator, as the tickets service knows them, may
    shown = await admin.call(rpc.QUEUE_SETTINGS, {"actor": "admin@example.org", "queue": "achats"})
    assert shown["queue"] == "achats"


async def test_the_failing_addresses_are_listed(admin: RpcClient, notify: Notify) -> None:
    gone = f"{unique('gone')}@example.net"
    notify.smarthost.catcher.refuse[gone] = "550 5.1.1 gone"
    await notify.handle(ticket_event("create", 24, requestors=(gone,)))
    listed = await admin.call(rpc.FAILING_ADDRESSES, {"actor": SYSTEM_ACTOR})
    assert [(a["address"], a["tickets"]) for a in listed] == [(gone, [24])]
