"""The REST API against the running stack: create and act on tickets (idempotent with an
Idempotency-Key) with files sent in JSON, download files safely, bookmarks, reminders, API
tokens, saved searches, dashboards, canned responses and preferences — with the 401, 403,
404 and 422 answers, always ``application/problem+json``."""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import date, timedelta

import httpx
import pytest

from tests.e2e.conftest import WEB, caught_for, make_mail, send, ticket_of, wait_until
from tests.e2e.test_admin_cli import guichet
from tests.support_documents import make_pdf

PROBLEM = "application/problem+json"


def user_with_password(privileged: bool = False) -> tuple[str, str]:
    email = f"u-{uuid.uuid4().hex[:8]}@example.org"
    password = f"pw-{uuid.uuid4().hex}"
    args = ["admin", "user", email, "--password", password]
    assert guichet(*args, *(["--privileged"] if privileged else [])).returncode == 0
    return email, password


@pytest.fixture
def ticket(api: httpx.Client) -> dict:  # type: ignore[type-arg]
    created = api.post(
        "/api/v1/tickets",
        json={
            "queue": "achats",
            "subject": "Demande par l'API",
            "text": "Un écran svp",
            "requestors": [f"req-{uuid.uuid4().hex[:8]}@client.example"],
        },
    )
    assert created.status_code == 201, created.text
    return created.json()["ticket"]  # type: ignore[no-any-return]


def test_create_is_idempotent_with_the_same_key(api: httpx.Client) -> None:
    body = {"queue": "achats", "subject": "Une fois", "requestors": ["x@client.example"]}
    key = {"Idempotency-Key": f"k-{uuid.uuid4().hex}"}
    first = api.post("/api/v1/tickets", json=body, headers=key)
    again = api.post("/api/v1/tickets", json=body, headers=key)
    assert first.status_code == again.status_code == 201
    assert first.json()["ticket"]["id"] == again.json()["ticket"]["id"]
    invalid = api.post("/api/v1/tickets", json={"queue": "achats"})
    assert invalid.status_code == 422 and invalid.headers["content-type"] == PROBLEM
    unknown_queue = api.post("/api/v1/tickets", json={**body, "queue": "nulle-part"})
    assert unknown_queue.status_code in (404, 422)


def test_actions_change_the_ticket_and_refuse_what_is_missing_or_forbidden(
    api: httpx.Client,
    ticket: dict,  # type: ignore[type-arg]
) -> None:
    url = f"/api/v1/tickets/{ticket['id']}/actions"
    steps = [
        {"action": "take"},
        {"action": "add_watcher", "role": "Cc", "email": "fournisseur@acme.example"},
        {"action": "comment", "text": "note interne"},
        {"action": "reply", "text": "Voici le devis."},
        {"action": "set_status", "status": "resolved"},
    ]
    for step in steps:
        answer = api.post(url, json=step)
        assert answer.status_code == 200, (step, answer.text)
    after = api.get(f"/api/v1/tickets/{ticket['id']}").json()
    assert after["status"] == "resolved" and after["owner"] == "admin@example.org"
    assert after["ccs"] == ["fournisseur@acme.example"]
    history = api.get(f"/api/v1/tickets/{ticket['id']}/history").json()
    assert [t["type"] for t in history["data"]][-3:] == ["comment", "correspond", "status"]

    missing = api.post(url, json={"action": "reply"})  # a reply needs its text
    assert missing.status_code == 422 and missing.headers["content-type"] == PROBLEM
    unknown = api.post(url, json={"action": "explode"})
    assert unknown.status_code == 422
    assert api.post("/api/v1/tickets/999999999/actions", json={"action": "take"}).status_code == 404

    outsider, password = user_with_password()
    with httpx.Client(base_url=WEB, auth=(outsider, password), timeout=15) as client:
        assert client.post(url, json={"action": "take"}).status_code in (403, 404)
        assert client.get(f"/api/v1/tickets/{ticket['id']}").status_code in (403, 404)
    assert httpx.post(f"{WEB}{url}", json={"action": "take"}).status_code == 401


