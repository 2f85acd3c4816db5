"""Search against the real OpenSearch, fed by the real tickets service over the real broker:
French with folded accents, phrases, field tokens, the text of PDF and office files,
permissions inside the query (hits, counts, aggregations, highlights), external versions,
advanced search with search_after, the archive of attachments and dashboard counts."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import pytest

from shared.errors import InvalidInputError
from shared.events.envelope import AnyEnvelope, Envelope
from shared.events.ticket import QueueInfo, TicketStatusChanged, TransactionInfo
from shared.rpc.search import (
    AdvancedSearch,
    Aggregate,
    Counts,
    Principal,
    QuickSearch,
    SearchAttachments,
    SearchMany,
    SearchTickets,
)
from shared.rpc.tickets import TicketRef
from tests.integration.search.conftest import ADMIN, AGENT, TRAVAUX, Desk
from tests.integration.tickets.support import queue_change
from tests.support import eventually
from tests.support_documents import make_docx, make_pdf

pytestmark = pytest.mark.integration

ALICE = "alice@example.net"
BOB = "bob@example.net"


def mail_with_file(
    subject: str, body: str, filename: str, content: bytes, mime: str, sender: str = BOB
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "achats@tickets.example.org"
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="example.net")
    msg.set_content(body)
    maintype, _, subtype = mime.partition("/")
    msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


async def test_accents_plurals_and_english_words_are_found_either_way(desk: Desk) -> None:
    one = await desk.create("Dévis écrans", "Les écrans demandés pour l'équipe")
    two = await desk.create("Clavier", "Please send the invoices for the keyboards")
    three = await desk.create("Sans rapport", "rien à voir")
    await desk.caught_up(one, two, three)
    for q in ("devis", "DÉVIS", "ecran", "écran", "equipe", "l'équipe"):
        assert await desk.ids(q) == [one], q
    assert await desk.ids("invoice keyboard") == [two]
    assert (await desk.find("devis"))["total"] == 1


async def test_a_phrase_matches_its_words_in_order_and_every_word_must_be_found(
    desk: Desk,
) -> None:
    one = await desk.create("Livraison", "livraison du matériel à Dakar")
    two = await desk.create("Retour", "matériel livré, livraison à Dakar")
    await desk.caught_up(one, two)
    assert await desk.ids('"livraison du matériel"') == [one]
    assert await desk.ids('"Livraison du Materiel"') == [one]  # case and accents folded
    (hit,) = (await desk.find('"livraison du matériel"'))["items"]
    passages = [f for h in hit["highlights"] for f in h["fragments"]]
    assert passages and all("<mark>" in f for f in passages), passages
    assert await desk.ids("livraison dakar") == [one, two]
    # the subject's words and a message's together (each message carries its subject)
    assert await desk.ids("retour dakar") == [two]
    assert await desk.ids("retour introuvable") == []


async def test_field_tokens_narrow_and_a_bare_number_names_its_ticket(desk: Desk) -> None:
    await desk.user(ALICE)
    one = await desk.create("Écran 27 pouces", "x", custom_fields={})
    two = await desk.create("Écran portable", "x", requestor=BOB, ccs=("fournisseur@acme.example",))
    three = await desk.create("Perceuse", "x", queue="travaux")
    await desk.do(one, "take", actor=AGENT)
    await desk.do(one, "set_status", status="open")
    await desk.do(two, "set_status", status="resolved")
    await desk.caught_up(one, two, three)
    assert await desk.ids("écran status:open") == [one]
    assert await desk.ids("écran -status:resolved") == [one]
    assert await desk.ids("statut:résolu") == [two]
    assert await desk.ids("status:active") == [one, three]
    assert await desk.ids("owner:me", who=AGENT) == [one]
    assert await desk.ids(f"requestor:{BOB}") == [two]
    assert await desk.ids("cc:fournisseur@acme.example") == [two]
    assert await desk.ids("queue:travaux") == [three]
    assert await desk.ids("created:>2000-01-01 queue:achats") == [one, two]
    assert await desk.ids("created:<2000-01-01") == []
    found = await desk.find(f"#{two}")
    assert found["ticket"] == two and [i["id"] for i in found["items"]] == [two]
    with pytest.raises(InvalidInputError, match="unknown search field"):
        await desk.find("colour:blue")
    with pytest.raises(InvalidInputError, match="invalid search value"):
        await desk.find("created:>demain")


async def test_custom_fields_match_exactly(desk: Desk) -> None:
    await desk.tickets.upsert_queue(
        queue_change(custom_fields=({"name": "DEM LOG", "type": "text"},))
    )
    one = await desk.create("Commande", "x", custom_fields={"DEM LOG": "1234"})
    two = await desk.create("Commande", "x", custom_fields={"DEM LOG": "12345"})
    await desk.caught_up(one, two)
    # A name with a space (the purchasing office's own fields) is typed with an underscore.
    assert await desk.ids("cf.DEM_LOG:1234") == [one]
    assert await desk.ids("cf.dem_log:12345") == [two]


async def test_the_text_inside_a_pdf_quote_and_a_docx_is_found(desk: Desk) -> None:
    pdf = make_pdf(
        ["Offre de prix n° 2026-114", "Écran 27 pouces, référence FR-7781", "Total 1 234,00 €"]
    )
    docx = make_docx(["Bon de commande", "Perceuse à percussion Makita"])
    one = await desk.mail(
        mail_with_file(
            "Votre demande", "Ci-joint notre offre.", "offre.pdf", pdf, "application/pdf"
        )
    )
    two = await desk.mail(
        mail_with_file(
            "Commande",
            "Voir le fichier.",
            "commande.docx",
            docx,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        )
    )
    await desk.caught_up(one, two)

    async def files_indexed() -> bool:
        await desk.index.refresh()
        return (await desk.find("has:attachment"))["total"] == 2

    await eventually(files_indexed, what="attachments indexed")
    found = await desk.find("FR-7781")
    assert [i["id"] for i in found["items"]] == [one]
    highlight = [h for h in found["items"][0]["highlights"] if h["where"] == "attachment"]
    assert highlight and highlight[0]["filename"] == "offre.pdf"
    assert "<mark>" in highlight[0]["fragments"][0]
    assert await desk.ids("ecran reference") == [one]  # accents folded inside PDFs too
    assert await desk.ids("perceuse makita") == [two]
    assert await desk.ids("in:pj makita") == [two]
    assert await desk.ids("in:pj voir") == []  # "voir" is only in the mail's text

    archive = await desk.search.attachments(
        SearchAttachments(principal=Principal(email=ADMIN), text="percussion")
    )
    assert archive["total"] == 1
    item = archive["items"][0]
    assert (item["ticket"], item["filename"], item["extraction"]) == (two, "commande.docx", "ok")
    assert item["sender"] == BOB and "<mark>" in item["fragments"][0]
    pdfs = await desk.search.attachments(
        SearchAttachments(principal=Principal(email=ADMIN), file_type="pdf", sender=BOB)
    )
    assert [i["filename"] for i in pdfs["items"]] == ["offre.pdf"]


async def test_a_requestor_sees_only_their_own_tickets_even_in_counts_and_highlights(
    desk: Desk,
) -> None:
    await desk.user(ALICE)
    await desk.user(BOB)
    hers = await desk.create("Écran cassé", "mon écran", requestor=ALICE)
    his = await desk.create("Écran neuf", "un écran", requestor=BOB)
    await desk.do(hers, "comment", actor=AGENT, text="note interne: fournisseur écran trop cher")
    await desk.caught_up(hers, his)

    found = await desk.find("écran", who=ALICE)
    assert found["total"] == 1 and [i["id"] for i in found["items"]] == [hers]
    assert (await desk.find("interne", who=ALICE))["total"] == 0  # a comment is not hers
    for item in found["items"]:
        for highlight in item["highlights"]:
            assert highlight["where"] != "comment"
            assert "interne" not in " ".join(highlight["fragments"])
    assert (await desk.find("interne", who=AGENT))["total"] == 1  # agents read comments
    assert (await desk.find(f"#{his}", who=ALICE))["total"] == 0
    assert (await desk.find("has:comment", who=ALICE))["total"] == 0
    assert (await desk.find("has:comment", who=AGENT))["total"] == 1
    counts = await desk.search.aggregate(Aggregate(principal=Principal(email=ALICE)))
    assert counts["total"] == 1
    assert sum(b["count"] for b in counts["by_status"]) == 1
    # someone who is nobody here sees nothing at all
    assert (await desk.find("écran", who="stranger@example.com"))["total"] == 0


async def test_an_agent_limited_to_one_queue_sees_nothing_of_another(desk: Desk) -> None:
    buyer = "buyer@example.org"
    await desk.user(buyer, privileged=True, groups=("acheteurs",))
    await desk.revoke("ShowTicket", "privileged")
    await desk.revoke("ShowTicketComments", "privileged")
    await desk.grant("ShowTicket", "group", "acheteurs", queue="achats")
    achat = await desk.create("Écran", "écran", queue="achats")
    travaux = await desk.create("Écran de chantier", "écran", queue=TRAVAUX.name)
    await desk.do(achat, "comment", actor=ADMIN, text="écran commentaire confidentiel")
    await desk.caught_up(achat, travaux)
    assert await desk.ids("écran", who=buyer) == [achat]
    assert await desk.ids("écran", who=AGENT) == []  # the privileged grant was taken back
    assert await desk.ids("écran") == [achat, travaux]  # the administrator sees all
    # no ShowTicketComments for the buyers: the comment's words do not count
    assert await desk.ids("confidentiel", who=buyer) == []
    counts = await desk.search.aggregate(Aggregate(principal=Principal(email=buyer)))
    assert [(b["key"], b["count"]) for b in counts["by_queue"]] == [("achats", 1)]
    await desk.grant("ShowTicketComments", "group", "acheteurs", queue="achats")
    assert await desk.ids("confidentiel", who=buyer) == [achat]


async def test_an_older_event_never_overwrites_a_newer_state(desk: Desk) -> None:
    number = await desk.create("Ancien sujet", "x")
    await desk.do(number, "set_status", status="open")
    await desk.do(number, "set_subject", subject="Nouveau sujet")
    await desk.caught_up(number)
    ticket = await desk.store.get_ticket(number)
    assert ticket is not None and ticket.version == 3
    # the status event (version 2) comes again, late: it must not bring the old subject back
    history = await desk.tickets.history(TicketRef(actor=ADMIN, id=number))
    assert len(history) == 3
    old = ticket.snapshot().model_copy(update={"version": 2, "subject": "Ancien sujet"})
    late = TicketStatusChanged(
        ticket=old,
        transaction=TransactionInfo(
            id=history[1]["id"],
            seq=2,
            type="status",
            creator=ADMIN,
            created=ticket.created,
            old_value="new",
            new_value="open",
        ),
        queue=QueueInfo(
            name="achats",
            correspond_address="achats@tickets.example.org",
            comment_address="achats-comment@tickets.example.org",
            rtname="example",
        ),
    )
    envelope = AnyEnvelope.model_validate(
        Envelope.wrap(late, producer="tickets", correlation_id="late").to_wire()
    )
    await desk.search.on_ticket_event(envelope)
    await desk.index.refresh()
    found = await desk.find(f"#{number}")
    assert found["items"][0]["subject"] == "Nouveau sujet"


async def test_advanced_search_combines_conditions_and_pages_with_search_after(
    desk: Desk,
) -> None:
    numbers = [await desk.create(f"Fourniture {i}", "papier ramette") for i in range(7)]
    other = await desk.create("Fourniture cartouches", "encre")
    await desk.do(numbers[0], "set_status", status="resolved")
    await desk.caught_up(*numbers, other)
    query: dict[str, Any] = {
        "kind": "all",
        "of": [
            {"kind": "text", "text": "fourniture"},
            {
                "kind": "any",
                "of": [
                    {"kind": "text", "text": "papier", "within": "messages"},
                    {"kind": "exact", "field": "status", "values": ["resolved"]},
                ],
            },
            {"kind": "not", "condition": {"kind": "range", "field": "ticket", "lt": numbers[1]}},
            {"kind": "range", "field": "created", "gte": "now-1d"},
        ],
    }
    seen: list[int] = []
    after = None
    while True:
        page = await desk.search.advanced(
            AdvancedSearch.model_validate(
                {
                    "principal": {"email": ADMIN},
                    "query": query,
                    "sort": [{"field": "ticket", "order": "asc"}],
                    "limit": 2,
                    "search_after": after,
                }
            )
        )
        assert page["total"] == 6
        if not page["items"]:
            break
        seen += [i["id"] for i in page["items"]]
        after = page["items"][-1]["sort"]
    assert seen == numbers[1:]
    first = (
        await desk.search.advanced(
            AdvancedSearch.model_validate(
                {
                    "principal": {"email": ADMIN},
                    "query": {"kind": "text", "text": "ramette"},
                    "limit": 1,
                }
            )
        )
    )["items"][0]
    message = [h for h in first["highlights"] if h["where"] == "message"]
    assert message and "<mark>ramette</mark>" in message[0]["fragments"][0]


async def test_dashboard_counts_by_status_queue_owner_week_and_time_to_resolve(
    desk: Desk,
) -> None:
    one = await desk.create("Un", "x")
    two = await desk.create("Deux", "x")
    three = await desk.create("Trois", "x", queue="travaux")
    await desk.do(one, "take", actor=AGENT)
    await desk.do(one, "set_status", status="open")
    await desk.do(two, "set_status", status="resolved")
    await desk.caught_up(one, two, three)
    counts = await desk.search.aggregate(Aggregate(principal=Principal(email=ADMIN), weeks=4))
    assert counts["total"] == 3
    assert {b["key"]: b["count"] for b in counts["by_status"]} == {
        "open": 1,
        "resolved": 1,
        "new": 1,
    }
    assert {b["key"]: b["count"] for b in counts["by_queue"]} == {"achats": 2, "travaux": 1}
    assert {b["key"]: b["count"] for b in counts["by_owner"]} == {AGENT: 1, "nobody": 2}
    assert sum(b["count"] for b in counts["created_per_week"]) == 3
    assert len(counts["created_per_week"]) >= 4
    assert sum(b["count"] for b in counts["resolved_per_week"]) == 1
    assert counts["resolution_seconds"]["50"] is not None
    narrowed = await desk.search.aggregate(
        Aggregate(principal=Principal(email=ADMIN), q="queue:travaux")
    )
    assert narrowed["total"] == 1


async def test_many_searches_at_once_answer_as_each_alone(desk: Desk) -> None:
    one = await desk.create("Un", "x")
    two = await desk.create("Deux", "x", queue="travaux")
    await desk.do(one, "take", actor=AGENT)
    await desk.caught_up(one, two)
    asks = ("owner:me status:active", "owner:nobody", f"{two}")
    for who in (AGENT, ADMIN):
        principal = Principal(email=who)
        many = await desk.search.many(
            SearchMany(
                principal=principal,
                tickets=tuple(QuickSearch(q=q) for q in asks),
                counts=(Counts(q="status:active", weeks=4),),
            )
        )
        alone = [
            await desk.search.search_tickets(SearchTickets(principal=principal, q=q)) for q in asks
        ]
        assert many["tickets"] == alone
        counts = await desk.search.aggregate(
            Aggregate(principal=principal, q="status:active", weeks=4)
        )
        assert many["counts"] == [counts]
    empty = await desk.search.many(SearchMany(principal=Principal(email=AGENT)))
    assert empty == {"tickets": [], "counts": []}
    with pytest.raises(InvalidInputError, match="cannot be run"):
        await desk.search.many(
            SearchMany(
                principal=Principal(email=ADMIN),
                tickets=(QuickSearch(q="x"),),
                counts=(Counts(time_zone="Nulle/Part"),),
            )
        )


async def test_a_query_opensearch_refuses_is_the_askers_error(desk: Desk) -> None:
    number = await desk.create("Un", "x")
    await desk.caught_up(number)
    with pytest.raises(InvalidInputError, match="cannot be run"):
        await desk.search.advanced(
            AdvancedSearch.model_validate(
                {"principal": {"email": ADMIN}, "search_after": ["pas-un-nombre"], "limit": 1}
            )
        )
    with pytest.raises(InvalidInputError, match="cannot be run"):
        await desk.search.aggregate(
            Aggregate(principal=Principal(email=ADMIN), time_zone="Nulle/Part")
        )
