"""``guichet search reindex`` against the real services: a fresh index is built from the
tickets service while tickets keep changing, and swapped in — nothing is lost, searches
never stop, and an index of an older mapping is refused until rebuilt."""

from __future__ import annotations

import asyncio

import pytest

from services.search.adapters.opensearch_index import StaleIndexError
from services.search.domain.documents import MAPPING_VERSION
from services.search.reindex import Progress, Rebuild, ReindexError
from shared.rpc.tickets import TicketRef
from tests.integration.search.conftest import ADMIN, Desk

pytestmark = pytest.mark.integration


async def _indexed(desk: Desk, kind: str) -> int:
    found = await desk.client.count(
        index=desk.index.alias, body={"query": {"term": {"doc_kind": kind}}}
    )
    return int(found["count"])


async def test_a_rebuild_under_concurrent_writes_loses_nothing_and_swaps_atomically(
    desk: Desk, vhost: str
) -> None:
    before = [await desk.create(f"Demande {i}", f"texte numéro {i}") for i in range(40)]
    await desk.caught_up(*before)
    old_index = await desk.index.live_index()
    seen: list[Progress] = []
    rebuild = Rebuild(desk.index, desk.search, desk.rpc, vhost, batch_size=7, settle_seconds=1.5)
    running = asyncio.create_task(rebuild.run(lambda p: seen.append(Progress(**vars(p)))))

    # While it runs: new tickets, replies, status changes — and searches keep answering.
    during: list[int] = []
    answered = []
    while not running.done() or len(during) < 10:
        number = await desk.create(f"Pendant {len(during)}", "écrit pendant la reconstruction")
        during.append(number)
        await desk.do(before[len(during) % len(before)], "set_status", status="open")
        await desk.do(before[len(during) % len(before)], "comment", text=f"note {len(during)}")
        answered.append((await desk.find("demande"))["total"])
        if len(during) > 200:
            break
    report = await running

    everything = before + during
    await desk.caught_up(*everything, timeout=30)
    assert report.replaced == old_index and report.index != old_index
    assert await desk.index.live_index() == report.index
    assert not await desk.client.indices.exists(index=old_index)
    assert not await desk.client.indices.exists_alias(name=desk.index.rebuild_alias)
    for number in everything:
        ticket = await desk.store.get_ticket(number)
        stored = await desk.client.get(index=desk.index.alias, id=str(number), routing=str(number))
        assert ticket is not None and stored["_version"] == ticket.version, number
        assert stored["_source"]["status"] == ticket.status
    messages = 0
    for number in everything:
        history = await desk.tickets.history(TicketRef(actor=ADMIN, id=number))
        messages += sum(1 for txn in history if txn.get("message"))
    assert messages > len(everything)  # every ticket has its first message, some a comment
    assert await _indexed(desk, "message") == messages
    assert all(total >= 40 for total in answered)  # searches went on throughout
    assert seen and seen[-1].tickets == report.tickets >= 40
    assert (await desk.find("reconstruction"))["total"] == len(during)


async def test_an_index_of_an_older_mapping_is_refused_until_rebuilt(
    desk: Desk, vhost: str
) -> None:
    number = await desk.create("Ancien index", "x")
    await desk.caught_up(number)
    live = await desk.index.live_index()
    assert live is not None
    await desk.client.indices.put_mapping(
        index=live, body={"_meta": {"mapping_version": MAPPING_VERSION - 1}}
    )
    with pytest.raises(StaleIndexError, match="guichet search reindex"):
        await desk.index.ensure_index()
    report = await Rebuild(desk.index, desk.search, desk.rpc, vhost, settle_seconds=1.1).run(
        lambda _: None
    )
    assert report.tickets == 1
    await desk.index.ensure_index()  # the rebuilt index has the current mapping
    assert [i["id"] for i in (await desk.find("ancien"))["items"]] == [number]


async def test_what_an_interrupted_rebuild_left_is_refused_then_discarded_on_demand(
    desk: Desk, vhost: str
) -> None:
    number = await desk.create("Interrompu", "x")
    await desk.caught_up(number)
    orphan = desk.index.new_index_name()  # as a killed rebuild leaves it
    await desk.index.create_index(orphan)
    await desk.client.indices.put_alias(index=orphan, name=desk.index.rebuild_alias)
    rebuild = Rebuild(desk.index, desk.search, desk.rpc, vhost, settle_seconds=1.1)
    with pytest.raises(ReindexError, match="--force"):
        await rebuild.run(lambda _: None)
    report = await rebuild.run(lambda _: None, force=True)
    assert report.tickets == 1
    assert not await desk.client.indices.exists(index=orphan)
    assert not await desk.client.indices.exists_alias(name=desk.index.rebuild_alias)