def test_a_file_downloads_with_its_type_and_a_safe_name_for_those_who_may_see_it(
    api: httpx.Client,
) -> None:
    sender = f"ventes-{uuid.uuid4().hex[:6]}@fournisseur.example"
    mail = make_mail(sender, "Offre", "Ci-joint.")
    pdf = make_pdf(["Offre 2026"])
    odd_name = 'devis "final"/é.pdf'
    mail.add_attachment(pdf, maintype="application", subtype="pdf", filename=odd_name)
    mail.add_attachment(
        b"<script>alert(1)</script>", maintype="text", subtype="html", filename="page.html"
    )
    send(mail)
    found = wait_until(lambda: ticket_of(api, sender), 15, "the ticket")
    history = api.get(f"/api/v1/tickets/{found['id']}/history").json()["data"]
    files = {a["content_type"]: a["sha256"] for a in history[0]["message"]["attachments"]}

    url = f"/api/v1/tickets/{found['id']}/attachments"
    shown = api.get(f"{url}/{files['application/pdf']}")
    assert shown.status_code == 200 and shown.content == pdf
    assert shown.headers["content-type"] == "application/pdf"
    disposition = shown.headers["content-disposition"]
    assert disposition.startswith("inline;") and "filename*=UTF-8''" in disposition
    assert "/" not in disposition.split("filename=")[1].split(";")[0]
    assert shown.headers["x-content-type-options"] == "nosniff"

    html = api.get(f"{url}/{files['text/html']}")
    assert html.headers["content-type"] == "application/octet-stream"
    assert html.headers["content-disposition"].startswith("attachment;")
    assert "sandbox" in html.headers["content-security-policy"]

    assert api.get(f"{url}/{'0' * 64}").status_code == 404
    assert api.get(f"{url}/not-a-hash").status_code == 422
    outsider, password = user_with_password()
    with httpx.Client(base_url=WEB, auth=(outsider, password), timeout=15) as client:
        assert client.get(f"{url}/{files['text/html']}").status_code in (403, 404)


def test_bookmarks_and_reminders_are_the_users_own(
    api: httpx.Client,
    ticket: dict,  # type: ignore[type-arg]
) -> None:
    number = ticket["id"]
    assert number in api.put(f"/api/v1/me/bookmarks/{number}").json()["tickets"]
    assert number in api.get("/api/v1/me/bookmarks").json()["tickets"]
    assert number not in api.delete(f"/api/v1/me/bookmarks/{number}").json()["tickets"]
    due = (date.today() + timedelta(days=3)).isoformat()
    added = api.post(
        "/api/v1/me/reminders", json={"ticket": number, "subject": "Relancer", "due": due}
    )
    assert added.status_code == 201
    mine = [r for r in api.get("/api/v1/me/reminders").json() if r["ticket"] == number]
    assert [r["subject"] for r in mine] == ["Relancer"]
    done = api.post(f"/api/v1/me/reminders/{mine[0]['id']}/done")
    assert done.status_code == 200
    assert not [r for r in api.get("/api/v1/me/reminders").json() if r["ticket"] == number]
    bad = api.post("/api/v1/me/reminders", json={"ticket": number, "subject": "x", "due": "demain"})
    assert bad.status_code == 422
    assert api.get("/api/v1/me/home").status_code == 200


def test_an_api_token_acts_for_its_user_until_revoked() -> None:
    email, password = user_with_password(privileged=True)
    with httpx.Client(base_url=WEB, auth=(email, password), timeout=15) as client:
        created = client.post("/api/v1/me/tokens", json={"name": "script de relance"})
        assert created.status_code == 201
        token = created.json()
        assert token["secret"].startswith("gch_")
        listed = client.get("/api/v1/me/tokens").json()
        assert [(t["id"], t["secret"]) for t in listed] == [(token["id"], None)]

    bearer = {"Authorization": f"Bearer {token['secret']}"}
    me = httpx.get(f"{WEB}/api/v1/me", headers=bearer)
    assert me.status_code == 200 and me.json()["email"] == email
    wrong = httpx.get(f"{WEB}/api/v1/me", headers={"Authorization": "Bearer gch_" + "x" * 40})
    assert wrong.status_code == 401 and wrong.headers["content-type"] == PROBLEM

    revoked = httpx.delete(f"{WEB}/api/v1/me/tokens/{token['id']}", headers=bearer)
    assert revoked.status_code == 204
    assert httpx.get(f"{WEB}/api/v1/me", headers=bearer).status_code == 401
    with httpx.Client(base_url=WEB, auth=(email, password), timeout=15) as client:
        assert client.delete(f"/api/v1/me/tokens/{token['id']}").status_code == 404


