"""A ticket as its page shows it, against the real FerretDB: the history sent again only
from where the caller's copy ends (while that copy is still the history's start), the
agent's desk beside it, and lists kept by one replica that follow another's writes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.tickets.adapters.mongo_store import MongoTicketStore
from services.tickets.service import TicketService
from shared.rpc import tickets as rpc
from tests.integration.tickets.support import EventTap, envelope_of, ticket_command
from tests.support import raw_mail

AGENT = "agent@example.org"
REQUESTOR = "alice@example.net"
NOW = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)


@pytest.fixture
async def service(wired: tuple[TicketService, EventTap]) -> TicketService:
    service, _ = wired
    await service.upsert_user(
        rpc.UpsertUser(actor=rpc.SYSTEM_ACTOR, email=AGENT, privileged=True, is_admin=True)
    )
    return service


async def view(service: TicketService, actor: str, ticket: int, **known: Any) -> dict[str, Any]:
    return await service.view(rpc.TicketView(actor=actor, id=ticket, **known))


def ids(answer: dict[str, Any]) -> list[str]:
    return [str(t["id"]) for t in answer["history"]]


async def test_only_what_follows_the_callers_copy_is_sent_again(service: TicketService) -> None:
    await service.on_mail_received(envelope_of(raw_mail(subject="Écrans")))
    await service.execute(ticket_command(1, "reply", AGENT, text="Bien reçu."))
    first = await view(service, AGENT, 1)
    assert first["history_from"] == 0 and len(first["history"]) == 2
    assert first["history_digest"] == rpc.history_digest(ids(first))
    assert first["ticket"]["id"] == 1 and first["bookmarked"] is False

    await service.execute(ticket_command(1, "comment", AGENT, text="Relancer lundi."))
    known = {"known": 2, "known_digest": first["history_digest"]}
    then = await view(service, AGENT, 1, **known)
    assert then["history_from"] == 2
    assert [t["type"] for t in then["history"]] == ["comment"]
    assert then["history_digest"] == rpc.history_digest([*ids(first), *ids(then)])

    # Nothing new: nothing sent; a copy that is not the history's start: everything.
    same = await view(service, AGENT, 1, known=3, known_digest=then["history_digest"])
    assert same["history_from"] == 3 and same["history"] == []
    for wrong in (
        {"known": 2, "known_digest": "0" * 32},
        {"known": 9, "known_digest": then["history_digest"]},
    ):
        again = await view(service, AGENT, 1, **wrong)
        assert again["history_from"] == 0 and len(again["history"]) == 3


async def test_a_merge_into_the_ticket_sends_the_whole_history_again(
    service: TicketService,
) -> None:
    for subject in ("Premier", "Second"):
        await service.on_mail_received(envelope_of(raw_mail(subject=subject)))
    await service.execute(ticket_command(1, "reply", AGENT, text="Bien reçu."))
    before = await view(service, AGENT, 1)

    # The second ticket's opening is older than the reply: it lands inside the history.
    await service.execute(ticket_command(2, "merge", AGENT, target=1))
    after = await view(service, AGENT, 1, known=2, known_digest=before["history_digest"])
    assert after["history_from"] == 0
    assert [t["type"] for t in after["history"]][:3] == ["create", "create", "correspond"]


async def test_a_requestor_sees_no_comment_and_no_desk(service: TicketService) -> None:
    await service.on_mail_received(envelope_of(raw_mail(sender=REQUESTOR)))
    await service.execute(ticket_command(1, "comment", AGENT, text="Fournisseur lent."))
    [response] = await service.responses(
        rpc.ResponseChange(
            actor=AGENT,
            action="put",
            body=rpc.ResponseBody(name="Reçu", text="Bien reçu, merci."),
        )
    )
    await service.bookmarks(rpc.BookmarkChange(actor=AGENT, action="add", ticket=1))

    agents = await view(service, AGENT, 1, desk=True)
    assert [t["type"] for t in agents["history"]] == ["create", "comment"]
    assert [q["name"] for q in agents["queues"]] == ["achats"]
    assert [r["id"] for r in agents["responses"]] == [response["id"]]
    assert agents["bookmarked"] is True

    theirs = await view(service, REQUESTOR, 1, desk=True)
    assert [t["type"] for t in theirs["history"]] == ["create"]
    assert theirs["queues"] == [] and theirs["responses"] == []
    assert theirs["bookmarked"] is False
    without_desk = await view(service, AGENT, 1)
    assert without_desk["queues"] == [] and without_desk["responses"] == []


async def test_lists_kept_by_one_replica_follow_the_writes_of_another(
    mongo: Any, namespace: str, store: MongoTicketStore
) -> None:
    other = MongoTicketStore(mongo, f"{namespace}_tickets")  # a second replica's store
    assert await store.bookmarked(AGENT) == []
    assert await store.open_reminders(AGENT) == []
    assert await store.owned_items("responses", AGENT, []) == []

    await other.add_bookmark(AGENT, 7, NOW)
    await other.add_reminder(
        {"_id": "r1", "owner": AGENT, "ticket": 7, "subject": "Relancer", "due": NOW}
        | {"created": NOW, "done": None}
    )
    item = {"_id": "a" * 32, "owner": AGENT, "groups": [], "updated": NOW, "body": {}}
    await other.put_owned_item("responses", item)
    assert await store.bookmarked(AGENT) == [7]
    assert [r["_id"] for r in await store.open_reminders(AGENT)] == ["r1"]
    assert [i["_id"] for i in await store.owned_items("responses", AGENT, [])] == ["a" * 32]

    await other.remove_bookmark(AGENT, 7)
    await other.complete_reminder("r1", NOW)
    await other.delete_owned_item("responses", "a" * 32)
    assert await store.bookmarked(AGENT) == []
    assert await store.open_reminders(AGENT) == []
    assert await store.owned_items("responses", AGENT, []) == []


async def test_a_list_read_again_without_a_write_between_is_not_queried_again(
    store: MongoTicketStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store.add_bookmark(AGENT, 3, NOW)
    assert await store.bookmarked(AGENT) == [3]

    def refused(*_: Any, **__: Any) -> Any:
        raise AssertionError("the bookmarks were queried again")

    monkeypatch.setattr(store.bookmarks, "find", refused)
    assert await store.bookmarked(AGENT) == [3]


async def test_look_ups_by_id_use_the_id_index(mongo: Any, store: MongoTicketStore) -> None:
    """FerretDB's SQLite backend needs the fix its build script applies; MongoDB always
    uses its _id index (its plan has no such lines, and the test has nothing to check)."""
    await store.upsert_user(AGENT, {"privileged": True})
    plan = await store.users.database.command(
        "explain", {"find": "users", "filter": {"_id": AGENT}, "limit": 1}
    )
    lines = plan.get("queryPlanner", {}).get("Plan")
    if not isinstance(lines, list):
        pytest.skip("not FerretDB's SQLite backend: no plan lines to read")
    assert any("USING INDEX" in line for line in lines), lines
