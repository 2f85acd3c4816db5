"""MongoDB persistence of the tickets service (PyMongo's async API).

Only what both MongoDB 7 and FerretDB v1 support: plain CRUD, unique indexes. No
multi-document transactions: a small outbox entry is written first, then the transaction
document (its unique ``(ticket, seq)`` key is the optimistic lock, its unique ``idem_key``
makes a repeated mail or command act once), then the ticket projection is moved forward,
then the event is published and the outbox entry removed. The outbox stays small (only
what is in flight), so the relay never scans the history: FerretDB's SQLite backend
scans every document of a collection it queries, whatever its indexes.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient
from pymongo.errors import DuplicateKeyError

from services.tickets.domain.custom_fields import CustomFieldDefinition
from services.tickets.domain.model import LINK_KINDS, Queue, Ticket, Transaction
from services.tickets.domain.rights import Grant

TICKET_FIELDS = {f.name for f in dataclasses.fields(Ticket)}


def ticket_to_doc(ticket: Ticket) -> dict[str, Any]:
    doc = dataclasses.asdict(ticket)
    doc["_id"] = doc.pop("id")
    for key in ("requestors", "ccs", "admin_ccs", "message_ids"):
        doc[key] = list(doc[key])
    doc["links"] = {k: [t for kind, t in ticket.links if kind == k] for k in LINK_KINDS}
    doc["custom_fields"] = dict(ticket.custom_fields)
    return doc


def ticket_from_doc(doc: dict[str, Any]) -> Ticket:
    values = {k: v for k, v in doc.items() if k in TICKET_FIELDS}
    values["id"] = doc["_id"]
    for key in ("requestors", "ccs", "admin_ccs", "message_ids"):
        values[key] = tuple(doc.get(key) or ())
    links = doc.get("links") or {}
    values["links"] = tuple((k, int(t)) for k in LINK_KINDS for t in links.get(k, []))
    values["custom_fields"] = tuple((doc.get("custom_fields") or {}).items())
    return Ticket(**values)


GRANTS_INITIALISED = "_initialised"  # marks that the grants are the instance's own now


def _grant_id(grant: Grant) -> str:
    return f"{grant.right}|{grant.kind}|{grant.name}|{grant.queue or '*'}"


class MongoTicketStore:
    def __init__(self, client: AsyncMongoClient[dict[str, Any]], database: str) -> None:
        self._client = client
        db = client[database]
        self.ticket_ids = db["ticket_ids"]
        self.tickets = db["tickets"]
        self.transactions = db["transactions"]
        self.outbox = db["outbox"]
        self.queues = db["queues"]
        self.unplaced_mail = db["unplaced_mail"]
        self.users = db["users"]
        self.config = db["config"]
        self.grants = db["grants"]
        self.bookmarks = db["bookmarks"]
        self.reminders = db["reminders"]

    async def ensure_indexes(self) -> None:
        await self.ticket_ids.create_index("idem_key", unique=True, name="idem_key")
        await self.transactions.create_index(
            [("ticket", ASCENDING), ("seq", ASCENDING)], unique=True, name="ticket_seq"
        )
        await self.transactions.create_index("idem_key", unique=True, name="idem_key")
        await self.outbox.create_index("created", name="created")
        await self.tickets.create_index("message_ids", name="message_ids")
        await self.tickets.create_index("requestors", name="requestors")
        await self.queues.create_index("addresses", name="addresses")

    async def ping(self) -> bool:
        await self._client.admin.command("ping")
        return True

    # tickets -------------------------------------------------------------------------
    async def reserve_ticket_id(self, idem_key: str) -> int:
        """The next ticket number, for the mail or command ``idem_key``.

        Numbers are taken by inserting them under a unique ``_id``: the one operation
        FerretDB v1 makes atomic (its findAndModify ``$inc`` is not: concurrent callers got
        the same number). A retry of the same mail gets its number back: no gaps.
        """
        found = await self.ticket_ids.find_one({"idem_key": idem_key})
        if found is not None:
            return int(found["_id"])
        candidate = 1
        for collection in (self.ticket_ids, self.tickets):  # tickets: data older than ticket_ids
            last = await collection.find_one({}, {"_id": 1}, sort=[("_id", DESCENDING)])
            if last is not None:
                candidate = max(candidate, int(last["_id"]) + 1)
        for _ in range(10_000):
            try:
                await self.ticket_ids.insert_one({"_id": candidate, "idem_key": idem_key})
                return candidate
            except DuplicateKeyError:
                found = await self.ticket_ids.find_one({"idem_key": idem_key})
                if found is not None:
                    return int(found["_id"])
                candidate += 1
        raise RuntimeError("could not reserve a ticket number")  # pragma: no cover

    async def forget_reservation(self, idem_key: str) -> None:
        await self.ticket_ids.delete_one({"idem_key": idem_key})

    async def get_ticket(self, ticket_id: int) -> Ticket | None:
        doc = await self.tickets.find_one({"_id": ticket_id})
        return ticket_from_doc(doc) if doc else None

    async def list_tickets(
        self, query: dict[str, Any], *, limit: int, offset: int
    ) -> tuple[int, list[Ticket]]:
        total = await self.tickets.count_documents(query)
        cursor = self.tickets.find(query).sort("_id", -1).skip(offset).limit(limit)
        return total, [ticket_from_doc(d) async for d in cursor]

    async def linked_to(self, kind: str, target: int) -> list[Ticket]:
        """Tickets with a ``kind`` link to ``target`` (e.g. the children: MemberOf it)."""
        return [ticket_from_doc(d) async for d in self.tickets.find({f"links.{kind}": target})]

    async def ticket_queues(self, ids: list[int]) -> dict[int, str]:
        if not ids:
            return {}
        cursor = self.tickets.find({"_id": {"$in": ids}}, {"queue": 1})
        return {d["_id"]: d["queue"] async for d in cursor}

    async def ticket_by_message_ids(self, message_ids: list[str]) -> int | None:
        if not message_ids:
            return None
        doc = await self.tickets.find_one({"message_ids": {"$in": message_ids}}, {"_id": 1})
        return int(doc["_id"]) if doc else None

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
            {"_id": ticket.id, "version": ticket.version - 1}, doc
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
        after = ticket_from_doc(latest["ticket_after"])
        await self.tickets.replace_one({"_id": ticket_id}, ticket_to_doc(after), upsert=True)
        return after

    # transactions (the outbox) -----------------------------------------------------------
    async def insert_transaction(
        self, txn: Transaction, *, idem_key: str, ticket_after: Ticket, event: dict[str, Any]
    ) -> None:
        """Record ``txn`` — the commit. Raises DuplicateKeyError when its place in the
        ticket's history is taken, or when ``idem_key`` was recorded already."""
        doc = dataclasses.asdict(txn)
        doc["_id"] = doc.pop("id")
        doc["message"] = txn.message.model_dump(mode="json") if txn.message else None
        doc["mail"] = txn.mail.model_dump(mode="json") if txn.mail else None
        doc.update(idem_key=idem_key, ticket_after=ticket_to_doc(ticket_after), event=event)
        # The outbox entry first: a crash after it, before or after the commit, leaves a
        # trace the relay follows (and drops if the transaction never got written).
        await self.outbox.insert_one(
            {"_id": txn.id, "ticket": txn.ticket, "seq": txn.seq, "created": txn.created}
        )
        try:
            await self.transactions.insert_one(doc)
        except DuplicateKeyError:
            await self.outbox.delete_one({"_id": txn.id})
            raise

    async def transaction_by_idem_key(self, idem_key: str) -> dict[str, Any] | None:
        return await self.transactions.find_one({"idem_key": idem_key})

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
                pending.append(doc)
        return pending

    async def history(self, ticket_ids: list[int]) -> list[dict[str, Any]]:
        """The transactions of these tickets (one, and those merged into it), in time order."""
        cursor = self.transactions.find(
            {"ticket": {"$in": ticket_ids}}, {"event": 0, "ticket_after": 0}
        )
        return sorted(
            [d async for d in cursor], key=lambda d: (d["created"], d["ticket"], d["seq"])
        )

    async def tickets_with_attachment(self, sha256: str, limit: int = 50) -> list[int]:
        cursor = self.transactions.find(
            {"message.attachments.sha256": sha256}, {"ticket": 1}
        ).limit(limit)
        return list(dict.fromkeys([d["ticket"] async for d in cursor]))

    async def merged_into(self, ticket_id: int) -> list[int]:
        return [d["_id"] async for d in self.tickets.find({"merged_into": ticket_id}, {"_id": 1})]

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

    async def get_user(self, email: str) -> dict[str, Any] | None:
        return await self.users.find_one({"_id": email})

    async def upsert_user(self, email: str, fields: dict[str, Any]) -> None:
        await self.users.update_one({"_id": email}, {"$set": fields}, upsert=True)

    async def ensure_user(self, email: str, now: datetime) -> None:
        """Create an unprivileged user for an unknown sender (no-op if known)."""
        await self.users.update_one(
            {"_id": email},
            {"$setOnInsert": {"privileged": False, "is_admin": False, "created": now, "name": ""}},
            upsert=True,
        )

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

    async def remove_bookmark(self, user: str, ticket: int) -> bool:
        result = await self.bookmarks.delete_one({"_id": f"{user}|{ticket}"})
        return result.deleted_count == 1

    async def bookmarked(self, user: str) -> list[int]:
        return sorted([d["ticket"] async for d in self.bookmarks.find({"user": user})])

    async def add_reminder(self, reminder: dict[str, Any]) -> None:
        await self.reminders.insert_one(reminder)

    async def complete_reminder(self, reminder_id: str, now: datetime) -> dict[str, Any] | None:
        doc = await self.reminders.find_one({"_id": reminder_id})
        if doc is not None:
            await self.reminders.update_one({"_id": reminder_id}, {"$set": {"done": now}})
        return doc

    async def open_reminders(self, owner: str) -> list[dict[str, Any]]:
        cursor = self.reminders.find({"owner": owner, "done": None})
        return sorted([d async for d in cursor], key=lambda d: (d["due"], d["created"]))

    async def count_tickets(self, query: dict[str, Any]) -> int:
        return int(await self.tickets.count_documents(query))

    async def instance(self) -> dict[str, Any]:
        return await self.config.find_one({"_id": "instance"}) or {}

    async def set_instance(self, rtname: str, extra_rtnames: list[str]) -> None:
        await self.config.replace_one(
            {"_id": "instance"},
            {"rtname": rtname, "extra_rtnames": extra_rtnames},
            upsert=True,
        )