def _colleagues(api: httpx.Client) -> tuple[str, str, str, httpx.Client, httpx.Client]:
    """Two agents of one new group: the group, their addresses, a client for each."""
    group = f"g{uuid.uuid4().hex[:6]}"
    owner, colleague = (f"{n}-{uuid.uuid4().hex[:6]}@example.org" for n in ("owner", "colleague"))
    for email in (owner, colleague):
        body = {"password": "un-mot-de-passe", "privileged": True, "groups": [group]}
        assert api.put(f"/api/v1/users/{email}", json=body).status_code == 200
    mine = httpx.Client(base_url=WEB, auth=(owner, "un-mot-de-passe"), timeout=15)
    theirs = httpx.Client(base_url=WEB, auth=(colleague, "un-mot-de-passe"), timeout=15)
    return group, owner, colleague, mine, theirs


def test_saved_searches_and_dashboards_are_kept_shared_with_groups_and_changed_by_owners(
    api: httpx.Client,
) -> None:
    group, _, _, mine, theirs = _colleagues(api)
    with mine, theirs:
        saved = mine.post(
            "/api/v1/me/saved-searches",
            json={"name": "Devis bloqués", "q": "devis status:stalled", "shared_with_groups": True},
        )
        assert saved.status_code == 201, saved.text
        search = saved.json()
        assert search["groups"] == [group]
        advanced = mine.post(
            "/api/v1/me/saved-searches",
            json={"name": "Écrans", "condition": {"kind": "text", "text": "écran"}},
        )
        assert advanced.status_code == 201
        assert (
            mine.post(
                "/api/v1/me/saved-searches", json={"name": "x", "condition": {"kind": "nope"}}
            ).status_code
            == 422
        )
        assert (
            mine.post("/api/v1/me/saved-searches", json={"name": "ni l'un ni l'autre"}).status_code
            == 422
        )

        board = mine.post(
            "/api/v1/me/dashboards",
            json={
                "name": "Achats",
                "widgets": [
                    {"kind": "search", "saved_search": search["id"]},
                    {"kind": "created_resolved"},
                ],
                "shared_with_groups": True,
            },
        )
        assert board.status_code == 201, board.text
        unknown = {"name": "x", "widgets": [{"kind": "search", "saved_search": "ab" * 16}]}
        assert mine.post("/api/v1/me/dashboards", json=unknown).status_code == 404

        # the colleague sees the shared ones, not the private one, and may not change them
        seen = {i["body"]["name"] for i in theirs.get("/api/v1/me/saved-searches").json()}
        assert seen == {"Devis bloqués"}
        assert theirs.get(f"/api/v1/me/dashboards/{board.json()['id']}").status_code == 200
        changed = {"name": "Pris", "q": "x"}
        url = f"/api/v1/me/saved-searches/{search['id']}"
        assert theirs.put(url, json=changed).status_code == 403
        assert theirs.delete(url).status_code == 403
        assert theirs.get(f"/api/v1/me/saved-searches/{advanced.json()['id']}").status_code == 404
        assert api.get(url).status_code == 404  # not the administrator's either

        assert mine.put(url, json={**changed, "shared_with_groups": False}).status_code == 200
        assert theirs.get(url).status_code == 404  # no longer shared
        assert mine.delete(url).status_code == 204
        assert mine.get(url).status_code == 404


