"""What agents keep for themselves, against the real FerretDB: canned responses (owned
and shared as saved searches and dashboards are) and a user's preferences (language,
signature, home layout), stored on the user."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.tickets.adapters.mongo_store import MongoTicketStore
from services.tickets.service import TicketService
from shared.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from shared.rpc import tickets as rpc
from tests.integration.tickets.support import EventTap

OWNER = "owner@example.org"
COLLEAGUE = "colleague@example.org"
OUTSIDER = "outsider@example.org"
ADMIN = "admin@example.org"


@pytest.fixture
async def service(wired: tuple[TicketService, EventTap], store: MongoTicketStore) -> TicketService:
    service, _ = wired
    for email, groups in ((OWNER, ["achats"]), (COLLEAGUE, ["achats"]), (OUTSIDER, ["ventes"])):
        await store.upsert_user(email, {"privileged": True, "is_admin": False, "groups": groups})
    await store.upsert_user(ADMIN, {"privileged": True, "is_admin": True})
    return service


def change(
    actor: str, action: str, item_id: str | None = None, **body: object
) -> rpc.ResponseChange:
    return rpc.ResponseChange(
        actor=actor,
        action=action,
        id=item_id,
        body=rpc.ResponseBody.model_validate(body) if body else None,
    )


async def test_canned_responses_are_ones_own_shared_with_ones_groups_and_changed_by_owners(
    service: TicketService,
) -> None:
    [shared] = await service.responses(
        change(OWNER, "put", name="Devis reçu", text="Bien reçu, merci.", shared_with_groups=True)
    )
    [private] = await service.responses(change(OWNER, "put", name="Relance", text="Alors ?"))
    assert shared["owner"] == OWNER and shared["groups"] == ["achats"]
    assert shared["body"] == {
        "name": "Devis reçu",
        "text": "Bien reçu, merci.",
        "shared_with_groups": True,
    }
    assert private["groups"] == []

    mine = await service.responses(change(OWNER, "list"))
    assert [r["body"]["name"] for r in mine] == ["Devis reçu", "Relance"]
    theirs = await service.responses(change(COLLEAGUE, "list"))
    assert [r["id"] for r in theirs] == [shared["id"]]
    assert await service.responses(change(OUTSIDER, "list")) == []
    # a kind of its own: neither a saved search nor a dashboard
    listed = rpc.SavedSearchChange(actor=OWNER, action="list")
    assert await service.saved_searches(listed) == []

    [seen] = await service.responses(change(COLLEAGUE, "get", shared["id"]))
    assert seen == shared
    with pytest.raises(PermissionDeniedError, match="only its owner changes a shared canned"):
        await service.responses(change(COLLEAGUE, "put", shared["id"], name="x", text="y"))
    with pytest.raises(PermissionDeniedError):
        await service.responses(change(COLLEAGUE, "delete", shared["id"]))
    for who, item in ((COLLEAGUE, private), (OUTSIDER, shared), (ADMIN, private)):
        with pytest.raises(NotFoundError, match="no such canned response"):
            await service.responses(change(who, "get", item["id"]))

    [changed] = await service.responses(
        change(OWNER, "put", shared["id"], name="Devis reçu", text="Reçu !")
    )
    assert (changed["id"], changed["body"]["text"], changed["groups"]) == (
        shared["id"],
        "Reçu !",
        [],
    )
    with pytest.raises(NotFoundError):  # no longer shared
        await service.responses(change(COLLEAGUE, "get", shared["id"]))
    assert await service.responses(change(OWNER, "delete", shared["id"])) == []
    with pytest.raises(NotFoundError):
        await service.responses(change(OWNER, "get", shared["id"]))
    with pytest.raises(InvalidInputError, match="put needs 'body'"):
        await service.responses(change(OWNER, "put"))
    with pytest.raises(ValidationError):  # the contract bounds a text
        rpc.ResponseBody(name="Long", text="x" * 20_001)


async def test_preferences_round_trip_and_authentication_answers_the_new_language(
    service: TicketService,
) -> None:
    await service.upsert_user(
        rpc.UpsertUser(actor=rpc.SYSTEM_ACTOR, email=OWNER, password="s3cret", privileged=True)
    )
    before = await service.get_user(rpc.UserRef(actor=OWNER, email=OWNER))
    assert (before["language"], before["signature"], before["home_layout"]) == ("fr", "", ())

    answered = await service.preferences(
        rpc.PreferencesChange(
            actor=OWNER,
            language="en",
            signature="Marc\r\nService achats\n\n",
            home_layout=("reminders", "mine", "dashboard"),
        )
    )
    assert answered["email"] == OWNER
    assert (answered["language"], answered["signature"], answered["home_layout"]) == (
        "en",
        "Marc\nService achats",
        ("reminders", "mine", "dashboard"),
    )
    assert await service.get_user(rpc.UserRef(actor=OWNER, email=OWNER)) == answered
    public = await service.authenticate(rpc.Credentials(email=OWNER, password="s3cret"))
    assert public["language"] == "en"

    # None leaves a preference as it is
    partial = await service.preferences(rpc.PreferencesChange(actor=OWNER, language="fr"))
    assert (partial["language"], partial["signature"], partial["home_layout"]) == (
        "fr",
        "Marc\nService achats",
        ("reminders", "mine", "dashboard"),
    )
    # an administrator's edit of the user leaves their signature and layout alone
    await service.upsert_user(
        rpc.UpsertUser(actor=rpc.SYSTEM_ACTOR, email=OWNER, privileged=True, language="en")
    )
    edited = await service.get_user(rpc.UserRef(actor=ADMIN, email=OWNER))
    assert (edited["language"], edited["signature"]) == ("en", "Marc\nService achats")
    assert edited["home_layout"] == ("reminders", "mine", "dashboard")


async def test_an_invalid_layout_or_signature_changes_nothing(service: TicketService) -> None:
    kept = await service.preferences(
        rpc.PreferencesChange(actor=OWNER, signature="Marc", home_layout=("mine",))
    )
    with pytest.raises(InvalidInputError, match="each home box comes once: mine twice"):
        await service.preferences(
            rpc.PreferencesChange(actor=OWNER, language="en", home_layout=("mine", "mine"))
        )
    with pytest.raises(ValidationError):  # an unknown box, by the contract
        rpc.PreferencesChange.model_validate({"actor": OWNER, "home_layout": ["weather"]})
    with pytest.raises(ValidationError):
        rpc.PreferencesChange.model_validate({"actor": OWNER, "signature": "x" * 2001})
    assert await service.get_user(rpc.UserRef(actor=OWNER, email=OWNER)) == kept
    with pytest.raises(InvalidInputError, match="the system has no preferences"):
        await service.preferences(rpc.PreferencesChange(actor=rpc.SYSTEM_ACTOR, language="en"))
