"""Administration over the REST API against the running stack: queues, notification rules
and templates, users, rights — and who may not."""

from __future__ import annotations

import uuid

import httpx

from tests.e2e.conftest import WEB
from tests.e2e.test_api import PROBLEM, user_with_password


def queue_body(name: str) -> dict:  # type: ignore[type-arg]
    return {
        "correspond_address": f"{name}@tickets.example.org",
        "comment_address": f"{name}-comment@tickets.example.org",
        "description": "Travaux et entretien",
        "custom_fields": [{"name": "Bâtiment", "type": "select", "values": ["A", "B"]}],
        "admin_ccs": ["chef@example.org"],
    }


def test_queues_are_created_listed_and_refused_to_others(api: httpx.Client) -> None:
    name = f"q{uuid.uuid4().hex[:8]}"
    created = api.put(f"/api/v1/queues/{name}", json=queue_body(name))
    assert created.status_code == 200, created.text
    listed = {q["name"]: q for q in api.get("/api/v1/queues").json()}
    assert listed[name]["custom_fields"][0]["values"] == ["A", "B"]
    assert listed[name]["admin_ccs"] == ["chef@example.org"]
    assert "achats" in listed

    taken = api.put(f"/api/v1/queues/other{name}", json=queue_body(name))
    assert taken.status_code == 409 and taken.headers["content-type"] == PROBLEM
    assert api.put(f"/api/v1/queues/{name}", json={"comment_address": "x"}).status_code == 422
    assert api.put("/api/v1/queues/bad name!", json=queue_body(name)).status_code in (404, 422)

    email, password = user_with_password()
    with httpx.Client(base_url=WEB, auth=(email, password), timeout=15) as requestor:
        assert requestor.get("/api/v1/queues").json() == []  # no SeeQueue: nothing
        assert requestor.put(f"/api/v1/queues/{name}", json=queue_body(name)).status_code == 403


def test_notification_rules_and_templates_of_a_queue(api: httpx.Client) -> None:
    shown = api.get("/api/v1/queues/achats/notifications")
    assert shown.status_code == 200
    rule = shown.json()["rules"][0]["name"]
    url = f"/api/v1/queues/achats/notifications/rules/{rule}"
    try:
        off = api.put(url, json={"enabled": False})
        assert off.status_code == 200
        rules = {
            r["name"]: r["enabled"]
            for r in api.get("/api/v1/queues/achats/notifications").json()["rules"]
        }
        assert rules[rule] is False
    finally:
        assert api.put(url, json={"enabled": True}).status_code == 200
    assert api.put(
        "/api/v1/queues/achats/notifications/rules/no_such_rule", json={"enabled": True}
    ).status_code in (404, 422)
    template = "/api/v1/queues/achats/notifications/templates/autoreply/en"
    broken = api.put(template, json={"subject": "{{ oops", "body": "x"})
    assert broken.status_code == 422 and broken.headers["content-type"] == PROBLEM
    assert api.delete(template).status_code == 200


def test_users_rights_and_groups(api: httpx.Client) -> None:
    email = f"agent-{uuid.uuid4().hex[:8]}@example.org"
    group = f"g{uuid.uuid4().hex[:6]}"
    put = api.put(
        f"/api/v1/users/{email}",
        json={
            "name": "Agent",
            "password": "un-mot-de-passe",
            "privileged": True,
            "groups": [group],
        },
    )
    assert put.status_code == 200
    details = api.get(f"/api/v1/users/{email}").json()
    assert (details["groups"], details["has_password"], details["privileged"]) == (
        [group],
        True,
        True,
    )
    assert api.get("/api/v1/users/nobody-here@example.org").status_code == 404

    right = {"right": "ShowTicket", "kind": "group", "name": group, "queue": "achats"}
    assert api.post("/api/v1/rights", json=right).status_code == 201
    assert right in api.get("/api/v1/rights").json()
    assert api.post("/api/v1/rights", json=right).status_code == 409
    assert api.post("/api/v1/rights", json={**right, "right": "Fly"}).status_code == 422
    assert api.post("/api/v1/rights/revoke", json=right).status_code == 204
    assert api.post("/api/v1/rights/revoke", json=right).status_code == 404

    with httpx.Client(base_url=WEB, auth=(email, "un-mot-de-passe"), timeout=15) as agent:
        assert agent.get(f"/api/v1/users/{email}").json()["email"] == email  # oneself
        assert agent.get("/api/v1/users/admin@example.org").status_code == 403
        assert agent.get("/api/v1/rights").status_code == 403
        assert agent.post("/api/v1/rights", json={**right, "queue": None}).status_code == 403
        assert agent.put(f"/api/v1/users/{email}", json={"is_admin": True}).status_code == 403


def test_users_are_searched_and_paged_for_administrators(api: httpx.Client) -> None:
    tag = uuid.uuid4().hex[:8]
    emails = [f"{letter}-{tag}@example.org" for letter in "cab"]
    for email in emails:
        put = api.put(f"/api/v1/users/{email}", json={"name": f"Zoé {tag}", "groups": ["g"]})
        assert put.status_code == 200, put.text

    first = api.get("/api/v1/users", params={"q": tag, "limit": 2})
    assert first.status_code == 200, first.text
    assert first.json()["count"] == 3
    assert [u["email"] for u in first.json()["data"]] == sorted(emails)[:2]  # by address
    rest = api.get("/api/v1/users", params={"q": tag, "limit": 2, "offset": 2}).json()
    assert [u["email"] for u in rest["data"]] == sorted(emails)[2:]
    by_name = api.get("/api/v1/users", params={"q": f"ZOE {tag}"}).json()  # case, accents
    assert by_name["count"] == 3 and by_name["data"][0]["name"] == f"Zoé {tag}"
    assert api.get("/api/v1/users", params={"q": f"none-{tag}"}).json() == {"data": [], "count": 0}
    assert api.get("/api/v1/users").json()["count"] >= 4  # every user: the admin and these

    for bad in ({"limit": 0}, {"limit": 501}, {"offset": -1}, {"q": "x" * 321}):
        refused = api.get("/api/v1/users", params=bad)
        assert refused.status_code == 422 and refused.headers["content-type"] == PROBLEM, bad


def test_groups_list_their_members_for_administrators(api: httpx.Client) -> None:
    group = f"g{uuid.uuid4().hex[:8]}"
    members = sorted(f"m{i}-{group}@example.org" for i in range(2))
    for email in members:
        assert api.put(f"/api/v1/users/{email}", json={"groups": [group]}).status_code == 200
    listed = api.get("/api/v1/groups")
    assert listed.status_code == 200
    groups = {g["name"]: g["members"] for g in listed.json()}
    assert groups[group] == members
    assert list(groups) == sorted(groups)

    assert api.put(f"/api/v1/users/{members[0]}", json={"groups": []}).status_code == 200
    groups = {g["name"]: g["members"] for g in api.get("/api/v1/groups").json()}
    assert groups[group] == members[1:]


def test_users_and_groups_are_refused_to_strangers_and_agents() -> None:
    with httpx.Client(base_url=WEB, timeout=15) as anonymous:
        for url in ("/api/v1/users", "/api/v1/groups"):
            refused = anonymous.get(url)
            assert refused.status_code == 401 and refused.headers["content-type"] == PROBLEM
    email, password = user_with_password(privileged=True)
    with httpx.Client(base_url=WEB, auth=(email, password), timeout=15) as agent:
        for url in ("/api/v1/users", "/api/v1/users?q=admin", "/api/v1/groups"):
            refused = agent.get(url)
            assert refused.status_code == 403 and refused.headers["content-type"] == PROBLEM