def test_canned_responses_are_kept_shared_with_groups_and_changed_by_owners(
    api: httpx.Client,
) -> None:
    group, owner, _, mine, theirs = _colleagues(api)
    with mine, theirs:
        shared = mine.post(
            "/api/v1/me/responses",
            json={"name": "Devis reçu", "text": "Bien reçu, merci.", "shared_with_groups": True},
        )
        assert shared.status_code == 201, shared.text
        response = shared.json()
        assert response["groups"] == [group] and response["owner"] == owner
        private = mine.post("/api/v1/me/responses", json={"name": "Relance", "text": "Alors ?"})
        assert private.status_code == 201
        for invalid in ({"name": "sans texte"}, {"name": "x", "text": ""}, {"text": "x"}):
            refused = mine.post("/api/v1/me/responses", json=invalid)
            assert refused.status_code == 422 and refused.headers["content-type"] == PROBLEM
        too_long = mine.post("/api/v1/me/responses", json={"name": "x", "text": "x" * 20_001})
        assert too_long.status_code == 422
        names = {i["body"]["name"] for i in mine.get("/api/v1/me/responses").json()}
        assert names == {"Devis reçu", "Relance"}

        # the colleague sees the shared one, not the private one, and may not change it
        seen = {i["body"]["name"] for i in theirs.get("/api/v1/me/responses").json()}
        assert seen == {"Devis reçu"}
        url = f"/api/v1/me/responses/{response['id']}"
        assert theirs.get(url).json()["body"]["text"] == "Bien reçu, merci."
        changed = {"name": "Pris", "text": "à moi"}
        forbidden = theirs.put(url, json=changed)
        assert forbidden.status_code == 403 and forbidden.headers["content-type"] == PROBLEM
        assert theirs.delete(url).status_code == 403
        assert theirs.get(f"/api/v1/me/responses/{private.json()['id']}").status_code == 404
        assert api.get(url).status_code == 404  # not the administrator's either
        assert mine.get("/api/v1/me/responses/not-an-id").status_code == 422
        assert mine.get(f"/api/v1/me/responses/{'ab' * 16}").status_code == 404
        # a kind of its own: not among the saved searches
        assert all(i["id"] != response["id"] for i in mine.get("/api/v1/me/saved-searches").json())

        assert mine.put(url, json={**changed, "shared_with_groups": False}).status_code == 200
        assert theirs.get(url).status_code == 404  # no longer shared
        assert mine.delete(url).status_code == 204
        assert mine.get(url).status_code == 404
    unauthenticated = httpx.get(f"{WEB}/api/v1/me/responses")
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["content-type"] == PROBLEM


def test_preferences_are_the_users_own_and_the_language_shows_at_once() -> None:
    email, password = user_with_password(privileged=True)
    with httpx.Client(base_url=WEB, auth=(email, password), timeout=15) as client:
        before = client.get("/api/v1/me/preferences")
        assert before.status_code == 200
        assert before.json()["email"] == email
        assert (before.json()["signature"], before.json()["home_layout"]) == ("", [])
        assert client.get("/api/v1/me").json()["language"] == "fr"  # remembered login

        wanted = {
            "language": "en",
            "signature": "Marc\nService achats",
            "home_layout": ["reminders", "mine", "saved_searches"],
        }
        changed = client.put("/api/v1/me/preferences", json=wanted)
        assert changed.status_code == 200, changed.text
        assert {k: changed.json()[k] for k in wanted} == wanted
        assert client.get("/api/v1/me/preferences").json() == changed.json()
        assert client.get("/api/v1/me").json()["language"] == "en"  # not the remembered one

        kept = client.put("/api/v1/me/preferences", json={"language": "fr"}).json()
        assert (kept["language"], kept["signature"], kept["home_layout"]) == (
            "fr",
            wanted["signature"],
            wanted["home_layout"],
        )
        for invalid in (
            {"home_layout": ["mine", "mine"]},
            {"home_layout": ["weather"]},
            {"language": "de"},
            {"signature": "x" * 2001},
            {"actor": "admin@example.org", "language": "en"},  # one's own only
        ):
            refused = client.put("/api/v1/me/preferences", json=invalid)
            assert refused.status_code == 422, invalid
            assert refused.headers["content-type"] == PROBLEM
        duplicate = client.put("/api/v1/me/preferences", json={"home_layout": ["mine", "mine"]})
        assert "mine twice" in duplicate.json()["detail"]
        assert client.get("/api/v1/me/preferences").json() == kept
    assert httpx.put(f"{WEB}/api/v1/me/preferences", json={"language": "en"}).status_code == 401


