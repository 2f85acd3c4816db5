"""The search index against the real OpenSearch: French with folded accents, phrases,
field tokens, permissions inside the query, and external versioning."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from opensearchpy import AsyncOpenSearch

from services.search.adapters.opensearch_index import OpenSearchTicketIndex
from services.search.service import SearchService
from shared.errors import InvalidInputError
from shared.events.envelope import AnyEnvelope, Envelope
from shared.events.ticket import (
    MessageInfo,
    QueueInfo,
    TicketCommented,
    TicketCreated,
    TicketSnapshot,
    TransactionInfo,
)
from shared.rpc.search import Principal, SearchTickets

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
QUEUE = QueueInfo(
    name="achats",
    correspond_address="achats@tickets.example.org",
    comment_address="achats-comment@tickets.example.org",
    rtname="example",
)
ADMIN = Principal(email="admin@example.org", is_admin=True, privileged=True)


def event(
    ticket_id: int,
    *,
    subject: str,
    text: str,
    requestor: str = "alice@example.net",
    version: int = 1,
    status: str = "new",
    kind: type[TicketCreated] | type[TicketCommented] = TicketCreated,
) -> AnyEnvelope:
    payload = kind(
        ticket=TicketSnapshot(
            id=ticket_id,
            queue="achats",
            subject=subject,
            status=status,
            requestors=(requestor,),
            created=NOW,
            updated=NOW,
            version=version,
        ),
        transaction=TransactionInfo(
            id=f"txn-{ticket_id}-{version}",
            seq=version,
            type=kind.event_type.rsplit(".", 1)[1],
            creator=requestor,
            created=NOW,
            message=MessageInfo(subject=subject, text=text),
        ),
        queue=QUEUE,
    )
    return AnyEnvelope.model_validate(
        Envelope.wrap(payload, producer="tickets", correlation_id="c").to_wire()
    )


@pytest.fixture
async def search(
    servers: Any, namespace: str
) -> AsyncIterator[tuple[SearchService, AsyncOpenSearch]]:
    client = AsyncOpenSearch(hosts=[servers.opensearch_url])
    index = OpenSearchTicketIndex(client, namespace, refresh_interval="1s")
    await index.ensure_indices()
    yield SearchService(index), client
    await client.indices.delete(index=f"{namespace}-*")
    await client.close()


async def refresh(client: AsyncOpenSearch) -> None:
    await client.indices.refresh(index="_all")


async def query(service: SearchService, q: str, who: Principal = ADMIN) -> dict[str, Any]:
    return await service.search_tickets(SearchTickets(principal=who, q=q))


async def test_devis_finds_devis_with_accents_and_french_plurals(search: Any) -> None:
    service, client = search
    await service.on_ticket_event(event(1, subject="Dévis écrans", text="Les écrans demandés"))
    await service.on_ticket_event(event(2, subject="Clavier", text="rien à voir"))
    await refresh(client)
    for q in ("devis", "DÉVIS", "ecran", "écran"):
        result = await query(service, q)
        assert [i["id"] for i in result["items"]] == [1], q
        assert result["total"] == 1


async def test_a_phrase_matches_words_in_order_only(search: Any) -> None:
    service, client = search
    await service.on_ticket_event(event(1, subject="a", text="livraison du matériel à Dakar"))
    await service.on_ticket_event(event(2, subject="b", text="matériel livré, livraison à Dakar"))
    await refresh(client)
    result = await query(service, '"livraison du matériel"')
    assert [i["id"] for i in result["items"]] == [1]


async def test_field_tokens_and_a_bare_number(search: Any) -> None:
    service, client = search
    await service.on_ticket_event(event(1, subject="écran", text="x", status="open", version=1))
    await service.on_ticket_event(event(2, subject="écran", text="x", requestor="bob@example.net"))
    await refresh(client)
    assert [i["id"] for i in (await query(service, "écran status:open"))["items"]] == [1]
    assert [i["id"] for i in (await query(service, "requestor:bob@example.net"))["items"]] == [2]
    assert [i["id"] for i in (await query(service, "#2"))["items"]] == [2]
    with pytest.raises(InvalidInputError, match="unknown search field"):
        await query(service, "colour:blue")


async def test_a_requestor_sees_only_their_tickets_even_in_counts(search: Any) -> None:
    service, client = search
    await service.on_ticket_event(
        event(1, subject="écran", text="x", requestor="alice@example.net")
    )
    await service.on_ticket_event(event(2, subject="écran", text="x", requestor="bob@example.net"))
    await service.on_ticket_event(
        event(1, subject="écran", text="note interne écran", version=2, kind=TicketCommented)
    )
    await refresh(client)
    alice = Principal(email="alice@example.net")
    result = await query(service, "écran", alice)
    assert result == {
        "total": 1,
        "items": [{"id": 1, "subject": "écran", "status": "new", "queue": "achats"}],
    }
    assert (await query(service, "interne", alice))["total"] == 0  # comments are not hers to see
    assert (await query(service, "interne"))["total"] == 1  # an agent sees them
    assert (await query(service, "#2", alice))["total"] == 0


async def test_an_older_event_never_overwrites_a_newer_state(search: Any) -> None:
    service, client = search
    await service.on_ticket_event(
        event(1, subject="Nouveau sujet", text="x", version=3, status="open")
    )
    await service.on_ticket_event(event(1, subject="Ancien sujet", text="x", version=2))
    await service.on_ticket_event(
        event(1, subject="Ancien sujet", text="x", version=2)
    )  # redelivered
    await refresh(client)
    result = await query(service, "#1")
    assert result["items"][0]["subject"] == "Nouveau sujet"
    assert result["items"][0]["status"] == "open"
