"""The interface's pages through HTTP as a browser posts them (session cookie, CSRF
token): home layout, a new ticket, the advanced builder and saved searches, dashboards,
bulk changes, reminders."""

from __future__ import annotations

import hashlib
import re
import struct
import uuid
import zlib

import httpx
import pytest

from tests.e2e.conftest import ADMIN, make_mail, send, ticket_of, wait_until
from tests.e2e.test_web_security import csrf_in, log_in, new_user, web_client

pytestmark = pytest.mark.e2e


def _post(
    client: httpx.Client, path: str, page: str, data: dict[str, str | list[str]]
) -> httpx.Response:
    """Post a form of ``page`` (read first, for its token)."""
    token = csrf_in(client.get(page).text)
    return client.post(path, data={"csrf": token, **data})


def _searchable(api: httpx.Client, word: str) -> bool:
    total: int = api.get("/api/v1/search", params={"q": word}).json()["total"]
    return total > 0


def test_an_agent_arranges_the_home_page(api: httpx.Client) -> None:
    email, password = new_user(api, privileged=True)
    with web_client() as client:
        assert log_in(client, email, password).status_code == 303
        saved = _post(
            client,
            "/home/layout",
            "/",
            {"widget": ["mine", "bookmarks"], "position_bookmarks": "1", "position_mine": "2"},
        )
        assert saved.status_code == 303
        home = client.get("/").text
        assert "widget-unowned" not in home
        assert home.index('id="widget-bookmarks"') < home.index('id="widget-mine"')
    assert api.get("/api/v1/me").status_code == 200


def test_a_new_ticket_the_builder_a_saved_search_and_a_dashboard(api: httpx.Client) -> None:
    word = f"palette{uuid.uuid4().hex[:8]}"
    email, password = new_user(api, privileged=True)
    with web_client() as client:
        assert log_in(client, email, password).status_code == 303
        created = _post(
            client,
            "/new",
            "/new",
            {
                "queue": "achats",
                "subject": f"Commande de {word}",
                "text": f"Dix {word} en bois.",
                "requestors": f"req-{word}@client.example",
                "command_id": f"web-new-{word}",
            },
        )
        assert created.status_code == 303
        ticket = int(created.headers["location"].rsplit("/", 1)[1])
        assert word in client.get(f"/t/{ticket}").text
        wait_until(lambda: _searchable(api, word), 15, "the new ticket indexed", interval=0.5)

        rows = {"field_0": "words", "op_0": "contains", "value_0": word,
                "field_1": "status", "op_1": "is_not", "value_1": "resolved"}  # fmt: skip
        found = client.get("/search/advanced", params=rows)
        assert found.status_code == 200 and f"/t/{ticket}" in found.text

        saved = _post(client, "/search/save", "/search/advanced", {**rows, "name": f"S {word}"})
        assert saved.status_code == 303
        home = client.get("/").text
        item = re.search(r'href="/search/saved/([0-9a-f]{32})">S ' + word, home)
        assert item, "the saved search is on the home page"
        assert f"/t/{ticket}" in client.get(f"/search/saved/{item.group(1)}").text

        board = _post(
            client,
            "/dashboards",
            "/dashboards",
            {
                "name": f"D {word}",
                "kind_0": "search",
                "search_0": item.group(1),
                "kind_1": "by_status",
                "search_1": item.group(1),
            },
        )
        assert board.status_code == 303
        shown = client.get(board.headers["location"])
        assert shown.status_code == 200
        assert f"/t/{ticket}" in shown.text and "<svg" in shown.text

        # Bulk change from the results, then a reminder on the ticket, then done.
        bulk = _post(
            client, "/search/bulk", f"/search?q={word}", {"ticket": str(ticket), "status": "open"}
        )
        assert bulk.status_code == 303
        assert api.get(f"/api/v1/tickets/{ticket}").json()["status"] == "open"
        added = _post(
            client,
            f"/t/{ticket}/act",
            f"/t/{ticket}",
            {"action": "reminder", "subject": f"Relancer {word}", "due": "2026-12-31"},
        )
        assert added.status_code == 303
        reminders = client.get("/reminders").text
        assert f"Relancer {word}" in reminders
        reminder = re.search(r'action="/reminders/([^/"]+)/done"', reminders)
        assert reminder
        done = _post(client, f"/reminders/{reminder.group(1)}/done", "/reminders", {})
        assert done.status_code == 303
        assert f"Relancer {word}" not in client.get("/reminders").text

    history = api.get(f"/api/v1/tickets/{ticket}/history", params={"limit": 1, "offset": 1})
    assert history.status_code == 200
    assert len(history.json()["data"]) == 1 and history.json()["count"] >= 2


def _png(red: int, green: int, blue: int) -> bytes:
    """A one-pixel PNG of that colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(bytes([0, red, green, blue]))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def test_an_image_a_mail_shows_inline_is_shown_and_a_remote_one_is_not(
    api: httpx.Client,
) -> None:
    sender = f"signature-{uuid.uuid4().hex[:8]}@supplier.example"
    logo = _png(200, 30, 30)
    mail = make_mail(sender, "Devis avec logo", "Bonjour, voici notre devis.")
    mail.add_alternative(
        '<p>Bonjour,</p><p><img src="cid:logo-1@supplier.example" alt="logo">'
        '<img src="https://tracker.example/pixel.gif" alt="pixel"></p>',
        subtype="html",
    )
    mail.get_payload()[1].add_related(
        logo, maintype="image", subtype="png", cid="<logo-1@supplier.example>", filename="logo.png"
    )
    send(mail)
    ticket = wait_until(lambda: ticket_of(api, sender), 20, "the mail's ticket", interval=0.3)
    with web_client() as client:
        assert log_in(client, *ADMIN).status_code == 303
        page = client.get(f"/t/{ticket['id']}").text
        url = f"/t/{ticket['id']}/files/{hashlib.sha256(logo).hexdigest()}"
        assert f'<img src="{url}" alt="logo">' in page
        assert "tracker.example" not in page
        assert page.count('class="blocked-image"') == 1  # the remote one only
        shown = client.get(url)
        assert shown.status_code == 200 and shown.content == logo
        assert shown.headers["content-type"] == "image/png"