def as_sent(content: bytes, filename: str, content_type: str = "application/pdf") -> dict[str, str]:
    return {
        "filename": filename,
        "content_type": content_type,
        "content_b64": base64.b64encode(content).decode("ascii"),
    }


def test_files_sent_in_json_go_on_the_message_download_and_reach_the_requestor(
    api: httpx.Client,
) -> None:
    requestor = f"req-{uuid.uuid4().hex[:8]}@client.example"
    order = make_pdf(["Bon de commande"])
    created = api.post(
        "/api/v1/tickets",
        json={
            "queue": "achats",
            "subject": "Commande avec bon",
            "requestors": [requestor],
            "attachments": [as_sent(order, "bon.pdf")],
        },
    )
    assert created.status_code == 201, created.text
    number = created.json()["ticket"]["id"]
    quote = make_pdf([f"Devis {uuid.uuid4().hex[:6]}"])
    url = f"/api/v1/tickets/{number}/actions"
    reply = {
        "action": "reply",
        "text": "Voici notre devis.",
        "attachments": [as_sent(quote, "C:\\Devis\\devis.pdf")],
    }
    key = {"Idempotency-Key": f"k-{uuid.uuid4().hex}"}
    first = api.post(url, json=reply, headers=key)
    again = api.post(url, json=reply, headers=key)
    assert first.status_code == again.status_code == 200, first.text
    assert first.json()["transaction"] == again.json()["transaction"]

    history = api.get(f"/api/v1/tickets/{number}/history").json()["data"]
    assert [t["type"] for t in history] == ["create", "correspond"]
    [opened_with] = history[0]["message"]["attachments"]
    [replied_with] = history[1]["message"]["attachments"]
    assert replied_with == {
        "filename": "devis.pdf",
        "content_type": "application/pdf",
        "size": len(quote),
        "sha256": hashlib.sha256(quote).hexdigest(),
        "content_id": None,  # a file sent from the web is never shown inline
    }
    assert opened_with["sha256"] == hashlib.sha256(order).hexdigest()
    downloaded = api.get(f"/api/v1/tickets/{number}/attachments/{replied_with['sha256']}")
    assert downloaded.status_code == 200 and downloaded.content == quote

    def mailed_quote() -> bool:
        return any(
            part.get_content() == quote
            for mail in caught_for(requestor)
            for part in mail.iter_attachments()
        )

    wait_until(mailed_quote, 30, "the reply with its file in the requestor's mailbox")


def test_files_out_of_bounds_are_refused_with_a_problem(
    api: httpx.Client,
    ticket: dict,  # type: ignore[type-arg]
) -> None:
    url = f"/api/v1/tickets/{ticket['id']}/actions"
    half = 25 * 1024 * 1024 // 2 + 1
    cases = {
        "too large in all": [as_sent(b"a" * half, "a.bin"), as_sent(b"b" * half, "b.bin")],
        "too many": [as_sent(b"x", f"{n}.txt") for n in range(21)],
        "not base64": [{"filename": "a.pdf", "content_b64": "%PDF pas en base64"}],
        "no name": [{"filename": "", "content_b64": ""}],
    }
    for case, files in cases.items():
        refused = api.post(url, json={"action": "reply", "text": "x", "attachments": files})
        assert refused.status_code == 422, (case, refused.text)
        assert refused.headers["content-type"] == PROBLEM
    on_take = api.post(url, json={"action": "take", "attachments": [as_sent(b"x", "x.txt")]})
    assert on_take.status_code == 422 and "take carries no files" in on_take.json()["detail"]
    history = api.get(f"/api/v1/tickets/{ticket['id']}/history").json()["data"]
    assert [t["type"] for t in history] == ["create"]
    unknown = api.post(
        "/api/v1/tickets/999999999/actions",
        json={"action": "reply", "text": "x", "attachments": [as_sent(b"x", "x.txt")]},
    )
    assert unknown.status_code == 404
    assert httpx.post(f"{WEB}{url}", json={"action": "reply", "text": "x"}).status_code == 401
