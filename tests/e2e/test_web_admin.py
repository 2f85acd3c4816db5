"""The administration pages against the running stack, as a browser posts their forms: an
administrator creates a queue with a custom field and a Cc watcher, switches a rule and
edits a template, creates a user in a group, grants that group ShowTicket on the queue and
revokes it — and the pages and the REST API show each change; an agent who is not an
administrator is refused every page and form; a form without the session's token is
refused. Then one screenshot of each page, in a real browser (test-artifacts/browser/)."""

from __future__ import annotations

import html
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.browser import chromium, shot
from tests.e2e.browser import log_in as browser_log_in
from tests.e2e.conftest import ADMIN, WEB
from tests.e2e.test_web_security import csrf_in, log_in, new_user, web_client

pytestmark = pytest.mark.e2e

PAGES = ["/admin", "/admin/queues", "/admin/users", "/admin/groups", "/admin/rights"]


@pytest.fixture
def admin_pages() -> Iterator[httpx.Client]:
    with web_client() as client:
        assert log_in(client, *ADMIN).status_code == 303
        yield client


def post(client: httpx.Client, url: str, csrf: str, **fields: str) -> httpx.Response:
    return client.post(url, data={"csrf": csrf, **fields})


def seen(client: httpx.Client, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200, (url, page.text[:500])
    return html.unescape(page.text)


def grants(api: httpx.Client) -> list[dict]:  # type: ignore[type-arg]
    return api.get("/api/v1/rights").raise_for_status().json()  # type: ignore[no-any-return]


def test_an_administrator_sets_up_a_queue_a_group_and_its_rights(
    api: httpx.Client, admin_pages: httpx.Client
) -> None:
    tag = uuid.uuid4().hex[:8]
    queue, group = f"q{tag}", f"groupe-{tag}"
    watcher = f"veille-{tag}@example.org"
    csrf = csrf_in(admin_pages.get("/admin/queues").text)

    # A queue with a custom field (a list of values) and a queue-level Cc.
    created = post(
        admin_pages,
        "/admin/queues",
        csrf,
        name=queue,
        correspond_address=f"{queue}@tickets.example.org",
        comment_address=f"{queue}-comment@tickets.example.org",
        language="fr",
        description="Travaux et entretien",
        cf_name_0="Bâtiment",
        cf_type_0="select",
        cf_values_0="A, B",
        ccs=watcher,
        ccs_from_create="on",
        unknown_sender="comment",
    )
    assert created.status_code == 303, created.text
    assert created.headers["location"] == f"/admin/queues/{queue}"
    assert queue in seen(admin_pages, "/admin/queues")
    page = seen(admin_pages, f"/admin/queues/{queue}")
    assert 'value="Bâtiment"' in page and 'value="A, B"' in page and watcher in page
    [public] = [q for q in api.get("/api/v1/queues").json() if q["name"] == queue]
    assert public["custom_fields"] == [{"name": "Bâtiment", "type": "select", "values": ["A", "B"]}]
    assert (public["ccs"], public["unknown_sender"], public["ccs_from_replies"]) == (
        [watcher],
        "comment",
        False,
    )

    # Its notification rules and templates, from the same page.
    notifications = f"/api/v1/queues/{queue}/notifications"
    rule = api.get(notifications).json()["rules"][0]["name"]
    assert f"/admin/queues/{queue}/rules/{rule}" in page
    switched = post(admin_pages, f"/admin/queues/{queue}/rules/{rule}", csrf, enabled="0")
    assert switched.status_code == 303
    rules = {r["name"]: r["enabled"] for r in api.get(notifications).json()["rules"]}
    assert rules[rule] is False
    subject = f"Bien reçu {tag} : {{{{ ticket.subject }}}}"
    edited = post(
        admin_pages,
        f"/admin/queues/{queue}/templates/autoreply/fr",
        csrf,
        subject=subject,
        body="Bonjour,\r\nvotre demande est enregistrée sous {{ tag }}.",
    )
    assert edited.status_code == 303, edited.text
    templates = {(t["name"], t["language"]): t for t in api.get(notifications).json()["templates"]}
    assert templates["autoreply", "fr"]["subject"] == subject
    assert templates["autoreply", "fr"]["customised"] is True
    broken = post(
        admin_pages,
        f"/admin/queues/{queue}/templates/autoreply/fr",
        csrf,
        subject="{{ oops",
        body="x",
    )
    assert broken.status_code == 422  # notify refuses a template that does not render
    reset = post(admin_pages, f"/admin/queues/{queue}/templates/autoreply/fr/reset", csrf)
    assert reset.status_code == 303
    templates = {(t["name"], t["language"]): t for t in api.get(notifications).json()["templates"]}
    assert templates["autoreply", "fr"]["customised"] is False

    # A user in a group; the pages find them.
    email = f"agent-{tag}@example.org"
    made = post(
        admin_pages,
        "/admin/users",
        csrf,
        email=email,
        name=f"Agnès {tag}",
        password=f"pw-{tag}-secret",
        privileged="on",
        language="en",
        groups=group,
    )
    assert made.status_code == 303, made.text
    assert made.headers["location"] == f"/admin/users/{email}"
    assert email in seen(admin_pages, f"/admin/users?q={quote(f'agnes {tag}')}")
    assert f"Agnès {tag}" in seen(admin_pages, f"/admin/users/{quote(email)}")
    groups_page = seen(admin_pages, "/admin/groups")
    assert group in groups_page and email in groups_page
    found = api.get("/api/v1/users", params={"q": tag}).json()["data"]
    [listed] = [u for u in found if u["email"] == email]
    assert (listed["groups"], listed["privileged"], listed["language"]) == ([group], True, "en")
    with web_client() as fresh:  # the password set on the page lets them in
        assert log_in(fresh, email, f"pw-{tag}-secret").status_code == 303

    # Edit them: a new name, a new password; the group stays as the form says.
    edited_user = post(
        admin_pages,
        f"/admin/users/{quote(email)}",
        csrf,
        name=f"Agnès B. {tag}",
        password=f"new-{tag}-secret",
        privileged="on",
        language="fr",
        groups=group,
    )
    assert edited_user.status_code == 303
    details = api.get(f"/api/v1/users/{email}").json()
    assert (details["name"], details["language"], details["groups"]) == (
        f"Agnès B. {tag}",
        "fr",
        [group],
    )
    with web_client() as fresh:
        assert log_in(fresh, email, f"new-{tag}-secret").status_code == 303

    # A second member through the groups page, then out again.
    other, _ = new_user(api, privileged=True)
    assert post(admin_pages, "/admin/groups/members", csrf, group=group, email=other).is_redirect
    assert {g["name"]: g["members"] for g in api.get("/api/v1/groups").json()}[group] == sorted(
        [email, other]
    )
    removed = post(admin_pages, "/admin/groups/members/remove", csrf, group=group, email=other)
    assert removed.status_code == 303
    assert api.get(f"/api/v1/users/{other}").json()["groups"] == []

    # The group gets ShowTicket on the queue, then loses it.
    right = {"right": "ShowTicket", "kind": "group", "name": group, "queue": queue}
    granted = post(admin_pages, "/admin/rights/grant", csrf, **right)
    assert granted.status_code == 303, granted.text
    assert right in grants(api)
    rights_page = seen(admin_pages, "/admin/rights")
    assert f'name="name" value="{group}"' in rights_page
    assert f'name="queue" value="{queue}"' in rights_page
    again = post(admin_pages, "/admin/rights/grant", csrf, **right)
    assert again.status_code == 409  # already granted
    revoked = post(admin_pages, "/admin/rights/revoke", csrf, **right)
    assert revoked.status_code == 303
    assert right not in grants(api)
    assert f'name="name" value="{group}"' not in seen(admin_pages, "/admin/rights")


def test_an_agent_who_is_not_an_administrator_is_refused_pages_and_forms(
    api: httpx.Client,
) -> None:
    email, password = new_user(api, privileged=True)
    before = grants(api)
    with web_client() as agent:
        assert log_in(agent, email, password).status_code == 303
        csrf = csrf_in(agent.get("/").text)
        for url in [*PAGES, "/admin/queues/achats", f"/admin/users/{quote(ADMIN[0])}"]:
            assert agent.get(url).status_code == 403, url
        forms = {
            "/admin/rights/grant": {"right": "AdminQueue", "kind": "user", "name": email},
            "/admin/users": {"email": f"x-{email}", "is_admin": "on"},
            f"/admin/users/{quote(email)}": {"is_admin": "on", "privileged": "on"},
            "/admin/queues/achats/rules/on_create_autoreply": {"enabled": "0"},
            "/admin/groups/members": {"group": "admins", "email": email},
        }
        for url, fields in forms.items():
            assert post(agent, url, csrf, **fields).status_code == 403, url
    assert grants(api) == before
    assert api.get(f"/api/v1/users/{email}").json()["is_admin"] is False


def test_an_administration_form_without_the_sessions_token_is_refused(
    api: httpx.Client, admin_pages: httpx.Client
) -> None:
    before = grants(api)
    right = {"right": "AdminQueue", "kind": "privileged", "queue": "achats"}
    assert admin_pages.post("/admin/rights/grant", data=right).status_code == 403
    assert post(admin_pages, "/admin/rights/grant", "forged", **right).status_code == 403
    assert grants(api) == before


def test_a_screenshot_of_each_administration_page(api: httpx.Client) -> None:
    with chromium() as browser:
        page = browser.new_page(locale="fr-FR", viewport={"width": 1280, "height": 900})
        browser_log_in(page, *ADMIN)
        page.click("header nav a[href='/admin']")
        page.wait_for_url(f"{WEB}/admin")
        expect(page.locator("h1")).to_have_text("Administration")
        shot(page, "admin-01-index")
        for n, (url, name) in enumerate(
            [
                ("/admin/queues", "queues"),
                ("/admin/queues/achats", "queue"),
                ("/admin/users", "users"),
                (f"/admin/users/{quote(ADMIN[0])}", "user"),
                ("/admin/groups", "groups"),
                ("/admin/rights", "rights"),
            ],
            start=2,
        ):
            page.goto(f"{WEB}{url}")
            expect(page.locator("h1")).to_be_visible()
            shot(page, f"admin-{n:02}-{name}")
        # The keyboard reaches the grant form: its first field takes the focus by Tab.
        page.focus("#r-right")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "r-kind"
