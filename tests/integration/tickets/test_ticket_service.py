"""The tickets service against the real FerretDB and RabbitMQ: a mail becomes a ticket,
its event is published once the transaction is durable, repeats act once, versions guard."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from pymongo.errors import DuplicateKeyError

from services.tickets.adapters.attachments import MongoAttachmentStore
from services.tickets.adapters.mongo_store import MongoTicketStore
from services.tickets.service import TicketService, ticket_event
from shared.errors import NotFoundError, PermissionDeniedError
from shared.rpc import tickets as rpc
from tests.integration.tickets.support import QUEUE, EventTap, envelope_of
from tests.support import mail_received, raw_mail, unique


async def test_a_new_mail_opens_ticket_with_sender_as_requestor_and_publishes_create(
    wired: tuple[TicketService, EventTap], store: MongoTicketStore
) -> None:
    service, tap = wired
    raw = raw_mail(
        sender="Alice <Alice@Example.NET>",
        cc="fournisseur@supplier.example, achats@tickets.example.org",
    )
    await service.on_mail_received(envelope_of(raw))
    [event] = await tap.wait_for(1)
    assert event.type == "ticket.txn.create"
    assert event.correlation_id == "smtp-1"
    ticket = event.payload["ticket"]
    assert ticket["requestors"] == ["alice@example.net"]
    assert ticket["ccs"] == ["fournisseur@supplier.example"]  # never the queue's own address
    assert ticket["status"] == "new" and ticket["version"] == 1
    assert event.payload["queue"]["correspond_address"] == QUEUE.correspond_address
    stored = await store.get_ticket(ticket["id"])
    assert stored is not None and stored.subject == "Demande de devis écran"
    user = await store.get_user("alice@example.net")
    assert user is not None and user["privileged"] is False


async def test_the_same_mail_delivered_twice_makes_one_ticket_and_one_event(
    wired: tuple[TicketService, EventTap], store: MongoTicketStore
) -> None:
    service, tap = wired
    raw = raw_mail(subject=unique("dup "))
    await service.on_mail_received(envelope_of(raw))
    await service.on_mail_received(envelope_of(raw))  # the MTA retried after a lost 250
    await tap.wait_for(1)
    total, _ = await store.list_tickets({}, limit=10, offset=0)
    assert total == 1
    assert len(tap.events) == 1


async def test_the_same_mail_to_correspond_and_comment_acts_once_per_address(
    wired: tuple[TicketService, EventTap], store: MongoTicketStore
) -> None:
    service, tap = wired
    raw = raw_mail(to="achats@tickets.example.org, achats-comment@tickets.example.org")
    await service.on_mail_received(envelope_of(raw))
    await service.on_mail_received(envelope_of(raw, recipient=QUEUE.comment_address))
    events = await tap.wait_for(2)
    assert {e.type for e in events} == {"ticket.txn.create", "ticket.txn.comment"}


async def test_a_reply_with_the_tag_is_correspondence_on_that_ticket(
    wired: tuple[TicketService, EventTap], store: MongoTicketStore
) -> None:
    service, tap = wired
    await service.on_mail_received(envelope_of(raw_mail()))
    [created] = await tap.wait_for(1)
    ticket_id = created.payload["ticket"]["id"]
    reply = raw_mail(subject=f"RE: [example #{ticket_id}] Demande de devis écran", body="Voici")
    await service.on_mail_received(envelope_of(reply))
    events = await tap.wait_for(2)
    assert events[1].type == "ticket.txn.correspond"
    assert events[1].payload["ticket"]["id"] == ticket_id
    assert events[1].payload["ticket"]["version"] == 2
    assert events[1].payload["transaction"]["seq"] == 2


async def test_a_reply_found_only_by_references_threads_too(
    wired: tuple[TicketService, EventTap],
) -> None:
    service, tap = wired
    first = raw_mail(message_id="<first-1@example.net>")
    await service.on_mail_received(envelope_of(first))
    [created] = await tap.wait_for(1)
    reply = raw_mail(subject="Re: sans tag", headers={"References": "<first-1@example.net>"})
    await service.on_mail_received(envelope_of(reply))
    events = await tap.wait_for(2)
    assert events[1].payload["ticket"]["id"] == created.payload["ticket"]["id"]


async def test_a_tag_of_an_unknown_ticket_is_not_trusted_and_history_says_why(
    wired: tuple[TicketService, EventTap],
) -> None:
    service, tap = wired
    await service.on_mail_received(envelope_of(raw_mail(subject="[example #999999] piège")))
    [event] = await tap.wait_for(1)
    assert event.type == "ticket.txn.create"
    assert "no such ticket" in event.payload["transaction"]["note"]


async def _opening(
    service: TicketService, store: MongoTicketStore, raw: bytes, txn_id: str
) -> tuple[Any, Any, Any, Any]:
    """What the service would record for a first mail: the mail, the new ticket, its
    transaction and its event (nothing written yet but the ticket number's reservation)."""
    from services.tickets.domain.mail_decisions import open_ticket
    from shared.mail.parsing import parse_mail

    mail = mail_received(raw)
    parsed = parse_mail(raw)
    ticket, txn = open_ticket(
        ticket_id=await store.reserve_ticket_id(mail.mail_key),
        txn_id=txn_id,
        queue=QUEUE,
        parsed=parsed,
        sender=parsed.from_address,
        now=service._clock(),
        threading_note="test",
    )
    cause = envelope_of(raw)
    event = ticket_event(
        ticket, txn, QUEUE, "example", correlation_id=cause.correlation_id, mail=mail
    )
    return mail, ticket, txn, event


async def test_the_relay_publishes_a_transaction_left_unpublished_by_a_crash(
    wired: tuple[TicketService, EventTap], store: MongoTicketStore
) -> None:
    service, tap = wired
    # The crash: the transaction document is written, nothing after it.
    raw = raw_mail()
    mail, ticket, txn, event = await _opening(service, store, raw, str(uuid.uuid4()))
    await store.insert_transaction(
        txn, idem_key=mail.mail_key, ticket_after=ticket, event=event.to_wire()
    )
    assert await store.get_ticket(ticket.id) is None

    assert await service.relay_unpublished() == 1
    [published] = await tap.wait_for(1)
    assert published.id == event.id
    assert await store.get_ticket(ticket.id) is not None
    assert await service.relay_unpublished() == 0  # exactly once
    # And the redelivered mail finds its transaction: no second ticket, no second event.
    await service.on_mail_received(envelope_of(raw))
    assert len(tap.events) == 1
    # The transaction itself is lean: its event and ticket are kept beside it.
    stored = await store.transactions.find_one({"_id": txn.id})
    assert stored is not None and "event" not in stored and "ticket_after" not in stored
    assert await store.transaction_bodies.find_one({"_id": txn.id}) is not None


async def test_a_transaction_recorded_with_its_body_inline_is_still_relayed(
    wired: tuple[TicketService, EventTap], store: MongoTicketStore
) -> None:
    """The layout before ``transaction_bodies``: the event and ticket in the document."""
    service, tap = wired
    from services.tickets.adapters.mongo_store import ticket_to_doc, transaction_to_doc

    raw = raw_mail()
    mail, ticket, txn, event = await _opening(service, store, raw, str(uuid.uuid4()))
    doc = transaction_to_doc(txn)
    doc.update(idem_key=mail.mail_key, ticket_after=ticket_to_doc(ticket), event=event.to_wire())
    await store.outbox.insert_one(
        {"_id": txn.id, "ticket": txn.ticket, "seq": txn.seq, "created": txn.created}
    )
    await store.transactions.insert_one(doc)

    assert await service.relay_unpublished() == 1
    [published] = await tap.wait_for(1)
    assert published.id == event.id
    assert (await store.catch_up(ticket.id)) is not None
    await service.on_mail_received(envelope_of(raw))  # found by its key: nothing new
    assert len(tap.events) == 1


async def test_the_version_guard_refuses_a_stale_projection(store: MongoTicketStore) -> None:
    from services.tickets.domain.mail_decisions import add_mail_to_ticket, open_ticket
    from shared.mail.parsing import parse_mail

    parsed = parse_mail(raw_mail())
    now = __import__("datetime").datetime.now(__import__("datetime").UTC)
    v1, _ = open_ticket(
        ticket_id=await store.reserve_ticket_id(unique()),
        txn_id="a",
        queue=QUEUE,
        parsed=parsed,
        sender="alice@example.net",
        now=now,
        threading_note="",
    )
    v2, _ = add_mail_to_ticket(
        v1,
        txn_id="b",
        kind="correspond",
        parsed=parsed,
        sender="alice@example.net",
        now=now,
        threading_note="",
    )
    v3, _ = add_mail_to_ticket(
        v2,
        txn_id="c",
        kind="correspond",
        parsed=parsed,
        sender="alice@example.net",
        now=now,
        threading_note="",
    )
    assert await store.apply_projection(v1)
    assert not await store.apply_projection(v3)  # v2 not there yet
    assert await store.apply_projection(v2)
    assert await store.apply_projection(v3)
    assert not await store.apply_projection(v2)  # stale
    stored = await store.get_ticket(v1.id)
    assert stored is not None and stored.version == 3


async def test_two_transactions_cannot_take_the_same_place_in_a_history(
    store: MongoTicketStore,
) -> None:
    from services.tickets.domain.model import Transaction

    now = __import__("datetime").datetime.now(__import__("datetime").UTC)
    ticket_id = await store.reserve_ticket_id(unique())
    first = Transaction(
        id=unique(), ticket=ticket_id, seq=2, type="comment", creator="a", created=now
    )
    second = Transaction(
        id=unique(), ticket=ticket_id, seq=2, type="comment", creator="b", created=now
    )
    placeholder = await store.get_ticket(ticket_id)
    assert placeholder is None
    from services.tickets.domain.model import Ticket

    t = Ticket(
        id=ticket_id, queue="achats", subject="s", status="new", created=now, updated=now, version=2
    )
    await store.insert_transaction(first, idem_key=unique(), ticket_after=t, event={})
    with pytest.raises(DuplicateKeyError):
        await store.insert_transaction(second, idem_key=unique(), ticket_after=t, event={})


async def test_a_ticket_is_shown_to_its_requestor_and_admins_only(
    wired: tuple[TicketService, EventTap], store: MongoTicketStore
) -> None:
    service, tap = wired
    await store.upsert_user("agent@example.org", {"privileged": True, "is_admin": False})
    await store.upsert_user("admin@example.org", {"privileged": True, "is_admin": True})
    await store.ensure_user("stranger@example.net", service._clock())
    await service.on_mail_received(envelope_of(raw_mail()))
    [event] = await tap.wait_for(1)
    ticket_id = event.payload["ticket"]["id"]
    for actor in ("alice@example.net", "agent@example.org", "admin@example.org"):
        got = await service.get_ticket(rpc.TicketRef(actor=actor, id=ticket_id))
        assert got["id"] == ticket_id
    with pytest.raises(PermissionDeniedError, match="ShowTicket"):
        await service.get_ticket(rpc.TicketRef(actor="stranger@example.net", id=ticket_id))
    with pytest.raises(NotFoundError):
        await service.get_ticket(rpc.TicketRef(actor="admin@example.org", id=ticket_id + 1000))
    history = await service.history(rpc.TicketRef(actor="alice@example.net", id=ticket_id))
    assert [h["type"] for h in history] == ["create"]
    assert history[0]["creator"] == "alice@example.net"
    assert "devis" in history[0]["text"]
    listed = await service.list_tickets(rpc.ListTickets(actor="stranger@example.net"))
    assert listed["count"] == 0


async def test_authentication_checks_the_argon2_hash(
    wired: tuple[TicketService, EventTap], store: MongoTicketStore
) -> None:
    service, _ = wired
    await service.upsert_user(
        rpc.UpsertUser(
            actor=rpc.SYSTEM_ACTOR, email="Agent@Example.org", password="s3cret", privileged=True
        )
    )
    user = await store.get_user("agent@example.org")
    assert user is not None and user["password_hash"].startswith("$argon2id$")
    ok = await service.authenticate(rpc.Credentials(email="agent@example.org", password="s3cret"))
    assert ok["email"] == "agent@example.org" and ok["privileged"] is True
    from shared.errors import AuthenticationFailedError

    with pytest.raises(AuthenticationFailedError):
        await service.authenticate(rpc.Credentials(email="agent@example.org", password="wrong"))
    with pytest.raises(AuthenticationFailedError):
        await service.authenticate(rpc.Credentials(email="nobody@example.org", password="x"))


async def test_concurrent_reservations_get_distinct_numbers_and_a_retry_its_own(
    store: MongoTicketStore,
) -> None:
    keys = [unique() for _ in range(40)]
    numbers = await asyncio.gather(*(store.reserve_ticket_id(k) for k in keys))
    assert len(set(numbers)) == 40
    again = await asyncio.gather(*(store.reserve_ticket_id(k) for k in keys[:10]))
    assert again == numbers[:10]


async def test_concurrent_new_mails_each_open_their_own_ticket(
    wired: tuple[TicketService, EventTap], store: MongoTicketStore
) -> None:
    service, tap = wired
    mails = [raw_mail(sender=f"r{i}@example.net", subject=f"demande {i}") for i in range(20)]
    await asyncio.gather(*(service.on_mail_received(envelope_of(m)) for m in mails))
    events = await tap.wait_for(20)
    ids = [e.payload["ticket"]["id"] for e in events]
    assert len(set(ids)) == 20
    total, _ = await store.list_tickets({}, limit=100, offset=0)
    assert total == 20


async def test_concurrent_replies_to_one_ticket_lose_no_update(
    wired: tuple[TicketService, EventTap], store: MongoTicketStore
) -> None:
    service, tap = wired
    await service.on_mail_received(envelope_of(raw_mail()))
    [created] = await tap.wait_for(1)
    ticket_id = created.payload["ticket"]["id"]
    replies = [
        raw_mail(subject=f"Re: [example #{ticket_id}] devis", body=f"réponse {i}")
        for i in range(10)
    ]
    await asyncio.gather(*(service.on_mail_received(envelope_of(m)) for m in replies))
    events = await tap.wait_for(11)
    versions = sorted(e.payload["ticket"]["version"] for e in events)
    assert versions == list(range(1, 12))
    history = await service.history(rpc.TicketRef(actor=rpc.SYSTEM_ACTOR, id=ticket_id))
    assert [h["seq"] for h in history] == list(range(1, 12))
    ticket = await store.catch_up(ticket_id)
    assert ticket is not None and ticket.version == 11


async def test_attachments_are_stored_once_by_their_hash(
    wired: tuple[TicketService, EventTap], attachments: MongoAttachmentStore
) -> None:
    from email.message import EmailMessage

    service, tap = wired
    pdf = b"%PDF-1.4\n% devis fournisseur\n" + bytes(range(256)) * 40

    def mail_with_quote(sender: str) -> bytes:
        msg = EmailMessage()
        msg["From"] = sender
        msg["To"] = "achats@tickets.example.org"
        msg["Subject"] = "Devis"
        msg.set_content("Veuillez trouver notre devis.")
        msg.add_attachment(pdf, maintype="application", subtype="pdf", filename="devis.pdf")
        return msg.as_bytes()

    await service.on_mail_received(envelope_of(mail_with_quote("a@supplier.example")))
    await service.on_mail_received(envelope_of(mail_with_quote("b@supplier.example")))
    events = await tap.wait_for(2)
    infos = [e.payload["transaction"]["message"]["attachments"][0] for e in events]
    assert infos[0]["sha256"] == infos[1]["sha256"]
    assert infos[0]["filename"] == "devis.pdf" and infos[0]["size"] == len(pdf)
    assert await attachments.get(infos[0]["sha256"]) == pdf
    assert await attachments.get("0" * 64) is None
