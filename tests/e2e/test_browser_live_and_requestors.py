"""In the browser: a reply mailed to an open ticket appears on its page without a reload;
a requestor logs in, sees their own requests and answers from the web."""

from __future__ import annotations

import uuid

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.browser import chromium, log_in, shot
from tests.e2e.conftest import ADMIN, WEB, make_mail, send, ticket_of, wait_until

pytestmark = pytest.mark.e2e


def test_a_mailed_reply_appears_live_on_the_open_ticket_page(api: httpx.Client) -> None:
    tag = uuid.uuid4().hex[:8]
    requestor = f"denis.{tag}@example.net"
    send(make_mail(requestor, f"Commande {tag}", "Première demande."))
    ticket = wait_until(lambda: ticket_of(api, requestor), 20, "ticket listed")
    with chromium() as browser:
        page = browser.new_page()
        log_in(page, *ADMIN)
        page.goto(f"{WEB}/t/{ticket['id']}")
        page.evaluate("window.__not_reloaded = true")
        send(make_mail(requestor, f"Re: [example #{ticket['id']}] Commande {tag}", f"Suite {tag}"))
        expect(page.locator("#history-items")).to_contain_text(f"Suite {tag}", timeout=20_000)
        expect(page.locator("#live-note")).to_be_visible()
        assert page.evaluate("window.__not_reloaded") is True
        shot(page, "10-ticket-live")


def test_a_requestor_sees_and_answers_their_own_requests(api: httpx.Client) -> None:
    tag = uuid.uuid4().hex[:8]
    requestor = f"emma.{tag}@example.net"
    send(make_mail(requestor, f"Fournitures {tag}", "Des stylos, s'il vous plaît."))
    ticket = wait_until(lambda: ticket_of(api, requestor), 20, "ticket listed")
    password = f"pw-{uuid.uuid4().hex}"
    assert api.put(f"/api/v1/users/{requestor}", json={"password": password}).status_code == 200
    with chromium() as browser:
        page = browser.new_page()
        log_in(page, requestor, password)
        requests = page.locator("#widget-requests")
        expect(requests).to_contain_text(f"Fournitures {tag}", timeout=15_000)
        # No agent's tools for a requestor.
        expect(page.locator("a[href='/search']")).to_have_count(0)
        shot(page, "11-requestor-home")
        requests.get_by_role("link", name=f"Fournitures {tag}").click()
        page.wait_for_url(f"{WEB}/t/{ticket['id']}")
        expect(page.locator("#action-take")).to_have_count(0)
        expect(page.locator("#send-comment")).to_have_count(0)
        page.fill("#text", f"Et des crayons {tag}")
        page.click("#send-reply")
        expect(page.locator("#history-items")).to_contain_text(f"Et des crayons {tag}")
        shot(page, "12-requestor-ticket")
    history = api.get(f"/api/v1/tickets/{ticket['id']}/history").json()["data"]
    assert any(t["type"] == "correspond" and t["creator"] == requestor for t in history)
