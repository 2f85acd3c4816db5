"""The administration pages: forms read into RPC models (pure), finding users and groups
(pure, in the tickets service), and the pages in-process against faked services — who may
see them, what each form asks of the services, CSRF."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from typing import Any, cast

import httpx
import pytest
from pydantic import ValidationError
from starlette.datastructures import FormData

from services.tickets.domain import rights as ticket_rights
from services.tickets.domain.directory import folded, members_by_group, user_matches
from services.web.ui import admin
from services.web.ui.app import build_ui
from services.web.ui.live import LiveHub
from services.web.ui.session import COOKIE_NAME, SessionCodec, new_session
from services.web.ui.web import Ui
from shared.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from shared.messaging import RpcClient
from shared.rpc import notify
from shared.rpc import tickets as rpc

pytestmark = pytest.mark.unit

ADMIN = "chef@example.org"
AGENT = "agent@example.org"


def form(*pairs: tuple[str, str]) -> FormData:
    return FormData(list(pairs))


QUEUE_PAIRS = [
    ("correspond_address", " travaux@tickets.example.org "),
    ("comment_address", "travaux-comment@tickets.example.org"),
    ("language", "en"),
    ("description", "Travaux et entretien"),
    ("cf_name_0", "Bâtiment"),
    ("cf_type_0", "select"),
    ("cf_values_0", "A, B, ,A"),
    ("cf_name_1", ""),  # an emptied row: the field goes
    ("cf_type_1", "text"),
    ("cf_name_10", "Échéance fournisseur"),
    ("cf_type_10", "date"),
    ("cf_values_10", "ignored"),
    ("cf_name_2", "DEM LOG"),
    ("cf_type_2", "text"),
    ("ccs", "compta@example.org\nchef@example.org, compta@example.org"),
    ("admin_ccs", ""),
    ("ccs_from_replies", "on"),
    ("unknown_sender", "comment"),
]
QUEUE_FORM = form(*QUEUE_PAIRS)


# --- forms to models --------------------------------------------------------------------
def test_a_queue_form_becomes_the_whole_queue() -> None:
    change = admin.queue_change(ADMIN, "travaux", QUEUE_FORM)
    assert change.actor == ADMIN and change.name == "travaux"
    assert change.correspond_address == "travaux@tickets.example.org"
    assert change.language == "en" and change.description == "Travaux et entretien"
    assert [(f.name, f.type, f.values) for f in change.custom_fields] == [
        ("Bâtiment", "select", ("A", "B")),
        ("DEM LOG", "text", ()),
        ("Échéance fournisseur", "date", ()),  # rows in the order of their number
    ]
    assert change.ccs == ("compta@example.org", "chef@example.org")
    assert change.admin_ccs == ()
    # An unticked box is off, even one whose default is on.
    assert (change.ccs_from_create, change.ccs_from_replies) == (False, True)
    assert change.unknown_sender == "comment"
    assert change.commands_need_authentication is False


@pytest.mark.parametrize(
    "changed",
    [("language", "de"), ("unknown_sender", "drop"), ("cf_type_0", "number")],
)
def test_a_queue_form_with_a_value_out_of_its_choices_is_refused(
    changed: tuple[str, str],
) -> None:
    pairs = [(k, v) for k, v in QUEUE_PAIRS if k != changed[0]] + [changed]
    with pytest.raises(ValidationError):
        admin.queue_change(ADMIN, "travaux", form(*pairs))


def test_a_queue_name_out_of_its_pattern_is_refused() -> None:
    with pytest.raises(ValidationError):
        admin.queue_change(ADMIN, "bad name!", QUEUE_FORM)


def test_addresses_and_names_are_split_and_kept_once_in_order() -> None:
    assert admin.addresses(" a@x.org;b@x.org\r\n a@x.org ,, c@x.org ") == (
        "a@x.org",
        "b@x.org",
        "c@x.org",
    )
    assert admin.addresses("") == ()
    assert admin.names("acheteurs, validateurs ,acheteurs,, ") == ("acheteurs", "validateurs")
    with pytest.raises(InvalidInputError):
        admin.addresses(" ".join(f"u{i}@x.org" for i in range(admin.MAX_ADDRESSES + 1)))
    with pytest.raises(InvalidInputError):
        admin.names("x" * (admin.MAX_GROUP_NAME + 1))


def test_a_user_form_becomes_the_whole_user() -> None:
    change = admin.user_change(
        ADMIN,
        "nouveau@example.org",
        form(("name", " Léa Martin "), ("groups", "acheteurs, validateurs"), ("password", "")),
    )
    assert change.email == "nouveau@example.org" and change.name == "Léa Martin"
    assert change.password is None  # left empty: their password stays
    assert (change.privileged, change.is_admin, change.language) == (False, False, "fr")
    assert change.groups == ("acheteurs", "validateurs")
    boss = admin.user_change(
        ADMIN, "b@example.org", form(("is_admin", "on"), ("password", "assez-long"))
    )
    assert boss.is_admin and boss.privileged  # an administrator is an agent
    assert boss.password == "assez-long"


def test_a_short_password_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="password"):
        admin.user_change(ADMIN, "b@example.org", form(("password", "court")))


def test_an_administrator_may_not_take_their_own_right_away() -> None:
    with pytest.raises(InvalidInputError, match="own administration"):
        admin.user_change(ADMIN, "Chef@Example.org", form(("privileged", "on")))
    kept = admin.user_change(ADMIN, ADMIN, form(("is_admin", "on")))
    assert kept.is_admin


def test_joining_or_leaving_a_group_keeps_the_rest_of_the_user() -> None:
    user = rpc.UserDetails(
        email="lea@example.org",
        name="Léa",
        privileged=True,
        language="en",
        groups=("acheteurs",),
        has_password=True,
    )
    joined = admin.membership_change(ADMIN, user, " validateurs ", member=True)
    assert joined.groups == ("acheteurs", "validateurs")
    assert (joined.name, joined.privileged, joined.language, joined.password) == (
        "Léa",
        True,
        "en",
        None,  # never a password: theirs stays
    )
    assert admin.membership_change(ADMIN, user, "acheteurs", member=True).groups == ("acheteurs",)
    assert admin.membership_change(ADMIN, user, "acheteurs", member=False).groups == ()
    with pytest.raises(InvalidInputError):
        admin.membership_change(ADMIN, user, "  ", member=True)


def test_a_grant_form_names_its_principal_and_queue() -> None:
    group = admin.grant_change(
        ADMIN, form(("right", "ShowTicket"), ("kind", "group"), ("name", "g1"), ("queue", "achats"))
    )
    assert (group.right, group.kind, group.name, group.queue) == (
        "ShowTicket",
        "group",
        "g1",
        "achats",
    )
    everyone = admin.grant_change(
        ADMIN, form(("right", "CreateTicket"), ("kind", "everyone"), ("name", "x"), ("queue", ""))
    )
    assert (everyone.name, everyone.queue) == ("", None)  # no name; every queue
    with pytest.raises(ValidationError):
        admin.grant_change(ADMIN, form(("right", "ShowTicket"), ("kind", "robot")))


def test_the_pages_offer_the_principal_kinds_the_tickets_service_knows() -> None:
    # (the rights and roles are one list, in shared/rpc/tickets.py, for both)
    assert ticket_rights.RIGHTS is rpc.RIGHTS and ticket_rights.ROLES is rpc.ROLES
    assert [k for k, _ in admin.PRINCIPAL_KINDS] == [
        "everyone",
        "privileged",
        "group",
        "role",
        "user",
    ]


# --- finding users, groups (the tickets service's pure part) ----------------------------
@pytest.mark.parametrize(
    ("query", "found"),
    [
        (None, True),
        ("  ", True),
        ("helene", True),
        ("HÉLÈNE", True),
        ("achats.example", True),
        ("Dupont", True),
        ("martin", False),
    ],
)
def test_a_user_is_found_by_a_piece_of_address_or_name(query: str | None, found: bool) -> None:
    assert user_matches(query, "helene.d@achats.example.org", "Hélène Dupont") is found


def test_folding_drops_case_and_accents() -> None:
    assert folded("Élodie Ç") == "elodie c"


def test_groups_are_gathered_from_their_members() -> None:
    assert members_by_group(
        [
            ("b@x.org", ["validateurs", "acheteurs"]),
            ("a@x.org", ["acheteurs", " "]),
            ("c@x.org", []),
            ("a@x.org", ["acheteurs"]),
        ]
    ) == {"acheteurs": ["a@x.org", "b@x.org"], "validateurs": ["b@x.org"]}


# --- the pages, in-process ---------------------------------------------------------------
QUEUE = rpc.QueuePublic(
    name="achats",
    correspond_address="achats@tickets.example.org",
    comment_address="achats-comment@tickets.example.org",
    custom_fields=(rpc.CustomFieldSpec(name="Fournisseur", type="select", values=("A", "B")),),
    admin_ccs=("chef.achats@example.org",),
).model_dump()
NOTIFICATIONS = notify.QueueNotifications(
    queue="achats",
    notify_actor=False,
    rules=(
        notify.RulePublic(
            name="on_create_autoreply",
            description="Autoreply to requestors",
            template="autoreply",
            enabled=True,
            default_enabled=True,
        ),
    ),
    templates=(
        notify.TemplatePublic(
            name="autoreply",
            language="fr",
            subject="Bien reçu : {{ ticket.subject }}",
            body="Bonjour <b>{{ tag }}</b>",
            customised=True,
        ),
    ),
    variables=("tag",),
).model_dump()


class FakeServices:
    """The tickets and notify services as the pages meet them; every call is kept."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def call(self, name: str, payload: dict[str, Any]) -> Any:
        self.calls.append((name, payload))
        if name == rpc.GET_USER:
            email = payload["email"]
            if email.startswith("nobody"):
                raise NotFoundError(f"no user {email}")
            return rpc.UserDetails(
                email=email,
                name="Léa <script>",
                privileged=True,
                is_admin=email == ADMIN,
                groups=("acheteurs",),
            ).model_dump()
        if payload.get("actor") != ADMIN:  # as the services answer a non-administrator
            raise PermissionDeniedError("not a system administrator", right="SuperUser")
        answers: dict[str, Any] = {
            rpc.LIST_QUEUES: [QUEUE],
            notify.QUEUE_SETTINGS: NOTIFICATIONS,
            rpc.LIST_USERS: {
                "total": 120,
                "items": [rpc.UserDetails(email=AGENT, groups=("acheteurs",)).model_dump()],
            },
            rpc.GROUPS: [{"name": "acheteurs", "members": [AGENT, ADMIN]}],
            rpc.ADMIN_LIST_GRANTS: [
                {"right": "ShowTicket", "kind": "role", "name": "Requestor", "queue": None},
                {"right": "ShowTicket", "kind": "group", "name": "acheteurs", "queue": "achats"},
            ],
            rpc.ADMIN_UPSERT_USER: {"email": payload.get("email", "").lower()},
        }
        return answers.get(name, {})

    def last(self, name: str) -> dict[str, Any]:
        return [payload for called, payload in self.calls if called == name][-1]


