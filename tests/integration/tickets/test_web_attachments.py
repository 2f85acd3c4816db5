"""Files sent from the web with a reply, a comment, a forward or a new ticket, against the
real FerretDB and RabbitMQ: stored once by SHA-256 as mail's are, listed on the
transaction's message (so the history, the search index and notify see them), their bytes
back through ``tickets.attachment``; bounded, and idempotent with the command."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import uuid
from collections.abc import AsyncIterator

import pytest

from services.tickets.adapters.mongo_store import MongoTicketStore
from services.tickets.service import TicketService
from shared.errors import InvalidInputError, PermissionDeniedError
from shared.rpc import tickets as rpc
from tests.integration.tickets.support import EventTap, envelope_of, ticket_command
from tests.support import raw_mail
from tests.support_documents import make_pdf

AGENT = "agent@example.org"
REQUESTOR = "alice@example.net"
STRANGER = "eve@elsewhere.example"
PDF = make_pdf(["Devis 2026-118", "3 écrans 27 pouces : 1 050 € HT"])
PDF_SHA256 = hashlib.sha256(PDF).hexdigest()
PDF_TYPE = "application/pdf"


def as_sent(content: bytes, filename: str, content_type: str = PDF_TYPE) -> dict[str, str]:
    return {
        "filename": filename,
        "content_type": content_type,
        "content_b64": base64.b64encode(content).decode("ascii"),
    }


@pytest.fixture
async def ticket_id(
    wired: tuple[TicketService, EventTap], store: MongoTicketStore
) -> AsyncIterator[int]:
    service, tap = wired
    await store.upsert_user(AGENT, {"privileged": True, "is_admin": False})
    await store.ensure_user(STRANGER, service._clock())
    await service.on_mail_received(envelope_of(raw_mail(sender=REQUESTOR)))
    [created] = await tap.wait_for(1)
    yield created.payload["ticket"]["id"]


async def stored_files(store: MongoTicketStore, sha256: str) -> int:
    files = store.tickets.database["attachment_files"]
    return await files.count_documents({"_id": sha256})


async def test_a_reply_with_a_pdf_lists_it_in_the_history_and_its_bytes_come_back(
    wired: tuple[TicketService, EventTap], ticket_id: int
) -> None:
    service, tap = wired
    reply = ticket_command(
        ticket_id,
        "reply",
        AGENT,
        text="Voici notre devis.",
        attachments=(as_sent(PDF, "C:\\Devis\\devis-2026-118.pdf"),),
    )
    result = await service.execute(reply)
    expected = {
        "filename": "devis-2026-118.pdf",
        "content_type": PDF_TYPE,
        "size": len(PDF),
        "sha256": PDF_SHA256,
        "content_id": None,
    }
    history = await service.history(rpc.TicketRef(actor=REQUESTOR, id=ticket_id))
    [correspond] = [h for h in history if h["id"] == result["transaction"]]
    assert correspond["type"] == "correspond"
    assert correspond["message"]["attachments"] == [expected]
    # the event says so too: search indexes the file, notify sends it with the reply
    events = await tap.wait_for(2)
    assert events[1].payload["transaction"]["message"]["attachments"] == [expected]

    for actor in (REQUESTOR, AGENT, rpc.SYSTEM_ACTOR):  # the system: search, notify
        ref = rpc.AttachmentRef(actor=actor, sha256=PDF_SHA256, ticket=ticket_id)
        found = await service.attachment(ref)
        assert base64.b64decode(found["content_b64"]) == PDF
        assert (found["filename"], found["content_type"]) == ("devis-2026-118.pdf", PDF_TYPE)
    found = await service.attachment(rpc.AttachmentRef(actor=REQUESTOR, sha256=PDF_SHA256))
    assert base64.b64decode(found["content_b64"]) == PDF  # found without naming the ticket


async def test_the_same_command_stores_its_files_once_and_answers_the_same(
    wired: tuple[TicketService, EventTap], ticket_id: int, store: MongoTicketStore
) -> None:
    service, tap = wired
    comment = ticket_command(
        ticket_id,
        "comment",
        AGENT,
        attachments=(as_sent(PDF, "devis.pdf"), as_sent(b"ligne 1\n", "notes.txt", "text/plain")),
    )
    first = await service.execute(comment)
    again, concurrent = await asyncio.gather(service.execute(comment), service.execute(comment))
    assert first == again == concurrent
    history = await service.history(rpc.TicketRef(actor=AGENT, id=ticket_id))
    assert [h["type"] for h in history] == ["create", "comment"]
    [note] = [h for h in history if h["type"] == "comment"]
    assert note["text"] == ""  # files alone make a message
    assert [a["filename"] for a in note["message"]["attachments"]] == ["devis.pdf", "notes.txt"]
    assert await stored_files(store, PDF_SHA256) == 1
    await asyncio.sleep(0.3)
    assert len(tap.events) == 2
    # the same file in another message is not stored again, and is listed there too
    await service.execute(
        ticket_command(ticket_id, "reply", AGENT, text="Re", attachments=(as_sent(PDF, "b.pdf"),))
    )
    assert await stored_files(store, PDF_SHA256) == 1


async def test_a_new_ticket_and_a_forward_carry_their_files(
    wired: tuple[TicketService, EventTap], ticket_id: int
) -> None:
    service, tap = wired
    created = await service.create(
        rpc.CreateTicket(
            command_id=f"test-{uuid.uuid4()}",
            actor=AGENT,
            queue="achats",
            subject="Commande d'écrans",
            requestors=(REQUESTOR,),
            attachments=(rpc.NewAttachment.model_validate(as_sent(PDF, "bon.pdf")),),
        )
    )
    number = created["ticket"]["id"]
    [opened] = await service.history(rpc.TicketRef(actor=AGENT, id=number))
    assert [a["sha256"] for a in opened["message"]["attachments"]] == [PDF_SHA256]

    forwarded = await service.execute(
        ticket_command(
            ticket_id,
            "forward",
            AGENT,
            to=("compta@example.org",),
            text="Pour la facture",
            attachments=(as_sent(b"PK\x03\x04", "annexe.zip", "application/zip"),),
        )
    )
    events = await tap.wait_for(3)
    [forward] = [e for e in events if e.payload["transaction"]["id"] == forwarded["transaction"]]
    assert [a["filename"] for a in forward.payload["transaction"]["message"]["attachments"]] == [
        "annexe.zip"
    ]


def bad_commands(ticket_id: int) -> dict[str, tuple[rpc.TicketCommand, str]]:
    half = rpc.MAX_NEW_ATTACHMENTS_BYTES // 2 + 1
    return {
        "too large in all": (
            ticket_command(
                ticket_id,
                "reply",
                AGENT,
                text="Trop lourd",
                attachments=(as_sent(b"a" * half, "a.bin"), as_sent(b"b" * half, "b.bin")),
            ),
            "25 MB in all",
        ),
        "too many": (
            ticket_command(
                ticket_id,
                "reply",
                AGENT,
                text="Trop",
                attachments=tuple(as_sent(b"x", f"{n}.txt") for n in range(21)),
            ),
            "at most 20 files",
        ),
        "not base64": (
            ticket_command(
                ticket_id,
                "reply",
                AGENT,
                text="?",
                attachments=({"filename": "a.pdf", "content_b64": "%PDF pas en base64"},),
            ),
            "not valid base64",
        ),
        "on a status change": (
            ticket_command(
                ticket_id,
                "set_status",
                AGENT,
                status="stalled",
                attachments=(as_sent(PDF, "devis.pdf"),),
            ),
            "set_status carries no files",
        ),
    }


async def test_files_out_of_bounds_or_of_a_refused_command_are_refused_and_not_stored(
    wired: tuple[TicketService, EventTap], ticket_id: int, store: MongoTicketStore
) -> None:
    service, _ = wired
    for command, message in bad_commands(ticket_id).values():
        with pytest.raises(InvalidInputError, match=message):
            await service.execute(command)
    sneaky = ticket_command(
        ticket_id, "comment", STRANGER, text="psst", attachments=(as_sent(PDF, "x.pdf"),)
    )
    with pytest.raises(PermissionDeniedError):  # stored only once the command is allowed
        await service.execute(sneaky)
    history = await service.history(rpc.TicketRef(actor=AGENT, id=ticket_id))
    assert [h["type"] for h in history] == ["create"]
    assert await store.tickets.database["attachment_files"].count_documents({}) == 0
