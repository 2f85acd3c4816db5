"""MongoDB persistence of the tickets service (PyMongo's async API).

Only what both MongoDB 7 and FerretDB v1 support: plain CRUD, unique indexes. No
multi-document transactions: a small outbox entry is written first, then the transaction's
body (its event and the ticket after it, under the transaction's id), then the transaction
document (its unique ``(ticket, seq)`` key is the optimistic lock, its unique ``idem_key``
makes a repeated mail or command act once), then the ticket projection is moved forward,
then the event is published and the outbox entry removed. The outbox stays small (only
what is in flight), so the relay never scans the history.

The body lives apart because it is two thirds of a transaction's size and only the outbox
relay and a catch-up read it: the histories and the search export stream the transactions,
and FerretDB's SQLite handler reads a whole document whatever the projection (measured:
lean documents stream 2–4× faster). Transactions recorded before carry it inline; both
are read.

FerretDB v1's SQLite backend finds a document through an index only by a string ``_id``;
any other query reads every document of the collection (measured: 2,000 tickets, 133 ms
by an integer ``_id``, 8 ms by a string one). So every look-up on the path of a mail is by
string ``_id``: tickets are stored under their number as a string, and small key
collections map a Message-ID, an idempotency key or a reservation to what it names.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
import uuid
import weakref
from collections.abc import AsyncGenerator, Awaitable, Callable
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError, OperationFailure, PyMongoError

from services.tickets.domain.custom_fields import CustomFieldDefinition
from services.tickets.domain.model import LINK_KINDS, Queue, Ticket, Transaction
from services.tickets.domain.owned_items import OWNED_KINDS
from services.tickets.domain.rights import Grant
from shared.events.ticket import MailFacts, MessageInfo
from shared.lru import Lru

TICKET_FIELDS = {f.name for f in dataclasses.fields(Ticket)}


def ticket_key(ticket_id: int) -> str:
    """The ``_id`` of a ticket document: its number, as a string (see above)."""
    return str(ticket_id)


def ticket_to_doc(ticket: Ticket) -> dict[str, Any]:
    doc = dataclasses.asdict(ticket)
    doc["number"] = doc.pop("id")
    doc["_id"] = ticket_key(ticket.id)
    for key in ("requestors", "ccs", "admin_ccs", "message_ids"):
        doc[key] = list(doc[key])
    doc["links"] = {k: [t for kind, t in ticket.links if kind == k] for k in LINK_KINDS}
    doc["custom_fields"] = dict(ticket.custom_fields)
    return doc


def ticket_from_doc(doc: dict[str, Any]) -> Ticket:
    values = {k: v for k, v in doc.items() if k in TICKET_FIELDS}
    values["id"] = int(doc.get("number", doc["_id"]))
    for key in ("requestors", "ccs", "admin_ccs", "message_ids"):
        values[key] = tuple(doc.get(key) or ())
    links = doc.get("links") or {}
    values["links"] = tuple((k, int(t)) for k in LINK_KINDS for t in links.get(k, []))
    values["custom_fields"] = tuple((doc.get("custom_fields") or {}).items())
    return Ticket(**values)


def transaction_to_doc(txn: Transaction) -> dict[str, Any]:
    """A transaction's own fields, as stored (its document adds the key it was recorded
    under, the ticket after it and its event)."""
    doc = dataclasses.asdict(txn)
    doc["_id"] = doc.pop("id")
    doc["message"] = txn.message.model_dump(mode="json") if txn.message else None
    doc["mail"] = txn.mail.model_dump(mode="json") if txn.mail else None
    return doc


def transaction_from_doc(doc: dict[str, Any]) -> Transaction:
    """A stored transaction (the heavy fields of its document are not needed)."""
    message, mail = doc.get("message"), doc.get("mail")
    return Transaction(
        id=doc["_id"],
        ticket=int(doc["ticket"]),
        seq=doc["seq"],
        type=doc["type"],
        creator=doc["creator"],
        created=doc["created"],
        message=MessageInfo.model_validate(message) if message else None,
        old_value=doc.get("old_value"),
        new_value=doc.get("new_value"),
        note=doc.get("note"),
        mail=MailFacts.model_validate(mail) if mail else None,
    )


# The heavy parts of a transaction: its event and the ticket after it. Kept in
# ``transaction_bodies``; inline in transactions recorded before that.
BODY_FIELDS = ("event", "ticket_after")
# What a read of transactions leaves out when it needs no body (old documents carry it).
WITHOUT_EVENT = dict.fromkeys(BODY_FIELDS, 0)

log = logging.getLogger(__name__)
HISTORY_CACHE_SIZE = 20_000  # transactions kept in memory (a few KB each, no body)
STAMPED_CACHE_SIZE = 20_000  # lists kept (see _stamped): one per user and kind at most
STAMPED_MAX_AGE_SECONDS = 60.0  # in case a stamp's change was lost (a write failed after)

GRANTS_INITIALISED = "_initialised"  # marks that the grants are the instance's own now


def _grant_id(grant: Grant) -> str:
    return f"{grant.right}|{grant.kind}|{grant.name}|{grant.queue or '*'}"


class MongoTicketStore:
    def __init__(self, client: AsyncMongoClient[dict[str, Any]], database: str) -> None:
        self._client = client
        db = client[database]
        self.legacy_ticket_ids = db["ticket_ids"]  # reservations before ticket_numbers
        self.ticket_numbers = db["ticket_numbers"]  # _id: a number taken, as a string
        self.ticket_number_keys = db["ticket_number_keys"]  # _id: the mail or command's key
        self.tickets = db["tickets"]
        self.message_ids = db["message_ids"]  # _id: a Message-ID a ticket has seen
        self.transactions = db["transactions"]
        self.transaction_bodies = db["transaction_bodies"]  # _id: a transaction's id
        self.idem_keys = db["idem_keys"]  # _id: a mail or command's key → its transaction
        self.places = db["places"]  # _id: "<ticket>:<seq>" → the transaction at that place
        self.outbox = db["outbox"]
        self.queues = db["queues"]
        self.unplaced_mail = db["unplaced_mail"]
        self.users = db["users"]
        self.config = db["config"]
        self.grants = db["grants"]
        self.bookmarks = db["bookmarks"]
        self.reminders = db["reminders"]
        self.api_tokens = db["api_tokens"]  # _id: the SHA-256 of the secret
        # Saved searches, dashboards, canned responses: one collection each, one code.
        self.owned = {kind: db[kind] for kind in OWNED_KINDS}
        self._next_number: int | None = None
        # Recorded transactions by "<ticket>:<seq>" (see transactions_of), and one lock per
        # ticket being read (gone with the last reader).
        self._recorded: Lru[str, dict[str, Any]] = Lru(HISTORY_CACHE_SIZE)
        self._history_locks: weakref.WeakValueDictionary[int, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        self._numbering = asyncio.Lock()  # the first reservation reads the numbers once
        self.stamps = db["stamps"]  # _id: a kind of stamped list → its stamp (see _stamped)
        self._stamped_lists: Lru[tuple[str, ...], tuple[str, float, Any]] = Lru(STAMPED_CACHE_SIZE)

    async def ensure_indexes(self) -> None:
        await self.transactions.create_index(
            [("ticket", ASCENDING), ("seq", ASCENDING)], unique=True, name="ticket_seq"
        )
        await self.transactions.create_index("idem_key", unique=True, name="idem_key")
        await self.outbox.create_index("created", name="created")
        await self.tickets.create_index("message_ids", name="message_ids")
        await self.tickets.create_index("requestors", name="requestors")
        await self.queues.create_index("addresses", name="addresses")
        await self.bookmarks.create_index("user", name="user")
        await self.reminders.create_index("owner", name="owner")
        for collection in self.owned.values():
            await collection.create_index("owner", name="owner")
            await collection.create_index("groups", name="groups")
        await self._migrate_to_string_ticket_ids()
        await self._note_every_place()

    async def _migrate_to_string_ticket_ids(self) -> None:
        """Once: tickets stored under an integer ``_id`` (before the key collections) move
        to their string key, and the Message-IDs they have seen are mapped."""
        marker = "migration:string-ticket-ids"
        if await self.config.find_one({"_id": marker}) is not None:
            return
        async for doc in self.tickets.find({}):
            ticket = ticket_from_doc(doc)
            if doc["_id"] != ticket_key(ticket.id):
                with contextlib.suppress(DuplicateKeyError):
                    await self.tickets.insert_one(ticket_to_doc(ticket))
                await self.tickets.delete_one({"_id": doc["_id"]})
            for message_id in ticket.message_ids:
                await self.remember_message_id(message_id, ticket.id)
        await self.config.replace_one({"_id": marker}, {"done": True}, upsert=True)

    async def _note_every_place(self) -> None:
        """Once: note the place of every transaction recorded before places were, so that
        each history is read by its places (a query on the transactions reads them all)."""
        marker = "migration:places"
        if await self.config.find_one({"_id": marker}) is not None:
            return
        cursor = self.transactions.find({}, {"ticket": 1, "seq": 1})
        async for doc in cursor:
            await self.remember_place(int(doc["ticket"]), int(doc["seq"]), doc["_id"])
        await self.config.replace_one({"_id": marker}, {"done": True}, upsert=True)

    async def ping(self) -> bool:
        await self._client.admin.command("ping")
        return True

    # tickets -------------------------------------------------------------------------
    async def reserve_ticket_id(self, idem_key: str) -> int:
        """The next ticket number, for the mail or command ``idem_key``.

        A number is taken by inserting it under a unique ``_id``: the one operation
        FerretDB v1 makes atomic (its findAndModify ``$inc`` is not: concurrent callers got
        the same number). Then the key is noted, so a retry of the same mail gets its
        number back. Two copies of one mail reserving at the same instant leave a gap.
        """
        found = await self.ticket_number_keys.find_one({"_id": idem_key})
        if found is not None:
            return int(found["number"])
        await self._number_hint()
        for _ in range(10_000):
            # Taken from the hint with no await in between: concurrent mails of this
            # process never try the same number; another replica's may (then the next).
            assert self._next_number is not None
            candidate, self._next_number = self._next_number, self._next_number + 1
            try:
                await self.ticket_numbers.insert_one({"_id": str(candidate), "key": idem_key})
            except DuplicateKeyError:
                continue
            try:
                await self.ticket_number_keys.insert_one({"_id": idem_key, "number": candidate})
            except DuplicateKeyError:
                found = await self.ticket_number_keys.find_one({"_id": idem_key})
                if found is not None:
                    return int(found["number"])
                raise
            return candidate
        raise RuntimeError("could not reserve a ticket number")  # pragma: no cover

    async def _number_hint(self) -> int:
        """Where to start looking for a free number: the highest known so far, plus one
        (read once from the stored data, then kept in memory)."""
        async with self._numbering:
            return await self._read_number_hint()

    async def _read_number_hint(self) -> int:
        if self._next_number is None:
            # One pass over the numbers at the first reservation (a scan, once).
            highest = 0
            for collection, field in (
                (self.ticket_numbers, "_id"),
                (self.legacy_ticket_ids, "_id"),
                (self.tickets, "number"),
            ):
                async for doc in collection.find({}, {field: 1}):
                    with contextlib.suppress(KeyError, TypeError, ValueError):
                        highest = max(highest, int(doc[field]))
            self._next_number = max(self._next_number or 0, highest + 1)
        return self._next_number

    async def forget_reservation(self, idem_key: str) -> None:
        await self.ticket_number_keys.delete_one({"_id": idem_key})

    async def get_ticket(self, ticket_id: int) -> Ticket | None:
        doc = await self.tickets.find_one({"_id": ticket_key(ticket_id)})
        return ticket_from_doc(doc) if doc else None

    async def list_tickets(
        self, query: dict[str, Any], *, limit: int, offset: int
    ) -> tuple[int, list[Ticket]]:
        total = await self.tickets.count_documents(query)
        cursor = self.tickets.find(query).sort("number", -1).skip(offset).limit(limit)
        return total, [ticket_from_doc(d) async for d in cursor]

    async def linked_to(self, kind: str, target: int) -> list[Ticket]:
        """Tickets with a ``kind`` link to ``target`` (e.g. the children: MemberOf it)."""
        return [ticket_from_doc(d) async for d in self.tickets.find({f"links.{kind}": target})]

    async def ticket_queues(self, ids: list[int]) -> dict[int, str]:
        found = {}
        for ticket_id in dict.fromkeys(ids):  # one indexed look-up each (see above)
            doc = await self.tickets.find_one({"_id": ticket_key(ticket_id)}, {"queue": 1})
            if doc is not None:
                found[ticket_id] = doc["queue"]
        return found

    async def ticket_by_message_ids(self, message_ids: list[str], limit: int = 20) -> int | None:
        """The ticket that has seen one of these Message-IDs, trying them in the order
        given (the caller puts the likeliest first), at most ``limit`` of them."""
        for message_id in list(dict.fromkeys(message_ids))[:limit]:
            doc = await self.message_ids.find_one({"_id": message_id})
            if doc is not None:
                return int(doc["ticket"])
        return None

    async def remember_message_id(self, message_id: str, ticket_id: int) -> None:
        """Note that ``ticket_id`` has seen ``message_id`` (the first ticket keeps it)."""
        with contextlib.suppress(DuplicateKeyError):
            await self.message_ids.insert_one({"_id": message_id, "ticket": ticket_id})

    async def apply_projection(self, ticket: Ticket) -> bool:
        """Move the ticket document to ``ticket.version`` if it is exactly one behind."""
        doc = ticket_to_doc(ticket)
        if ticket.version == 1:
            try:
                await self.tickets.insert_one(doc)
            except DuplicateKeyError:
                return False
            return True
        result = await self.tickets.replace_one(
            {"_id": ticket_key(ticket.id), "version": ticket.version - 1}, doc
        )
        return result.modified_count == 1

    async def catch_up(self, ticket_id: int) -> Ticket | None:
        """The ticket, its projection first moved up to its latest recorded transaction.

        Transactions are the truth; the ticket document follows them. A writer that lost a
        race, or died between the two writes, leaves the document behind: whoever reads it
        for a decision brings it forward (and MongoDB's atomic version guard, which FerretDB
        v1 only approximates, can never leave it ahead of its history).
        """
        ticket = await self.get_ticket(ticket_id)
        latest = await self.transactions.find_one(
            {"ticket": ticket_id}, {"seq": 1, "ticket_after": 1}, sort=[("seq", DESCENDING)]
        )
        if latest is None or (ticket is not None and ticket.version >= latest["seq"]):
            return ticket
        after = ticket_from_doc((await self.with_body(latest))["ticket_after"])
        await self.tickets.replace_one(
            {"_id": ticket_key(ticket_id)}, ticket_to_doc(after), upsert=True
        )
        return after

    # transactions (the outbox) -----------------------------------------------------------
    async def insert_transaction(
        self, txn: Transaction, *, idem_key: str, ticket_after: Ticket, event: dict[str, Any]
    ) -> None:
        """Record ``txn`` — the commit. Raises DuplicateKeyError when its place in the
        ticket's history is taken, or when ``idem_key`` was recorded already."""
        doc = transaction_to_doc(txn)
        doc["idem_key"] = idem_key
        # The outbox entry first: a crash after it, before or after the commit, leaves a
        # trace the relay follows (and drops if the transaction never got written).
        await self.outbox.insert_one(
            {"_id": txn.id, "ticket": txn.ticket, "seq": txn.seq, "created": txn.created}
        )
        # Then the body, so a committed transaction always has one. A body whose commit is
        # refused stays behind, unread (its id is never used again; deleting it would make
        # FerretDB read every body).
        await self.transaction_bodies.insert_one(
            {"_id": txn.id, "ticket_after": ticket_to_doc(ticket_after), "event": event}
        )
        try:
            await self.transactions.insert_one(doc)
        except DuplicateKeyError:
            await self.outbox.delete_one({"_id": txn.id})
            raise

    async def with_body(self, doc: dict[str, Any]) -> dict[str, Any]:
        """The transaction document with its event and the ticket after it (read from
        ``transaction_bodies`` unless the document carries them, as old ones do)."""
        if all(field in doc for field in BODY_FIELDS):
            return doc
        body = await self.transaction_bodies.find_one({"_id": doc["_id"]})
        if body is None:
            raise LookupError(f"transaction {doc['_id']} has no body")
        return {**doc, **{field: body[field] for field in BODY_FIELDS}}

    async def remember_idem_key(self, idem_key: str, txn_id: str) -> None:
        """The quick way back from a key to its transaction (written after the commit)."""
        with contextlib.suppress(DuplicateKeyError):
            await self.idem_keys.insert_one({"_id": idem_key, "txn": txn_id})

    async def transaction_by_idem_key(
        self, idem_key: str, *, thorough: bool = False
    ) -> dict[str, Any] | None:
        """The transaction recorded for ``idem_key``, found by its key document; with
        ``thorough``, also one a crash left without it (a slow query: the unique index on
        the transactions, which refused a second copy, is the real guard)."""
        key = await self.idem_keys.find_one({"_id": idem_key})
        doc = None
        if key is not None:
            doc = await self.transactions.find_one({"_id": key["txn"]})
        if doc is None and thorough:
            doc = await self.transactions.find_one({"idem_key": idem_key})
        return None if doc is None else await self.with_body(doc)

    async def is_published(self, txn_id: str) -> bool:
        return await self.outbox.find_one({"_id": txn_id}, {"_id": 1}) is None

    async def mark_published(self, txn_id: str) -> None:
        await self.outbox.delete_one({"_id": txn_id})

    async def unpublished(self, created_before: datetime, limit: int = 500) -> list[dict[str, Any]]:
        """Transactions whose event may not be out yet, oldest first per ticket. An outbox
        entry whose transaction was never written (a crash, a lost race) is dropped."""
        cursor = self.outbox.find({"created": {"$lt": created_before}}).limit(limit)
        entries = sorted([e async for e in cursor], key=lambda e: (e["ticket"], e["seq"]))
        pending = []
        for entry in entries:
            doc = await self.transactions.find_one({"_id": entry["_id"]})
            if doc is None:
                await self.outbox.delete_one({"_id": entry["_id"]})
            else:
                pending.append(await self.with_body(doc))
        return pending

    async def remember_place(self, ticket_id: int, seq: int, txn_id: str) -> None:
        """The quick way to a ticket's history (written after the commit)."""
        with contextlib.suppress(DuplicateKeyError):
            await self.places.insert_one({"_id": f"{ticket_id}:{seq}", "txn": txn_id})

    async def transactions_of(self, ticket_id: int, version: int) -> list[dict[str, Any]] | None:
        """The transactions of one ticket at ``version``, one indexed read each; None when
        one of them has no place noted (recorded before places, or a crash in between).

        A recorded transaction never changes, nor does its place: those read are kept (the
        last HISTORY_CACHE_SIZE), so showing a ticket again reads only what is new. Readers
        of one ticket at the same time wait for one another's reads rather than repeat them
        (a ticket page with 200 transactions is 400 reads; 20 agents opening it at once
        made FerretDB serve 8,000)."""
        lock = self._history_locks.get(ticket_id)
        if lock is None:
            lock = self._history_locks[ticket_id] = asyncio.Lock()
        async with lock:
            docs = []
            for seq in range(1, version + 1):
                key = f"{ticket_id}:{seq}"
                doc = self._recorded.get(key)
                if doc is None:
                    place = await self.places.find_one({"_id": key})
                    if place is not None:
                        doc = await self.transactions.find_one({"_id": place["txn"]}, WITHOUT_EVENT)
                    if doc is None:
                        return None
                    self._recorded.put(key, doc)
                docs.append(doc)
            return docs

    async def history(self, ticket_ids: list[int]) -> list[dict[str, Any]]:
        """The transactions of these tickets (one, and those merged into it), in time order."""
        cursor = self.transactions.find({"ticket": {"$in": ticket_ids}}, WITHOUT_EVENT)
        return sorted(
            [d async for d in cursor], key=lambda d: (d["created"], d["ticket"], d["seq"])
        )

    # whole collections, streamed (exports) ------------------------------------------------
    async def each_ticket(self) -> AsyncGenerator[Ticket, None]:
        """Every ticket (merged and deleted ones too), in no particular order: one cursor
        over the collection, read as it is consumed."""
        async with self.tickets.find({}) as cursor:
            async for doc in cursor:
                yield ticket_from_doc(doc)

    async def each_message_transaction(self) -> AsyncGenerator[Transaction, None]:
        """Every transaction that carries a message, in no particular order (one cursor;
        FerretDB reads the whole collection for it, once)."""
        async with self.transactions.find({"message": {"$ne": None}}, WITHOUT_EVENT) as cursor:
            async for doc in cursor:
                yield transaction_from_doc(doc)

    async def estimated_counts(self) -> tuple[int, int]:
        """How many tickets and transactions there are, from the collections' statistics."""
        return await self._count(self.tickets), await self._count(self.transactions)

    async def _count(self, collection: AsyncCollection[dict[str, Any]]) -> int:
        """``collStats``' count: FerretDB answers ``count`` (estimated_document_count)
        by reading every document (measured: 0.6 s for 5,000 transactions), collStats
        without reading any (15 ms)."""
        try:
            stats = await collection.database.command("collStats", collection.name)
            return int(stats["count"])
        except (OperationFailure, KeyError, TypeError, ValueError):
            return await collection.estimated_document_count()

    async def tickets_with_attachment(self, sha256: str, limit: int = 50) -> list[int]:
        cursor = self.transactions.find(
            {"message.attachments.sha256": sha256}, {"ticket": 1}
        ).limit(limit)
        return list(dict.fromkeys([d["ticket"] async for d in cursor]))

    async def merged_into(self, ticket_id: int) -> list[int]:
        cursor = self.tickets.find({"merged_into": ticket_id}, {"number": 1, "_id": 1})
        return [int(d.get("number", d["_id"])) async for d in cursor]

    # queues, users, instance -------------------------------------------------------------
    async def queues_all(self) -> list[Queue]:
        return [
            Queue(
                name=d["_id"],
                correspond_address=d["correspond_address"],
                comment_address=d["comment_address"],
                language=d.get("language", "fr"),
                description=d.get("description", ""),
                custom_fields=tuple(
                    CustomFieldDefinition(
                        f["name"], f.get("type", "text"), tuple(f.get("values", ()))
                    )
                    for f in d.get("custom_fields", [])
                ),
                ccs=tuple(d.get("ccs", ())),
                admin_ccs=tuple(d.get("admin_ccs", ())),
                ccs_from_create=d.get("ccs_from_create", True),
                ccs_from_replies=d.get("ccs_from_replies", False),
                unknown_sender=d.get("unknown_sender", "accept"),
                commands_need_authentication=d.get("commands_need_authentication", False),
            )
            async for d in self.queues.find({})
        ]

    async def upsert_queue(self, queue: Queue) -> None:
        doc = dataclasses.asdict(queue)
        name = doc.pop("name")
        doc["addresses"] = [queue.correspond_address, queue.comment_address]
        await self.queues.replace_one({"_id": name}, doc, upsert=True)

    async def keep_unplaced_mail(
        self, mail_key: str, *, spool_ref: str, reason: str, now: datetime
    ) -> None:
        """Note a mail that belongs to no ticket (a bounce of mail not ours), once."""
        await self.unplaced_mail.update_one(
            {"_id": mail_key},
            {"$setOnInsert": {"spool_ref": spool_ref, "reason": reason, "received": now}},
            upsert=True,
        )

    # saved searches, dashboards, canned responses ----------------------------------------
    async def owned_items(self, kind: str, owner: str, groups: list[str]) -> list[dict[str, Any]]:
        """One's own, and those shared with one of one's groups (small collections)."""
        query = (
            {"$or": [{"owner": owner}, {"groups": {"$in": groups}}]} if groups else {"owner": owner}
        )
        found: list[dict[str, Any]] = await self._stamped(
            kind,
            (owner, *groups),
            lambda: self.owned[kind].find(query).sort("updated", ASCENDING).to_list(None),
        )
        return list(found)

    async def owned_item(self, kind: str, item_id: str) -> dict[str, Any] | None:
        return await self.owned[kind].find_one({"_id": item_id})

    async def put_owned_item(self, kind: str, item: dict[str, Any]) -> None:
        await self.owned[kind].replace_one({"_id": item["_id"]}, item, upsert=True)
        await self._restamp(kind)

    async def delete_owned_item(self, kind: str, item_id: str) -> None:
        await self.owned[kind].delete_one({"_id": item_id})
        await self._restamp(kind)

    # API tokens ---------------------------------------------------------------------------
    async def add_token(self, token: dict[str, Any]) -> None:
        await self.api_tokens.insert_one(token)

    async def token_by_hash(self, digest: str) -> dict[str, Any] | None:
        return await self.api_tokens.find_one({"_id": digest})

    async def tokens_of(self, user: str) -> list[dict[str, Any]]:
        return await self.api_tokens.find({"user": user}).sort("created", ASCENDING).to_list(None)

    async def remove_token(self, user: str, token_id: str) -> bool:
        found = await self.api_tokens.find_one({"user": user, "id": token_id}, {"_id": 1})
        if found is None:
            return False
        await self.api_tokens.delete_one({"_id": found["_id"]})
        return True

    async def token_used(self, digest: str, when: datetime) -> None:
        await self.api_tokens.update_one({"_id": digest}, {"$set": {"last_used": when}})

    async def get_user(self, email: str) -> dict[str, Any] | None:
        return await self.users.find_one({"_id": email})

    async def users_all(self) -> list[dict[str, Any]]:
        """Every user, for an administrator's list. FerretDB indexes only look-ups by a
        string ``_id``, so any filter here would read every user anyway: this is a scan,
        acceptable for an administration page over a small collection."""
        return await self.users.find({}).to_list(None)

    async def memberships(self) -> list[tuple[str, list[str]]]:
        """Each user's address and groups (a scan, as ``users_all``)."""
        cursor = self.users.find({}, {"groups": 1})
        return [(d["_id"], list(d.get("groups") or ())) async for d in cursor]

    async def upsert_user(self, email: str, fields: dict[str, Any]) -> None:
        await self.users.update_one({"_id": email}, {"$set": fields}, upsert=True)

    async def sign_out(self, email: str) -> None:
        """Every web session of ``email`` open now is over: its epoch moves on (no clock
        involved; two sign-outs at once both count)."""
        await self.users.update_one({"_id": email}, {"$inc": {"session_epoch": 1}})

    async def update_user(self, email: str, fields: dict[str, Any]) -> bool:
        """Change some fields of a user who exists (no upsert: a look-up by ``_id``)."""
        result = await self.users.update_one({"_id": email}, {"$set": fields})
        return result.matched_count == 1

    async def ensure_user(self, email: str, now: datetime) -> dict[str, Any]:
        """The user ``email``, created unprivileged if unknown (an unknown sender): a
        look-up first, as a known sender is the usual case (no write then)."""
        found = await self.users.find_one({"_id": email})
        if found is not None:
            return found
        doc = {"_id": email, "privileged": False, "is_admin": False, "created": now, "name": ""}
        with contextlib.suppress(DuplicateKeyError):  # created meanwhile by another writer
            await self.users.insert_one(doc)
            return doc
        return await self.users.find_one({"_id": email}) or doc

    async def grants_all(self) -> list[Grant] | None:
        """The instance's grants, or None while it still runs on the defaults."""
        docs = [d async for d in self.grants.find({})]
        if not docs:
            return None
        return [
            Grant(d["right"], d["kind"], d.get("name", ""), d.get("queue"))
            for d in docs
            if d["_id"] != GRANTS_INITIALISED
        ]

    async def replace_grants(self, grants: list[Grant]) -> None:
        """Make ``grants`` the instance's grants (the first change copies the defaults)."""
        wanted = {_grant_id(g): g for g in grants}
        await self.grants.update_one(
            {"_id": GRANTS_INITIALISED}, {"$set": {"right": "", "kind": ""}}, upsert=True
        )
        existing = {d["_id"] async for d in self.grants.find({}, {"_id": 1})}
        for key, grant in wanted.items():
            if key not in existing:
                await self.grants.insert_one({"_id": key, **dataclasses.asdict(grant)})
        for key in existing - set(wanted) - {GRANTS_INITIALISED}:
            await self.grants.delete_one({"_id": key})

    async def add_bookmark(self, user: str, ticket: int, now: datetime) -> None:
        await self.bookmarks.update_one(
            {"_id": f"{user}|{ticket}"},
            {"$setOnInsert": {"user": user, "ticket": ticket, "created": now}},
            upsert=True,
        )
        await self._restamp("bookmarks")

    async def remove_bookmark(self, user: str, ticket: int) -> bool:
        result = await self.bookmarks.delete_one({"_id": f"{user}|{ticket}"})
        await self._restamp("bookmarks")
        return result.deleted_count == 1

    async def bookmarked(self, user: str) -> list[int]:
        async def load() -> list[int]:
            return sorted([d["ticket"] async for d in self.bookmarks.find({"user": user})])

        found: list[int] = await self._stamped("bookmarks", (user,), load)
        return list(found)

    async def add_reminder(self, reminder: dict[str, Any]) -> None:
        await self.reminders.insert_one(reminder)
        await self._restamp("reminders")

    async def complete_reminder(self, reminder_id: str, now: datetime) -> dict[str, Any] | None:
        doc = await self.reminders.find_one({"_id": reminder_id})
        if doc is not None:
            await self.reminders.update_one({"_id": reminder_id}, {"$set": {"done": now}})
            await self._restamp("reminders")
        return doc

    async def open_reminders(self, owner: str) -> list[dict[str, Any]]:
        async def load() -> list[dict[str, Any]]:
            cursor = self.reminders.find({"owner": owner, "done": None})
            return sorted([d async for d in cursor], key=lambda d: (d["due"], d["created"]))

        found: list[dict[str, Any]] = await self._stamped("reminders", (owner,), load)
        return list(found)

    async def _stamped(
        self, kind: str, key: tuple[str, ...], load: Callable[[], Awaitable[Any]]
    ) -> Any:
        """A list read on every page and seldom written (one's bookmarks, reminders, saved
        searches, dashboards, canned responses), kept until a write of its kind — by any
        replica — changes the kind's stamp: one look-up by ``_id`` instead of a query on
        another field, which FerretDB answers by reading the whole collection. The stamp
        is read before the list, so a write between the two is seen by the next read.
        What is returned is shared: callers copy before changing it."""
        stamp_doc = await self.stamps.find_one({"_id": kind})
        stamp = str(stamp_doc["stamp"]) if stamp_doc else ""
        now = time.monotonic()
        cache_key = (kind, *key)
        hit = self._stamped_lists.get(cache_key)
        if hit is not None and hit[0] == stamp and now - hit[1] < STAMPED_MAX_AGE_SECONDS:
            return hit[2]
        value = await load()
        self._stamped_lists.put(cache_key, (stamp, now, value))
        return value

    async def _restamp(self, kind: str) -> None:
        """After a write of a stamped list's kind (see _stamped). The write itself is
        done: a stamp that cannot be changed is logged, not reported as the write's
        failure (its retry could do it twice); replicas see it within the lists' max age."""
        try:
            await self.stamps.update_one(
                {"_id": kind}, {"$set": {"stamp": uuid.uuid4().hex}}, upsert=True
            )
        except PyMongoError:
            log.warning("could not change the stamp of %s; kept lists age out", kind, exc_info=True)

    async def instance(self) -> dict[str, Any]:
        return await self.config.find_one({"_id": "instance"}) or {}

    async def set_instance(self, rtname: str, extra_rtnames: list[str]) -> None:
        await self.config.replace_one(
            {"_id": "instance"},
            {"rtname": rtname, "extra_rtnames": extra_rtnames},
            upsert=True,
        )