@pytest.fixture
def services() -> FakeServices:
    return FakeServices()


async def _client(services: FakeServices, email: str, language: str = "fr") -> httpx.AsyncClient:
    codec = SessionCodec("un-secret-de-test", 3600)
    ui = Ui(rpc=cast(RpcClient, services), codec=codec, secure_cookies=False)
    session = new_session(email, language, time.time())
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=build_ui(ui, LiveHub("amqp://unused"))),
        base_url="http://testserver",
        cookies={COOKIE_NAME: codec.encode(session)},
    )
    client.headers["x-test-csrf"] = session.csrf
    return client


@pytest.fixture
async def as_admin(services: FakeServices) -> AsyncIterator[httpx.AsyncClient]:
    async with await _client(services, ADMIN) as client:
        yield client


PAGES = [
    "/admin",
    "/admin/queues",
    "/admin/queues/achats",
    "/admin/users",
    "/admin/users?q=lea&offset=50",
    f"/admin/users/{AGENT}",
    "/admin/groups",
    "/admin/rights",
]
POSTS = [
    "/admin/queues",
    "/admin/queues/achats",
    "/admin/queues/achats/rules/on_create_autoreply",
    "/admin/queues/achats/options",
    "/admin/queues/achats/templates/autoreply/fr",
    "/admin/queues/achats/templates/autoreply/fr/reset",
    "/admin/users",
    f"/admin/users/{AGENT}",
    "/admin/groups/members",
    "/admin/groups/members/remove",
    "/admin/rights/grant",
    "/admin/rights/revoke",
]


