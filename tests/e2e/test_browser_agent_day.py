"""The agent's day in a real browser (chromium, headless): log in in French, a mail
appears live on the home page, take it, reply with a canned response, add a supplier as
Cc, comment, resolve, find a word inside a PDF quote, switch to English. A screenshot of
each page is kept in test-artifacts/browser/."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.browser import chromium, log_in, shot
from tests.e2e.conftest import ADMIN, WEB, caught_for, make_mail, send, ticket_of, wait_until
from tests.support_documents import make_pdf

pytestmark = pytest.mark.e2e


def test_the_agents_day_in_the_browser(api: httpx.Client) -> None:
    tag = uuid.uuid4().hex[:8]
    requestor = f"claire.{tag}@example.net"
    supplier = f"ventes.{tag}@fournisseur.example"
    canned = api.post(
        "/api/v1/me/responses",
        json={"name": f"Accusé {tag}", "text": f"Nous traitons votre demande ({tag})."},
    )
    assert canned.status_code == 201, canned.text

    with chromium() as browser:
        page = browser.new_page(locale="fr-FR")
        log_in(page, *ADMIN)
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        expect(page.locator("h1")).to_have_text("Accueil")
        shot(page, "01-home-fr")

        # A mail to the queue appears on the open home page, without a reload.
        page.evaluate("window.__not_reloaded = true")
        send(make_mail(requestor, f"Demande de devis {tag}", "Trois écrans, merci."))
        unowned = page.locator("#widget-unowned")
        expect(unowned).to_contain_text(f"Demande de devis {tag}", timeout=20_000)
        assert page.evaluate("window.__not_reloaded") is True
        shot(page, "02-home-live")
        ticket = wait_until(lambda: ticket_of(api, requestor), 10, "ticket listed")

        # Open it and take it.
        unowned.get_by_role("link", name=f"Demande de devis {tag}").click()
        page.wait_for_url(f"{WEB}/t/{ticket['id']}")
        shot(page, "03-ticket")
        page.click("#action-take")
        expect(page.locator("#ticket-owner")).to_have_text(ADMIN[0])

        # The purchase-request number in its custom field, and a link to another ticket.
        page.fill("#edit-fields input[name='cf:DEM LOG']", f"4{tag[:5]}")
        page.click("#save-fields")
        expect(page.locator("#edit-fields input[name='cf:DEM LOG']")).to_have_value(f"4{tag[:5]}")
        page.select_option("#link-kind", "RefersTo")  # (DependsOn would block resolving)
        page.fill("#link-target", "1")
        page.click("#add-link button[type=submit]")
        expect(page.locator("#links")).to_contain_text("#1")

        # Reply with the canned response: the requestor's copy lands in the catcher.
        page.select_option("#canned", label=f"Accusé {tag}")
        expect(page.locator("#text")).to_have_value(re.compile(tag))
        page.click("#send-reply")
        expect(page.locator("#history-items")).to_contain_text(
            f"Nous traitons votre demande ({tag})"
        )
        wait_until(
            lambda: any(tag in m.get_content() for m in _texts(caught_for(requestor))),
            30,
            "the reply in the requestor's mailbox",
        )

        # Add the supplier as Cc, then comment.
        page.select_option("#person-role", "Cc")
        page.fill("#person-email", supplier)
        page.click("#add-person button[type=submit]")
        expect(page.locator("#people-ccs")).to_contain_text(supplier)
        page.fill("#text", f"Note interne {tag}")
        page.click("#send-comment")
        comment = page.locator("article.txn-comment", has_text=f"Note interne {tag}")
        expect(comment).to_have_class(re.compile("private"))
        shot(page, "04-ticket-worked")

        # Resolve: the resolution notice lands.
        before = len(caught_for(requestor))
        page.click("#action-resolve")
        expect(page.locator("#ticket-status")).to_contain_text("résolu")
        wait_until(lambda: len(caught_for(requestor)) > before, 30, "the resolution notice")
        shot(page, "05-ticket-resolved")

        # Search for a word inside a PDF quote.
        reference = f"DV{tag.upper()}"
        quote = make_mail(supplier, f"Devis {tag}", "Voici notre devis.")
        quote.add_attachment(
            make_pdf([f"Devis {reference}", "Écran 27 pouces : 249,00 € HT"]),
            maintype="application",
            subtype="pdf",
            filename="devis.pdf",
        )
        send(quote)

        def found_in_browser() -> bool:
            page.goto(f"{WEB}/search?q={reference}")
            return page.locator("table.results tbody tr").count() > 0

        wait_until(found_in_browser, 30, "the PDF's word found", interval=1)
        assert f"Devis {tag}" in page.locator("table.results").inner_text()
        expect(page.locator("table.results")).to_contain_text("devis.pdf")
        shot(page, "06-search-pdf")
        page.goto(f"{WEB}/search?q=cf.DEM_LOG:4{tag[:5]}")  # the field, typed as a token
        expect(page.locator("#search-total")).to_contain_text("1 ")
        expect(page.locator("table.results")).to_contain_text(f"Demande de devis {tag}")
        page.goto(f"{WEB}/archive?text={reference}")
        expect(page.locator("table.archive")).to_contain_text("devis.pdf")
        shot(page, "07-archive")
        page.goto(f"{WEB}/dashboards")
        expect(page.locator("svg").first).to_be_visible()
        shot(page, "08-dashboards")

        # Switch to English.
        page.goto(f"{WEB}/")
        page.click("#switch-language")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.locator("h1")).to_have_text("Home")
        shot(page, "09-home-en")
        page.click("#switch-language")  # back to French for whoever comes next
        expect(page.locator("html")).to_have_attribute("lang", "fr")


def _texts(messages: list) -> list:  # type: ignore[type-arg]
    """The text parts of caught mails (a notification may be multipart)."""
    parts = []
    for message in messages:
        part = message.get_body(preferencelist=("plain",))
        if part is not None:
            parts.append(part)
    return parts
