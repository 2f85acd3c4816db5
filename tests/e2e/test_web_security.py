"""The web interface under attack, against the running stack: hostile mail HTML opened in
a real browser (chromium, headless) runs nothing and fetches nothing from outside; forms
refuse a missing or wrong CSRF token and a foreign Origin; a requestor sees their own
ticket and nothing of another's; guessing passwords is throttled; the session cookie and
the security headers; no redirection elsewhere after a login.

Each HTTP client here says it comes from its own address (``X-Forwarded-For``, trusted from
127.0.0.1 by uvicorn), so the login throttle's per-client count never locks out the other
tests, which all log in from 127.0.0.1."""

from __future__ import annotations

import base64
import html
import json
import random
import re
import time
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Dialog, Page

from tests.e2e.browser import chromium
from tests.e2e.conftest import ADMIN, ROOT, WEB, make_mail, send, ticket_of, wait_until

pytestmark = pytest.mark.e2e

XSS_CORPUS = sorted((ROOT / "tests" / "fixtures" / "xss").glob("*.html"))
SESSION = "guichet_session"
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')
# What may remain of mail HTML in the page (display.ALLOWED_TAGS and the blocked-image mark).
SHOWN_TAGS = [
    *("a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del"),
    *("div", "dl", "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins"),
    *("li", "ol", "p", "pre", "q", "s", "small", "span", "strong", "sub", "sup", "table"),
    *("tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul"),
]


def client_address() -> str:
    """An address of the benchmarking range (RFC 2544), one per client of these tests."""
    return f"198.18.{random.randint(0, 255)}.{random.randint(1, 254)}"


def csrf_in(page_html: str) -> str:
    found = CSRF_FIELD.search(page_html)
    assert found, "no CSRF field in the page"
    return html.unescape(found.group(1))


def web_client() -> httpx.Client:
    return httpx.Client(base_url=WEB, timeout=15, headers={"X-Forwarded-For": client_address()})


def log_in(client: httpx.Client, email: str, password: str, target: str = "/") -> httpx.Response:
    """The login form as a browser posts it: its token first, then the credentials."""
    form = client.get("/login")
    assert form.status_code == 200
    return client.post(
        "/login",
        data={"csrf": csrf_in(form.text), "email": email, "password": password, "next": target},
    )


@pytest.fixture
def admin_web() -> Iterator[httpx.Client]:
    with web_client() as client:
        assert log_in(client, *ADMIN).status_code == 303
        yield client


def new_user(api: httpx.Client, *, privileged: bool = False) -> tuple[str, str]:
    email = f"web-{uuid.uuid4().hex[:8]}@client.example"
    password = f"pw-{uuid.uuid4().hex}"
    put = api.put(
        f"/api/v1/users/{email}",
        json={"name": "Web", "password": password, "privileged": privileged},
    )
    assert put.status_code == 200, put.text
    return email, password


def api_ticket(api: httpx.Client) -> dict:  # type: ignore[type-arg]
    created = api.post(
        "/api/v1/tickets",
        json={
            "queue": "achats",
            "subject": f"Cible CSRF {uuid.uuid4().hex[:6]}",
            "text": "Trois écrans.",
            "requestors": [f"req-{uuid.uuid4().hex[:8]}@client.example"],
        },
    )
    assert created.status_code == 201, created.text
    return created.json()["ticket"]  # type: ignore[no-any-return]


# --- (a) hostile mail HTML in a real browser --------------------------------------------
def hostile_mail(sender: str, tag: str, path: Path) -> EmailMessage:
    """A supplier's mail as clients send it, text and HTML, hostile in every part we show:
    the name, the subject, the text and the HTML (behind a marker the page must show)."""
    payload = path.read_text(encoding="utf-8")
    msg = make_mail(
        f'"<img src=x onerror=window.__xss=1>" <{sender}>',
        f"Devis {tag} {path.stem} <script>window.__xss=1</script>",
        f"Bonjour {tag}, voici le devis.\n\n{payload}",
    )
    msg.add_alternative(f"<p>marker-{tag}-{path.stem}</p>\n{payload}", subtype="html")
    return msg