@pytest.mark.parametrize("language", ["fr", "en"])
async def test_every_page_shows_to_an_administrator_escaped_and_labelled(
    services: FakeServices, language: str
) -> None:
    async with await _client(services, ADMIN, language) as client:
        for url in PAGES:
            answer = await client.get(url)
            assert answer.status_code == 200, (url, answer.text[:500])
            text = answer.text
            assert f'<html lang="{language}">' in text
            assert "<script>" not in text.replace('<script src="/static/app.js" defer>', "")
            assert "admin." not in text.replace("/admin", ""), url  # no key left untranslated
            assert text.count('method="post"') == text.count('name="csrf"'), url
            for input_id in re.findall(r'<(?:input|select|textarea) id="([^"]+)"', text):
                assert f'for="{input_id}"' in text, (url, input_id)  # each one labelled


async def test_the_queue_page_shows_its_fields_watchers_rules_and_templates(
    as_admin: httpx.AsyncClient,
) -> None:
    text = (await as_admin.get("/admin/queues/achats")).text
    assert 'value="Fournisseur"' in text and 'value="A, B"' in text
    assert "chef.achats@example.org" in text
    assert "on_create_autoreply" in text and "Désactiver" in text
    assert "Bonjour &lt;b&gt;{{ tag }}&lt;/b&gt;" in text  # the template's text, escaped
    assert 'action="/admin/queues/achats/templates/autoreply/fr/reset"' in text


