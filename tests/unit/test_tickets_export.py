"""What an export sends, without a server: a stored transaction becomes the same
TransactionInfo its event carries, and items are cut into batches by count and size."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import pytest

from services.tickets.adapters.mongo_store import transaction_from_doc, transaction_to_doc
from services.tickets.domain.model import Transaction
from services.tickets.exports import batches, message_weight
from services.tickets.service import ticket_event
from shared.events.ticket import AuthenticationInfo, MailCommandOutcome, MailFacts
from shared.rpc import tickets as rpc
from tests.unit.factories import ALICE, LATER, message_info, queue, ticket

pytestmark = pytest.mark.unit

TXN = Transaction(
    id=str(uuid.UUID(int=7, version=4)),
    ticket=12,
    seq=4,
    type="correspond",
    creator=ALICE,
    created=LATER,
    message=message_info(text="Voici le devis.\n", html="<p>Voici le devis.</p>"),
    note="subject tag #12",
    mail=MailFacts(
        sender=ALICE,
        authentication=AuthenticationInfo(verdict="pass", dkim="pass"),
        commands=(MailCommandOutcome(line="Status: open", command="Status", outcome="applied"),),
    ),
)


def stored(txn: Transaction) -> dict[str, object]:
    """The document as a read without the heavy fields returns it (BSON-like values)."""
    return json.loads(json.dumps(transaction_to_doc(txn), default=str)) | {"created": txn.created}


@pytest.mark.parametrize(
    "txn",
    [
        TXN,
        Transaction(
            str(uuid.UUID(int=8, version=4)), 12, 5, "status", ALICE, LATER, None, "open", "stalled"
        ),
    ],
    ids=["message", "status change"],
)
def test_a_stored_transaction_exports_as_its_event_carries_it(txn: Transaction) -> None:
    event = ticket_event(ticket(id=12), txn, queue(), "example", correlation_id="c-1")
    assert transaction_from_doc(stored(txn)) == txn
    assert transaction_from_doc(stored(txn)).info() == event.payload.transaction


async def each(items: list[rpc.ExportedMessage]) -> AsyncIterator[rpc.ExportedMessage]:
    for item in items:
        yield item


def exported(text_size: int) -> rpc.ExportedMessage:
    message = message_info(text="x" * text_size, html=None)
    info = TXN.info().model_copy(update={"message": message})
    return rpc.ExportedMessage(ticket=12, transaction=info)


async def test_batches_hold_at_most_their_size() -> None:
    items = [exported(10) for _ in range(7)]
    found = [len(b) async for b in batches(each(items), 3)]
    assert found == [3, 3, 1]


async def test_a_batch_of_long_messages_ends_once_past_its_budget() -> None:
    items = [exported(600), exported(600), exported(10), exported(5000), exported(10)]
    found = [
        [len(m.transaction.message.text) for m in b if m.transaction.message]
        async for b in batches(each(items), 100, weight=message_weight, budget=3000)
    ]
    # 1,624 + 1,624 bytes pass the budget; one message alone may pass it.
    assert found == [[600, 600], [10, 5000], [10]]


async def test_no_items_make_no_batch() -> None:
    assert [b async for b in batches(each([]), 5)] == []
