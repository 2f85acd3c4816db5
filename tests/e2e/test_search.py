"""Search through the whole stack: a supplier's PDF quote mailed to the queue is found by a
word inside it over the REST API, in the quote archive too; a requestor finds only their
own tickets; ``guichet search reindex`` rebuilds the index while it stays searchable."""

from __future__ import annotations

import uuid

import httpx

from tests.e2e.conftest import WEB, make_mail, send, wait_until
from tests.e2e.test_admin_cli import guichet
from tests.support_documents import make_pdf


def found(api: httpx.Client, q: str, expected: int = 1) -> dict | None:  # type: ignore[type-arg]
    result = api.get("/api/v1/search", params={"q": q}).json()
    return result if result.get("total") == expected else None


def test_a_word_inside_a_mailed_pdf_quote_finds_its_ticket_and_the_file(
    api: httpx.Client,
) -> None:
    reference = f"REF-{uuid.uuid4().hex[:8].upper()}"
    supplier = f"ventes-{uuid.uuid4().hex[:6]}@fournisseur.example"
    mail = make_mail(supplier, "Notre offre de prix", "Bonjour, ci-joint notre devis.")
    mail.add_attachment(
        make_pdf([f"Devis {reference}", "Écran 27 pouces : 249,00 € HT"]),
        maintype="application",
        subtype="pdf",
        filename="devis.pdf",
    )
    send(mail)

    result = wait_until(lambda: found(api, reference.lower()), 20, "the quote in search")
    [hit] = result["items"]
    assert hit["subject"] == "Notre offre de prix"
    passages = [h for h in hit["highlights"] if h["where"] == "attachment"]
    assert passages and passages[0]["filename"] == "devis.pdf"
    assert found(api, f"{reference.lower()} ecran requestor:{supplier}")  # folded, narrowed

    archive = api.get(
        "/api/v1/search/attachments", params={"text": reference, "file_type": "pdf"}
    ).json()
    assert [(i["ticket"], i["filename"], i["sender"]) for i in archive["items"]] == [
        (hit["id"], "devis.pdf", supplier)
    ]
    dashboard = api.get("/api/v1/search/dashboard", params={"q": "queue:achats"}).json()
    assert dashboard["total"] >= 1 and dashboard["by_queue"][0]["key"] == "achats"


def test_a_requestor_finds_only_their_own_tickets() -> None:
    word = f"mot{uuid.uuid4().hex[:8]}"
    alice = f"alice-{uuid.uuid4().hex[:6]}@client.example"
    bob = f"bob-{uuid.uuid4().hex[:6]}@client.example"
    for sender in (alice, bob):
        send(make_mail(sender, f"Demande {word}", f"Texte {word}"))
    assert guichet("admin", "user", alice, "--password", "motdepasse-alice").returncode == 0
    with httpx.Client(base_url=WEB, auth=(alice, "motdepasse-alice"), timeout=15) as client:
        result = wait_until(lambda: found(client, word), 20, "her ticket in search")
        assert result["items"][0]["requestors"] == [alice]
        bobs = client.get("/api/v1/search", params={"q": f"{word} requestor:{bob}"}).json()
        assert bobs["total"] == 0  # his ticket is not hers to see, not even counted
        bad = client.get("/api/v1/search", params={"q": "colour:blue"})
        assert bad.status_code == 400 or bad.status_code == 422
        assert bad.headers["content-type"] == "application/problem+json"


def test_reindex_rebuilds_the_index_and_everything_is_still_found(api: httpx.Client) -> None:
    word = f"reconstruit{uuid.uuid4().hex[:8]}"
    send(make_mail("carol@client.example", f"Avant {word}", "x"))
    wait_until(lambda: found(api, word), 20, "the ticket in search")
    before = api.get("/api/v1/search", params={"q": "queue:achats", "limit": 1}).json()["total"]

    rebuilt = guichet("search", "reindex", timeout=600)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "is live" in rebuilt.stdout and "tickets" in rebuilt.stderr

    assert found(api, word)
    after = api.get("/api/v1/search", params={"q": "queue:achats", "limit": 1}).json()["total"]
    assert after >= before