CHECK_PAGE = """(shownTags) => {
  const allowed = new Set(shownTags);
  const wrong = [];
  for (const body of document.querySelectorAll(".txn .body.html")) {
    for (const el of body.querySelectorAll("*")) {
      const tag = el.localName;
      if (!allowed.has(tag)) wrong.push("element " + tag);
      for (const attr of el.getAttributeNames()) {
        const value = el.getAttribute(attr) || "";
        if (attr.startsWith("on") || ["style", "src", "srcset", "srcdoc", "action",
            "formaction", "background", "poster", "id", "name", "ping"].includes(attr))
          wrong.push(tag + " @" + attr);
        if (attr === "href" && !/^(https?:|mailto:)/i.test(value))
          wrong.push(tag + " href=" + value);
      }
    }
  }
  return {
    xss: typeof window.__xss,
    title: document.title,
    wrong: wrong,
    csp: window.__csp || [],
    bodies: document.querySelectorAll(".txn .body.html").length,
  };
}"""

RECORD_CSP = """document.addEventListener("securitypolicyviolation",
  (e) => (window.__csp = window.__csp || []).push(e.violatedDirective + " " + e.blockedURI));"""


def stays_home(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "data" or (
        parts.scheme in ("http", "https") and parts.hostname == "127.0.0.1"
    )


def note_and_dismiss(dialogs: list[str], dialog: Dialog) -> None:
    dialogs.append(f"{dialog.type}: {dialog.message}")
    dialog.dismiss()


def log_in_browser(page: Page, email: str, password: str) -> None:
    page.goto(f"{WEB}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click('form[action="/login"] button[type="submit"]')
    assert urlsplit(page.url).path == "/", page.url


def test_hostile_mail_html_runs_nothing_and_fetches_nothing_outside(
    api: httpx.Client,
) -> None:
    assert len(XSS_CORPUS) >= 25
    tag = f"xss{uuid.uuid4().hex[:8]}"
    senders = {path: f"{tag}-{n}@attacker.example" for n, path in enumerate(XSS_CORPUS)}
    for path, sender in senders.items():
        send(hostile_mail(sender, tag, path))
    tickets: dict[Path, int] = {}

    def all_opened() -> bool:
        for path, sender in senders.items():
            if path not in tickets and (found := ticket_of(api, sender)):
                tickets[path] = found["id"]
        return len(tickets) == len(senders)

    wait_until(all_opened, 30, "a ticket for every hostile mail", interval=0.3)
    wait_until(
        lambda: api.get("/api/v1/search", params={"q": tag}).json()["total"] == len(tickets),
        20,
        "every hostile mail searchable",
        interval=0.3,
    )

    requests: list[str] = []
    dialogs: list[str] = []
    with chromium() as browser:
        context = browser.new_context(
            locale="fr-FR", extra_http_headers={"X-Forwarded-For": client_address()}
        )
        context.add_init_script(RECORD_CSP)
        page = context.new_page()
        page.on("request", lambda request: requests.append(request.url))
        page.on("dialog", lambda dialog: note_and_dismiss(dialogs, dialog))
        log_in_browser(page, *ADMIN)

        for path, number in tickets.items():
            url = f"{WEB}/t/{number}"
            page.goto(url, wait_until="load")
            page.wait_for_timeout(150)  # timers, autofocus, a refresh of 0 s
            seen = page.evaluate(CHECK_PAGE, SHOWN_TAGS)
            where = f"{path.name} on {url}"
            assert page.url == url, f"{where}: the page went to {page.url}"
            assert seen["xss"] == "undefined", where
            assert seen["title"].startswith(f"#{number} ") and seen["title"] != "XSS", where
            assert seen["wrong"] == [], where
            assert seen["csp"] == [], f"{where}: only the policy stopped {seen['csp']}"
            assert seen["bodies"] == 1, f"{where}: the HTML part is not shown"
            assert (
                page.locator(".txn .body.html").inner_text().startswith(f"marker-{tag}-{path.stem}")
            ), where
            if path.stem in ("tracking-pixels", "img-onerror"):
                assert page.locator(".txn .body.html .blocked-image").count() >= 2, where

        # The same subjects and texts in lists: home and search results (with passages).
        for url in (f"{WEB}/", f"{WEB}/search?q={tag}"):
            page.goto(url, wait_until="load")
            page.wait_for_timeout(150)
            seen = page.evaluate(CHECK_PAGE, SHOWN_TAGS)
            assert seen["xss"] == "undefined" and seen["title"] != "XSS", url
            assert seen["csp"] == [], (url, seen["csp"])
        assert page.locator("#search-total").count() == 1  # results, not one ticket
        assert page.locator(".passage").count() > 0  # passages of the hostile texts
        context.close()

    assert dialogs == []
    outside = [url for url in requests if not stays_home(url)]
    assert outside == [], outside


def test_hostile_attachments_are_served_inert(api: httpx.Client) -> None:
    sender = f"files-{uuid.uuid4().hex[:8]}@attacker.example"
    mail = make_mail(sender, "Pièces hostiles", "Voir les pièces.")
    script = b"<script>window.__xss=1</script>"
    mail.add_attachment(
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="window.__xss=1">' + script + b"</svg>",
        maintype="image",
        subtype="svg+xml",
        filename='<img src=x onerror="window.__xss=1">.svg',
    )
    mail.add_attachment(script, maintype="text", subtype="html", filename="page.html")
    mail.add_attachment(script, maintype="text", subtype="plain", filename="faux.txt")
    send(mail)
    found = wait_until(lambda: ticket_of(api, sender), 15, "the ticket")
    history = api.get(f"/api/v1/tickets/{found['id']}/history").json()["data"]
    files = history[0]["message"]["attachments"]
    assert len(files) == 3

    with web_client() as client:
        assert log_in(client, *ADMIN).status_code == 303
        page = client.get(f"/t/{found['id']}")
        assert page.status_code == 200
        assert "<img src=x" not in page.text and "&lt;img src=x" in page.text
        for file in files:
            served = client.get(f"/t/{found['id']}/files/{file['sha256']}")
            assert served.status_code == 200 and script in served.content
            kind = served.headers["content-type"].split(";")[0]
            assert kind in ("application/octet-stream", "text/plain"), kind
            assert "sandbox" in served.headers["content-security-policy"]
            assert served.headers["x-content-type-options"] == "nosniff"
            if kind == "application/octet-stream":
                assert served.headers["content-disposition"].startswith("attachment;")


# --- (b) CSRF ---------------------------------------------------------------------------
def test_forms_without_the_right_token_or_from_elsewhere_change_nothing(
    api: httpx.Client, admin_web: httpx.Client
) -> None:
    ticket = api_ticket(api)
    number = ticket["id"]
    shown = admin_web.get(f"/t/{number}")
    assert shown.status_code == 200
    token = csrf_in(shown.text)
    home_before = admin_web.get("/")
    widgets_before = re.findall(r'id="widget-([a-z_]+)"', home_before.text)
    language_before = re.findall(r'<html lang="(\w+)"', home_before.text)
    history_before = api.get(f"/api/v1/tickets/{number}/history").json()["data"]

    posts = [
        (f"/t/{number}/act", {"action": "resolve", "command_id": f"csrf-{uuid.uuid4().hex}"}),
        (f"/t/{number}/act", {"action": "take"}),
        ("/search/bulk", {"ticket": str(number), "status": "rejected", "q": "x"}),
        ("/logout", {}),
        ("/language", {"language": "en" if language_before == ["fr"] else "fr", "next": "/"}),
        ("/home/layout", {"widget": "requests"}),
    ]
    refusals = [
        ({}, {}),  # no token
        ({"csrf": token[:-2] + "xx"}, {}),  # a wrong one
        ({"csrf": ""}, {}),
        ({"csrf": token}, {"Origin": "https://evil.example"}),  # the right one, from elsewhere
        ({"csrf": token}, {"Referer": "https://evil.example/page"}),
    ]
    for url, fields in posts:
        for extra, headers in refusals:
            answer = admin_web.post(url, data={**fields, **extra}, headers=headers)
            assert answer.status_code == 403, (url, extra, headers, answer.status_code)
            assert SESSION not in answer.headers.get("set-cookie", ""), (url, extra)

    after = api.get(f"/api/v1/tickets/{number}").json()
    assert after["status"] == ticket["status"] and after["owner"] == ticket["owner"]
    assert api.get(f"/api/v1/tickets/{number}/history").json()["data"] == history_before
    home_after = admin_web.get("/")
    assert home_after.status_code == 200  # still logged in: /logout was refused
    assert re.findall(r'id="widget-([a-z_]+)"', home_after.text) == widgets_before
    assert re.findall(r'<html lang="(\w+)"', home_after.text) == language_before

    # A visitor's token is no good once logged in, nor one of another session.
    with web_client() as other:
        visitor_token = csrf_in(other.get("/login").text)
    answer = admin_web.post(f"/t/{number}/act", data={"action": "take", "csrf": visitor_token})
    assert answer.status_code == 403

    # The same form with its token, from here, acts.
    done = admin_web.post(
        f"/t/{number}/act",
        data={"action": "open", "csrf": token, "command_id": f"ok-{uuid.uuid4().hex}"},
        headers={"Origin": WEB},
    )
    assert done.status_code == 303, done.text
    assert api.get(f"/api/v1/tickets/{number}").json()["status"] == "open"


def test_the_login_form_needs_its_token_too(api: httpx.Client) -> None:
    email, password = new_user(api)
    with web_client() as client:
        form = client.get("/login")
        fields = {"email": email, "password": password, "next": "/"}
        assert client.post("/login", data=fields).status_code == 403
        refused = client.post(
            "/login",
            data={**fields, "csrf": csrf_in(form.text)},
            headers={"Origin": "https://evil.example"},
        )
        assert refused.status_code == 403
        assert client.get("/").status_code == 303  # not logged in


# --- (c) a requestor sees their own ticket only -----------------------------------------
def test_a_requestor_sees_their_ticket_and_nothing_of_anothers(api: httpx.Client) -> None:
    email, password = new_user(api)
    other = f"autre-{uuid.uuid4().hex[:8]}@client.example"
    send(make_mail(email, "Ma demande d'écran", "Bonjour, un écran svp."))
    theirs = make_mail(other, "Demande confidentielle", "Budget secret : 12 000 €.")
    theirs.add_attachment(
        b"%PDF-1.4 secret", maintype="application", subtype="pdf", filename="s.pdf"
    )
    send(theirs)
    own = wait_until(lambda: ticket_of(api, email), 15, "the requestor's ticket")
    foreign = wait_until(lambda: ticket_of(api, other), 15, "the other ticket")
    history = api.get(f"/api/v1/tickets/{foreign['id']}/history").json()["data"]
    sha = history[0]["message"]["attachments"][0]["sha256"]

    with web_client() as client:
        assert log_in(client, email, password).status_code == 303
        mine = client.get(f"/t/{own['id']}")
        assert mine.status_code == 200 and "Ma demande d&#39;écran" in mine.text
        assert client.get(f"/t/{own['id']}/history").status_code == 200
        for url in (
            f"/t/{foreign['id']}",
            f"/t/{foreign['id']}/history",
            f"/t/{foreign['id']}/files/{sha}",
            f"/t/{own['id']}/files/{sha}",  # another ticket's file through one's own
            "/t/999999999",
        ):
            refused = client.get(url)
            assert refused.status_code == 404, (url, refused.status_code)
            assert "Budget secret" not in refused.text and "confidentielle" not in refused.text
        acted = client.post(
            f"/t/{foreign['id']}/act",
            data={"action": "reply", "text": "intrus", "csrf": csrf_in(mine.text)},
        )
        assert acted.status_code in (403, 404)
    after = api.get(f"/api/v1/tickets/{foreign['id']}/history").json()["data"]
    assert [t["id"] for t in after] == [t["id"] for t in history]


def test_a_requestor_cannot_listen_to_anothers_ticket(api: httpx.Client) -> None:
    email, password = new_user(api)
    foreign = api_ticket(api)
    with web_client() as client:
        assert log_in(client, email, password).status_code == 303
        with client.stream("GET", f"/events?ticket={foreign['id']}") as events:
            assert events.status_code == 404


# --- (d) login throttling ---------------------------------------------------------------
def test_guessing_a_password_is_throttled_even_for_the_right_one(api: httpx.Client) -> None:
    email, password = new_user(api)  # a throwaway user: nobody else is locked out
    with web_client() as client:
        for attempt in range(5):
            wrong = log_in(client, email, f"wrong-{attempt}")
            assert wrong.status_code == 401, (attempt, wrong.status_code)
        refused = log_in(client, email, "wrong-again")
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["Retry-After"]) <= 31
        assert refused.headers["Retry-After"] in refused.text  # said to the person too
        right = log_in(client, email, password)
        assert right.status_code == 429
        assert client.get("/").status_code == 303  # not logged in
    with web_client() as elsewhere:  # the address is locked, whoever asks
        assert log_in(elsewhere, email, password).status_code == 429
    other, other_password = new_user(api)
    with web_client() as client:  # another address from another client goes in
        assert log_in(client, other, other_password).status_code == 303


# --- (e) the session cookie and the security headers ------------------------------------
def test_the_session_cookie_is_httponly_lax_and_checked(api: httpx.Client) -> None:
    ticket = api_ticket(api)
    with web_client() as client:
        answer = log_in(client, *ADMIN, target=f"/t/{ticket['id']}")
        assert answer.status_code == 303 and answer.headers["location"] == f"/t/{ticket['id']}"
        cookie = next(
            c for c in answer.headers.get_list("set-cookie") if c.startswith(f"{SESSION}=")
        )
        attributes = {a.strip().split("=")[0].lower(): a for a in cookie.split(";")[1:]}
        assert "httponly" in attributes
        assert attributes["samesite"].strip().lower() == "samesite=lax"
        assert attributes["path"].strip().lower() == "path=/"
        value = client.cookies[SESSION]
        assert client.get(f"/t/{ticket['id']}").status_code == 200

    body, signature = value.split(".")
    data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    elevated = base64.urlsafe_b64encode(
        json.dumps({**data, "i": time.time() + 3600}).encode()
    ).rstrip(b"=")
    forged = [
        f"{body}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}",
        f"{elevated.decode()}.{signature}",
        f"{body}x.{signature}",
        "not-a-cookie",
        value + "." + signature,
    ]
    for tampered in forged:
        with httpx.Client(base_url=WEB, timeout=15, cookies={SESSION: tampered}) as client:
            answer = client.get(f"/t/{ticket['id']}")
            assert answer.status_code == 303, tampered
            assert answer.headers["location"] == f"/login?next=/t/{ticket['id']}"


def test_a_logout_ends_every_session_of_the_user_a_copied_cookie_too(
    api: httpx.Client,
) -> None:
    email, password = new_user(api, privileged=True)
    with web_client() as here, web_client() as elsewhere:
        for client in (here, elsewhere):
            assert log_in(client, email, password).status_code == 303
            assert client.get("/").status_code == 200
        copied = here.cookies[SESSION]
        logout = here.post("/logout", data={"csrf": csrf_in(here.get("/").text)})
        assert logout.status_code == 303 and logout.headers["location"] == "/login"
        assert here.get("/").status_code == 303
        assert elsewhere.get("/").headers["location"] == "/login?next=/"
        with httpx.Client(base_url=WEB, timeout=15, cookies={SESSION: copied}) as thief:
            assert thief.get("/").headers["location"] == "/login?next=/"
        assert log_in(here, email, password).status_code == 303  # a new session is good
        assert here.get("/").status_code == 200


def test_a_new_password_ends_the_sessions_opened_with_the_old_one(api: httpx.Client) -> None:
    email, password = new_user(api, privileged=True)
    with web_client() as client:
        assert log_in(client, email, password).status_code == 303
        assert client.get("/").status_code == 200
        changed = api.put(
            f"/api/v1/users/{email}",
            json={"name": "Web", "password": f"pw-{uuid.uuid4().hex}", "privileged": True},
        )
        assert changed.status_code == 200
        assert wait_until(lambda: client.get("/").status_code == 303, 10, "the session ended")
        assert log_in(client, email, password).status_code == 401  # the old one is refused


def test_pages_carry_the_security_headers(admin_web: httpx.Client) -> None:
    pages = [
        admin_web.get("/"),
        admin_web.get("/search?q=ecran"),
        admin_web.get("/t/999999999"),  # an error page
        httpx.get(f"{WEB}/login"),
    ]
    for answer in pages:
        assert answer.status_code in (200, 404), answer.request.url
        policy = answer.headers["content-security-policy"]
        directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
        assert directives["script-src"] == ["'self'"], policy
        assert directives["object-src"] == ["'none'"] and directives["base-uri"] == ["'none'"]
        assert directives["frame-ancestors"] == ["'none'"]
        assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["cache-control"] == "no-store"


# --- (f) no redirection elsewhere -------------------------------------------------------
@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "//evil.example/t/1",
        "https://evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
    ],
)
def test_a_login_never_sends_elsewhere(api: httpx.Client, target: str) -> None:
    email, password = new_user(api)
    with web_client() as client:
        form = client.get("/login", params={"next": target})
        assert 'name="next" value="/"' in form.text
        answer = log_in(client, email, password, target=target)
        assert answer.status_code == 303 and answer.headers["location"] == "/"


@pytest.mark.parametrize("target", ["/\t/evil.example", "/\n/evil.example", "/ /evil.example"])
def test_a_login_target_with_blanks_stays_a_path_of_ours(api: httpx.Client, target: str) -> None:
    """Browsers drop tabs and newlines from a URL: "/\\t/evil" would read "//evil"."""
    email, password = new_user(api)
    with web_client() as client:
        location = log_in(client, email, password, target=target).headers["location"]
    cleaned = re.sub(r"[\t\n\r]", "", location)
    assert cleaned.startswith("/") and not cleaned.startswith(("//", "/\\"))