async def test_a_missing_queue_or_user_is_a_not_found_page(as_admin: httpx.AsyncClient) -> None:
    missing = await as_admin.get("/admin/queues/nulle-part")
    assert missing.status_code == 404 and "nulle-part" in missing.text
    nobody = await as_admin.get("/admin/users/nobody@example.org")
    assert nobody.status_code == 404 and "nobody@example.org" in nobody.text


async def test_the_users_page_asks_for_a_page_of_the_search(
    services: FakeServices, as_admin: httpx.AsyncClient
) -> None:
    text = (await as_admin.get("/admin/users?q=%20lea%20&offset=50")).text
    assert services.last(rpc.LIST_USERS) == {
        "actor": ADMIN,
        "q": "lea",
        "limit": admin.PAGE_SIZE,
        "offset": 50,
    }
    assert "120 utilisateur(s)" in text
    assert 'href="/admin/users?q=%20lea%20&amp;offset=0"' in text
    assert 'href="/admin/users?q=%20lea%20&amp;offset=100"' in text


async def _post(client: httpx.AsyncClient, url: str, **fields: str) -> httpx.Response:
    return await client.post(url, data={"csrf": client.headers["x-test-csrf"], **fields})


async def test_the_forms_ask_the_services_and_send_back_to_the_page(
    services: FakeServices, as_admin: httpx.AsyncClient
) -> None:
    created = await _post(
        as_admin,
        "/admin/queues",
        name="travaux",
        **dict(QUEUE_PAIRS),
    )
    assert created.status_code == 303 and created.headers["location"] == "/admin/queues/travaux"
    upsert = services.last(rpc.ADMIN_UPSERT_QUEUE)
    assert upsert["name"] == "travaux" and upsert["actor"] == ADMIN
    assert upsert["custom_fields"][0]["values"] == ("A", "B")

    taken = await _post(as_admin, "/admin/queues", name="achats", **dict(QUEUE_PAIRS))
    assert taken.status_code == 409  # the new-queue form never overwrites a queue

    switched = await _post(as_admin, "/admin/queues/achats/rules/on_create_autoreply", enabled="0")
    assert switched.status_code == 303
    assert services.last(notify.SET_RULE)["enabled"] is False

    saved = await _post(
        as_admin,
        "/admin/queues/achats/templates/autoreply/en",
        subject=" Got it ",
        body="Hello\r\n{{ tag }}",
    )
    assert saved.headers["location"] == "/admin/queues/achats#template-autoreply-en"
    template = services.last(notify.SET_TEMPLATE)
    assert (template["subject"], template["body"], template["language"]) == (
        "Got it",
        "Hello\n{{ tag }}",
        "en",
    )

    user = await _post(
        as_admin, "/admin/users", email="nobody-yet@example.org", name="N", groups="g1"
    )
    assert user.headers["location"] == "/admin/users/nobody-yet@example.org"
    assert services.last(rpc.ADMIN_UPSERT_USER)["groups"] == ("g1",)
    exists = await _post(as_admin, "/admin/users", email=AGENT, name="N")
    assert exists.status_code == 409  # the new-user form never overwrites a user

    joined = await _post(as_admin, "/admin/groups/members", group="validateurs", email=AGENT)
    assert joined.headers["location"] == "/admin/groups"
    member = services.last(rpc.ADMIN_UPSERT_USER)
    assert member["groups"] == ("acheteurs", "validateurs") and member["password"] is None
    unknown = await _post(as_admin, "/admin/groups/members", group="g", email="nobody@x.org")
    assert unknown.status_code == 404

    granted = await _post(
        as_admin, "/admin/rights/grant", right="ShowTicket", kind="group", name="g1", queue=""
    )
    assert granted.headers["location"] == "/admin/rights"
    assert services.last(rpc.ADMIN_GRANT) == {
        "actor": ADMIN,
        "right": "ShowTicket",
        "kind": "group",
        "name": "g1",
        "queue": None,
    }
    bad = await _post(as_admin, "/admin/rights/revoke", right="ShowTicket", kind="robot")
    assert bad.status_code == 422


async def test_a_non_administrator_is_refused_every_page_and_form(
    services: FakeServices,
) -> None:
    async with await _client(services, AGENT) as agent:
        for url in PAGES:
            assert (await agent.get(url)).status_code == 403, url
        for url in POSTS:
            assert (await _post(agent, url, name="x", email=AGENT)).status_code == 403, url
    asked = {name for name, _ in services.calls}
    assert asked == {rpc.GET_USER}  # refused before anything was asked or changed


async def test_a_form_without_the_sessions_csrf_token_is_refused(
    services: FakeServices, as_admin: httpx.AsyncClient
) -> None:
    for url in POSTS:
        answer = await as_admin.post(url, data={"name": "x", "csrf": "forged"})
        assert answer.status_code == 403, url
    changes = {rpc.ADMIN_UPSERT_QUEUE, rpc.ADMIN_UPSERT_USER, rpc.ADMIN_GRANT, notify.SET_RULE}
    assert not changes & {name for name, _ in services.calls}
