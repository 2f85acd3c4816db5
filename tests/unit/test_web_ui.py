"""The web interface's pure parts: signed session cookies, login throttling, how mail is
shown (folds, inert HTML), SVG charts, the FR/EN catalogs and where a login may send back."""

from __future__ import annotations

import base64
import contextlib
import json
import re
import string
import time
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, cast

import httpx
import pytest

from services.web.ui import charts, display, i18n, live, pages
from services.web.ui.app import build_ui
from services.web.ui.live import LiveHub, Subscriber
from services.web.ui.session import (
    COOKIE_NAME,
    Session,
    SessionCodec,
    anonymous,
    csrf_matches,
    new_session,
)
from services.web.ui.throttle import LoginThrottle
from services.web.ui.web import Ui, live_user, safe_target
from shared.errors import PermissionDeniedError
from shared.lru import Lru
from shared.mail.html_sanitizer import sanitize_html
from shared.messaging import RpcClient
from shared.rpc import tickets as rpc

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
UI = ROOT / "services" / "web" / "ui"
TEMPLATES = ROOT / "services" / "web" / "templates"
XSS_CORPUS = sorted((ROOT / "tests" / "fixtures" / "xss").glob("*.html"))
NOW = 1_800_000_000.0
HOUR = 3600.0


# --- session cookies --------------------------------------------------------------------
@pytest.fixture
def codec() -> SessionCodec:
    return SessionCodec("un-secret-de-test", max_age=12 * HOUR)


def _body(cookie: str) -> dict[str, object]:
    body = cookie.split(".")[0]
    decoded: dict[str, object] = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return decoded


def _with_body(cookie: str, data: dict[str, object]) -> str:
    body = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{body}.{cookie.split('.')[1]}"


def test_a_session_survives_its_cookie(codec: SessionCodec) -> None:
    session = new_session("agent@example.org", "en", NOW, epoch=3)
    assert codec.decode(codec.encode(session), NOW + 60) == session
    assert session.epoch == 3
    visitor = anonymous("en")
    assert codec.decode(codec.encode(visitor), NOW) == visitor


def test_a_cookie_signed_with_another_secret_is_refused(codec: SessionCodec) -> None:
    forged = SessionCodec("un-autre-secret", 12 * HOUR).encode(
        new_session("admin@example.org", "fr", NOW)
    )
    assert codec.decode(forged, NOW) is None


@pytest.mark.parametrize(
    "change",
    [
        {"e": "admin@example.org"},  # someone else
        {"c": "chosen-by-the-attacker"},  # a CSRF token fixed in advance
        {"i": NOW + 11 * HOUR},  # a longer life
    ],
)
def test_a_tampered_cookie_is_refused(codec: SessionCodec, change: dict[str, object]) -> None:
    cookie = codec.encode(new_session("agent@example.org", "fr", NOW))
    assert codec.decode(_with_body(cookie, {**_body(cookie), **change}), NOW) is None


def test_a_flipped_signature_byte_is_refused(codec: SessionCodec) -> None:
    cookie = codec.encode(new_session("agent@example.org", "fr", NOW))
    body, signature = cookie.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert codec.decode(f"{body}.{flipped}", NOW) is None
    assert codec.decode(f"{body}.", NOW) is None
    assert codec.decode(f"{body}.{signature}.{signature}", NOW) is None


@pytest.mark.parametrize("cookie", [None, "", ".", "abc", "a.b", "..", "é.é"])
def test_malformed_cookies_are_refused(codec: SessionCodec, cookie: str | None) -> None:
    assert codec.decode(cookie, NOW) is None


def test_a_well_signed_body_that_is_not_a_session_is_refused(codec: SessionCodec) -> None:
    for data in (b"not json", b"[1, 2]", b'{"e": "x"}', b'{"e":"x","c":"y","l":"fr","i":"z"}'):
        body = base64.urlsafe_b64encode(data).rstrip(b"=")
        signed = f"{body.decode()}.{codec._sign(body).decode()}"  # signed as if by us
        assert codec.decode(signed, NOW) is None


def test_an_expired_or_future_session_is_refused(codec: SessionCodec) -> None:
    cookie = codec.encode(new_session("agent@example.org", "fr", NOW))
    assert codec.decode(cookie, NOW + 12 * HOUR) is not None
    assert codec.decode(cookie, NOW + 12 * HOUR + 1) is None
    assert codec.decode(cookie, NOW - 60) is None  # issued "in the future"


def test_an_oversized_cookie_is_refused_even_when_well_signed(codec: SessionCodec) -> None:
    big = codec.encode(new_session("a" * 4000 + "@example.org", "fr", NOW))
    assert len(big) > 4096
    assert codec.decode(big, NOW) is None


def test_an_unknown_language_falls_back_to_french(codec: SessionCodec) -> None:
    session = Session(email="agent@example.org", csrf="c", language="de", issued=NOW)
    decoded = codec.decode(codec.encode(session), NOW)
    assert decoded is not None and decoded.language == "fr"
    assert new_session("agent@example.org", "xx", NOW).language == "fr"


def test_each_login_gets_a_fresh_csrf_token() -> None:
    visitor = anonymous()
    sessions = [new_session("agent@example.org", "fr", NOW) for _ in range(20)]
    tokens = {s.csrf for s in sessions}
    assert len(tokens) == 20 and visitor.csrf not in tokens
    assert all(len(token) >= 32 for token in tokens)
    assert all(s.logged_in for s in sessions) and not visitor.logged_in


def test_csrf_matches_only_the_sessions_own_token() -> None:
    session = new_session("agent@example.org", "fr", NOW)
    assert csrf_matches(session, session.csrf)
    assert not csrf_matches(session, session.csrf[:-1])
    assert not csrf_matches(session, session.csrf + "x")
    assert not csrf_matches(session, new_session("agent@example.org", "fr", NOW).csrf)
    assert not csrf_matches(session, "")
    assert not csrf_matches(session, None)
    assert not csrf_matches(Session(email="agent@example.org"), "")  # no token: nothing matches
    assert not csrf_matches(Session(email="agent@example.org"), None)


# --- login throttling -------------------------------------------------------------------
KEYS = ["email:agent@example.org", "client:192.0.2.1"]


def _fail(throttle: LoginThrottle, times: int, now: float, keys: list[str] = KEYS) -> None:
    for _ in range(times):
        throttle.failed(keys, now)


def test_the_allowance_passes_then_a_lock_begins() -> None:
    throttle = LoginThrottle(allowed=5, window=900, lock=30, max_lock=900)
    _fail(throttle, 4, NOW)
    assert throttle.retry_after(KEYS, NOW) == 0
    _fail(throttle, 1, NOW)
    assert throttle.retry_after(KEYS, NOW) == 30
    assert throttle.retry_after(KEYS, NOW + 10) == 20
    assert throttle.retry_after(KEYS, NOW + 31) == 0  # the lock ends


def test_each_failure_past_the_allowance_doubles_the_lock_up_to_its_cap() -> None:
    throttle = LoginThrottle(allowed=5, window=900, lock=30, max_lock=900)
    _fail(throttle, 5, NOW)
    locks = []
    for _ in range(6):
        throttle.failed(KEYS, NOW)
        locks.append(throttle.retry_after(KEYS, NOW))
    assert locks == [60, 120, 240, 480, 900, 900]


def test_old_failures_slide_out_of_the_window() -> None:
    throttle = LoginThrottle(allowed=5, window=900, lock=30, max_lock=900)
    _fail(throttle, 4, NOW)
    _fail(throttle, 1, NOW + 901)  # the four first ones are forgotten
    assert throttle.retry_after(KEYS, NOW + 901) == 0
    _fail(throttle, 3, NOW + 902)
    assert throttle.retry_after(KEYS, NOW + 902) == 0
    _fail(throttle, 1, NOW + 903)  # five within the window
    assert throttle.retry_after(KEYS, NOW + 903) == 30


def test_a_success_forgets_the_failures_of_its_keys() -> None:
    throttle = LoginThrottle(allowed=5, window=900, lock=30, max_lock=900)
    _fail(throttle, 7, NOW)
    assert throttle.retry_after(KEYS, NOW) > 0
    throttle.succeeded(KEYS)
    assert throttle.retry_after(KEYS, NOW) == 0
    _fail(throttle, 4, NOW)
    assert throttle.retry_after(KEYS, NOW) == 0  # counted from zero again


def test_retry_after_is_the_longest_wait_of_any_key() -> None:
    throttle = LoginThrottle(allowed=2, window=900, lock=10, max_lock=900)
    _fail(throttle, 2, NOW, ["email:a@example.org"])
    _fail(throttle, 4, NOW, ["client:192.0.2.9"])
    assert throttle.retry_after(["email:a@example.org"], NOW) == 10
    assert throttle.retry_after(["email:a@example.org", "client:192.0.2.9"], NOW) == 40
    assert throttle.retry_after(["email:b@example.org", "client:192.0.2.10"], NOW) == 0
    assert throttle.retry_after([], NOW) == 0


def test_a_crowd_of_keys_forgets_only_what_has_expired() -> None:
    throttle = LoginThrottle(allowed=1, window=10, lock=5, max_lock=1000, max_keys=3)
    _fail(throttle, 8, NOW, ["email:locked@example.org"])  # locked 640 s
    for n in range(3):
        _fail(throttle, 1, NOW, [f"email:{n}@example.org"])  # locked 5 s
    _fail(throttle, 1, NOW + 100, ["email:new@example.org"])
    assert len(throttle._records) == 2  # memory stays bounded: the expired ones went
    assert throttle.retry_after(["email:locked@example.org"], NOW + 100) == 540


# --- text folds -------------------------------------------------------------------------
TEXT = "Bonjour,\nVoici le devis.\n> ancien message\n> suite\n-- \nAlice\n"
QUOTE_START, SIGNATURE_START = TEXT.index("> ancien"), TEXT.index("-- ")
QUOTE: dict[str, Any] = {"start": QUOTE_START, "end": SIGNATURE_START, "kind": "quote"}
SIGNATURE: dict[str, Any] = {"start": SIGNATURE_START, "end": len(TEXT), "kind": "signature"}


def test_folds_cut_the_text_into_body_quote_and_signature() -> None:
    segments = display.text_segments(TEXT, [SIGNATURE, QUOTE])  # in any order
    assert [s.kind for s in segments] == ["body", "quote", "signature"]
    assert "".join(s.text for s in segments) == TEXT
    assert segments[1].text.startswith("> ancien")


@dataclass
class Fold:
    start: int
    end: int
    kind: str


def test_folds_may_be_objects() -> None:
    segments = display.text_segments(TEXT, (Fold(QUOTE["start"], QUOTE["end"], "quote"),))
    assert [s.kind for s in segments] == ["body", "quote", "body"]


@pytest.mark.parametrize(
    "folds",
    [
        [QUOTE, {"start": QUOTE["start"] + 3, "end": len(TEXT), "kind": "signature"}],  # overlap
        [QUOTE, dict(QUOTE)],  # the same fold twice
        [QUOTE, {"start": 5, "end": len(TEXT) + 10, "kind": "signature"}],  # past the end
        [QUOTE, {"start": -5, "end": 3, "kind": "quote"}],  # before the start
        [QUOTE, {"start": 8, "end": 8, "kind": "quote"}],  # empty
        [QUOTE, {"start": 9, "end": 4, "kind": "quote"}],  # reversed
        [QUOTE, {"start": SIGNATURE["start"], "end": len(TEXT), "kind": "<script>"}],  # kind
    ],
)
def test_overlapping_out_of_range_or_odd_folds_are_ignored(
    folds: list[dict[str, object]],
) -> None:
    segments = display.text_segments(TEXT, folds)
    assert "".join(s.text for s in segments) == TEXT  # nothing lost, nothing twice
    assert [s.kind for s in segments] == ["body", "quote", "body"]


def test_a_text_without_folds_is_one_body_and_blank_parts_are_dropped() -> None:
    assert display.text_segments("Bonjour", []) == [display.Segment("body", "Bonjour")]
    assert display.text_segments("", []) == [display.Segment("body", "")]
    whole = display.text_segments("\n> cité\n", [{"start": 1, "end": 8, "kind": "quote"}])
    assert [s.kind for s in whole] == ["quote"]


# --- mail HTML shown inert --------------------------------------------------------------
class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


def elements(markup: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(markup)
    parser.close()
    return parser.found


OUR_FILE = re.compile(r"/t/[0-9]+/files/[0-9a-f]{64}")


def assert_inert(markup: str) -> None:
    """Only the allowed elements, no handler, style, outside source or dangerous link."""
    for tag, attrs in elements(markup):
        assert tag in display.ALLOWED_TAGS | {"span"}, tag
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            if name == "src":  # an image of the message itself, from our files route
                assert tag == "img" and OUR_FILE.fullmatch(value or ""), value
                continue
            assert name not in ("style", "srcset", "action", "formaction", "id", "name")
            assert name not in ("background", "poster", "xlink:href", "srcdoc", "ping")
            if name == "href":
                assert (value or "").startswith(("http://", "https://", "mailto:")), value
        if tag == "span":
            assert attrs == {"class": "blocked-image"}


@pytest.mark.parametrize(
    ("hostile", "gone"),
    [
        ("<script>window.__xss=1</script><p>ok</p>", "__xss"),
        ("<svg><script>window.__xss=1</script></svg>", "__xss"),
        ('<img src="x" onerror="window.__xss=1">', "onerror"),
        ('<p onclick="steal()" onmouseover="steal()">ok</p>', "steal"),
        ('<body onload="steal()"><p>ok</p></body>', "onload"),
        ('<a href="javascript:steal()">lien</a>', "javascript"),
        ('<a href=" JaVaScRiPt:steal()">lien</a>', "script"),
        ('<a href="jav&#x09;ascript:steal()">lien</a>', "script"),
        ('<a href="data:text/html,x">lien</a>', "data:"),
        ('<a href="vbscript:steal()">lien</a>', "vbscript"),
        ('<p style="background:url(https://t.example/p)">x</p>', "style"),
        ("<style>body{background:url(https://t.example/p)}</style><p>x</p>", "t.example"),
        ("<iframe src='https://evil.example'></iframe>", "iframe"),
        ('<iframe srcdoc="&lt;script&gt;x&lt;/script&gt;"></iframe>', "srcdoc"),
        ("<object data='x.swf'></object><embed src='x.svg'>", "x."),
        ("<form action='https://evil.example'><input name=password></form>", "form"),
        ('<button formaction="javascript:steal()">x</button>', "formaction"),
        ('<svg onload="steal()"><circle r="1"/></svg>', "svg"),
        ("<math><mtext><table><mglyph><style><img src=x onerror=steal()>", "onerror"),
        ('<meta http-equiv="refresh" content="0;url=https://evil.example">', "refresh"),
        ('<base href="https://evil.example/">', "base"),
        ('<link rel="stylesheet" href="https://evil.example/a.css">', "link"),
        ('<img id="__xss" name="getElementById">', "__xss"),
        ("<title>XSS</title><p>ok</p>", "XSS"),
        ('<table background="https://t.example/bg.png"><tr><td>x</td></tr></table>', "t.example"),
    ],
)
def test_hostile_markup_is_made_inert(hostile: str, gone: str) -> None:
    shown = display.safe_html(hostile, "image bloquée")
    assert gone.lower() not in shown.lower()
    assert_inert(shown)


@pytest.mark.parametrize("path", XSS_CORPUS, ids=[p.name for p in XSS_CORPUS])
def test_every_hostile_mail_of_the_corpus_is_shown_inert(path: Path) -> None:
    markup = path.read_text(encoding="utf-8")
    assert_inert(display.safe_html(markup, "image bloquée"))
    assert_inert(display.safe_html(sanitize_html(markup), "image bloquée"))  # as stored


def test_the_xss_corpus_is_large_enough() -> None:
    assert len(XSS_CORPUS) >= 25


def test_outside_images_are_blocked_and_marked() -> None:
    shown = display.safe_html(
        '<p>Logo <img src="https://tracker.example/open.gif?u=42" alt="Logo ACME" width="1">'
        ' et <img srcset="https://tracker.example/b.png 2x"></p>',
        "image <bloquée>",
    )
    assert "tracker.example" not in shown
    assert shown.count('<span class="blocked-image">[image &lt;bloquée&gt;]</span>') == 2
    images = [attrs for tag, attrs in elements(shown) if tag == "img"]
    assert len(images) == 2 and all("hidden" in attrs and "src" not in attrs for attrs in images)
    assert images[0]["alt"] == "Logo ACME"
    assert_inert(shown)


FILES = [
    {"content_id": "<logo@acme.example>", "content_type": "image/png", "sha256": "a" * 64},
    {"content_id": "plan@acme.example", "content_type": "image/JPEG; x=1", "sha256": "b" * 64},
    {"content_id": "<devis@acme.example>", "content_type": "application/pdf", "sha256": "c" * 64},
    {"content_id": "<vector@acme.example>", "content_type": "image/svg+xml", "sha256": "d" * 64},
    {"content_id": None, "content_type": "image/png", "sha256": "e" * 64},
]


def test_a_messages_own_images_are_named_by_their_content_id() -> None:
    assert display.inline_images(FILES, 7) == {
        "logo@acme.example": f"/t/7/files/{'a' * 64}",
        "plan@acme.example": f"/t/7/files/{'b' * 64}",
    }  # a PDF or an SVG is never an image the page shows; a file without id is not inline


def test_an_image_of_the_message_itself_is_shown_and_any_other_blocked() -> None:
    shown = display.safe_html(
        '<p><img src="cid:logo@acme.example" alt="ACME"> <img src="CID:%3Cplan@ACME.example%3E">'
        ' <img src="cid:devis@acme.example"> <img src="cid:vector@acme.example">'
        ' <img src="cid:unknown@acme.example"> <img src="/t/7/files/' + "a" * 64 + '">'
        ' <img src="https://tracker.example/open.gif" alt="a&quot; src=&quot;x"></p>',
        "image bloquée",
        display.inline_images(FILES, 7),
    )
    images = [attrs for tag, attrs in elements(shown) if tag == "img"]
    assert [i.get("src") for i in images] == [
        f"/t/7/files/{'a' * 64}",
        f"/t/7/files/{'b' * 64}",
        None,
        None,
        None,
        None,  # a path written in the mail is not trusted: only cid: names our files
        None,
    ]
    assert shown.count('class="blocked-image"') == 5
    assert all(("hidden" in i) == ("src" not in i) for i in images)
    assert_inert(shown)


def test_an_alt_text_that_looks_like_a_source_does_not_hide_the_marker() -> None:
    shown = display.safe_html('<img alt="a src=" src="https://tracker.example/p.gif">', "x")
    assert shown.startswith('<span class="blocked-image">[x]</span><img hidden')


def test_mailto_and_web_links_are_kept_with_a_safe_rel() -> None:
    shown = display.safe_html(
        '<p><a href="mailto:ventes@acme.example">écrire</a> '
        '<a href="https://acme.example/devis?id=1&amp;v=2" target="_top">devis</a> '
        '<a href="HTTP://acme.example/">vieux</a></p>',
        "image bloquée",
    )
    links = [attrs for tag, attrs in elements(shown) if tag == "a"]
    assert [a["href"] for a in links] == [
        "mailto:ventes@acme.example",
        "https://acme.example/devis?id=1&v=2",
        "HTTP://acme.example/",
    ]
    assert all(a["rel"] == "noopener noreferrer nofollow" for a in links)
    assert all("target" not in a for a in links)


def test_structure_and_text_stay() -> None:
    shown = display.safe_html(
        "<h2>Devis</h2><table><tr><td colspan=2>3 écrans</td></tr></table>"
        "<blockquote>cité</blockquote><p>1 &lt; 2 &amp; <b>gras</b></p>",
        "image bloquée",
    )
    assert '<td colspan="2">3 écrans</td>' in shown
    assert "<blockquote>cité</blockquote>" in shown and "1 &lt; 2 &amp; <b>gras</b>" in shown


# --- charts -----------------------------------------------------------------------------
HOSTILE_LABEL = "<script>alert(\"x\")</script> & 'quotes' </text><svg onload=x>"


def _svg(markup: str) -> ET.Element:
    root = ET.fromstring(markup)  # noqa: S314 (our own chart) well-formed, or this raises
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    for element in root.iter():
        assert "style" not in element.attrib, element.tag
        assert not any(name.startswith("on") for name in element.attrib), element.tag
        assert element.tag.split("}")[1] in ("svg", "title", "text", "rect", "line")
    return root


def _texts(root: ET.Element) -> list[str]:
    return ["".join(e.itertext()) for e in root.iter() if e.tag.endswith("}text")]


def test_a_bar_chart_is_well_formed_svg_with_escaped_labels() -> None:
    root = _svg(
        charts.bar_chart(
            [charts.Bar(HOSTILE_LABEL, 3), charts.Bar("ouvert", 1234567), charts.Bar("x", 2.5)],
            title=HOSTILE_LABEL,
        )
    )
    assert HOSTILE_LABEL in _texts(root)
    assert "1 234 567" in _texts(root) and "2.5" in _texts(root)
    title = root.find("{http://www.w3.org/2000/svg}title")
    assert title is not None and "".join(title.itertext()) == HOSTILE_LABEL
    _svg(charts.bar_chart([], "vide"))
    _svg(charts.bar_chart([charts.Bar("zéro", 0)], "zéro"))


def test_a_weekly_chart_is_well_formed_svg_with_escaped_labels() -> None:
    weeks = ["2026-W01", HOSTILE_LABEL, "2026-W03"]
    root = _svg(
        charts.weekly_chart(
            weeks,
            [(HOSTILE_LABEL, [1, 2, 3]), ("résolus", [0, 5])],  # a short series too
            HOSTILE_LABEL,
        )
    )
    assert HOSTILE_LABEL in _texts(root) and "2026-W03" in _texts(root)
    _svg(charts.weekly_chart([], [("créés", [])], "vide"))


def test_durations_read_as_minutes_hours_or_days() -> None:
    assert charts.duration(None) == "—"
    assert charts.duration(600) == "10 min"
    assert charts.duration(5400) == "1.5 h"
    assert charts.duration(3 * 86400, "fr") == "3.0 j"
    assert charts.duration(3 * 86400, "en") == "3.0 d"


# --- the catalogs -----------------------------------------------------------------------
STATUSES = ("new", "open", "stalled", "resolved", "rejected", "deleted")
LITERAL_KEY = re.compile(r"""\bt\(\s*(["'])([^"']+)\1""")


def _sources() -> list[Path]:
    """The templates and modules that name keys (not the catalogs themselves)."""
    modules = [p for p in sorted(UI.glob("*.py")) if p.name != "i18n.py"]
    return sorted(TEMPLATES.glob("*.html")) + modules


def keys_named_in_sources() -> set[str]:
    """Every key a template or module passes literally to ``t(...)``, and the keys named
    to be passed later (``("take", "ticket.take")``, ``error="login.failed"``)."""
    prefixes = {key.split(".")[0] for key in i18n.FR}
    listed = re.compile(rf"""["']((?:{"|".join(prefixes)})\.(?!html["'])[a-z_]+)["']""")
    found: set[str] = set()
    for path in _sources():
        source = path.read_text(encoding="utf-8")
        found |= {m.group(2) for m in LITERAL_KEY.finditer(source)}
        found |= {m.group(1) for m in listed.finditer(source)}
    return {key for key in found if not key.endswith(".")}  # "status." ~ x: see below


def dynamic_keys() -> set[str]:
    widgets = pages.HOME_WIDGETS + pages.REQUESTOR_WIDGETS
    return (
        {f"status.{s}" for s in STATUSES}
        | {f"home.{w}" for w in widgets}
        | {f"txn.{kind}" for kind in ("create", "correspond", "comment")}
    )


def test_french_and_english_have_the_same_keys() -> None:
    assert set(i18n.FR) == set(i18n.EN)
    assert set(i18n.CATALOGS) == {"fr", "en"}


def test_french_and_english_fill_the_same_placeholders() -> None:
    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    for key, text in i18n.FR.items():
        assert text.strip() and i18n.EN[key].strip(), key
        assert fields(text) == fields(i18n.EN[key]), key


def test_every_key_the_interface_names_exists() -> None:
    named = keys_named_in_sources()
    assert len(named) > 50  # the scan found the templates' keys
    assert {"login.throttled", "ticket.take", "error.csrf"} <= named
    missing = sorted((named | dynamic_keys()) - set(i18n.FR))
    assert missing == []


def test_a_missing_key_reads_as_itself_and_placeholders_are_filled() -> None:
    assert i18n.translate("fr", "no.such.key") == "no.such.key"
    assert i18n.translate("de", "nav.home") == i18n.FR["nav.home"]
    assert "12" in i18n.translator("en")("login.throttled", seconds=12)


# --- where a login sends back -----------------------------------------------------------
@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "//evil.example",
        "//evil.example/t/1",
        "///evil.example",
        "http://evil.example",
        "https://evil.example/login",
        "HTTPS://evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/t/1\\..\\..\\evil",
    ],
)
def test_a_target_elsewhere_is_refused(target: str | None) -> None:
    assert safe_target(target) == "/"


@pytest.mark.parametrize("target", ["/", "/t/12", "/search?q=status%3Aopen&sort=updated", "/t/3#h"])
def test_a_target_of_ours_is_kept(target: str) -> None:
    assert safe_target(target) == target


# --- error pages (the interface in-process, the tickets service faked) ---------------------
class HiddenTickets:
    """The tickets service as a requestor meets it about someone else's ticket."""

    async def call(self, name: str, payload: dict[str, Any]) -> Any:
        if name == rpc.GET_USER:
            return {"email": payload["email"], "privileged": False}
        if name == rpc.BOOKMARKS:
            return []
        if name == rpc.TICKET_COMMAND:
            raise PermissionDeniedError("lacks ModifyTicket", right="ModifyTicket")
        raise PermissionDeniedError("lacks ShowTicket on ticket #7", right="ShowTicket")


@contextlib.asynccontextmanager
async def requestor_browsing() -> AsyncIterator[tuple[httpx.AsyncClient, Session]]:
    """The interface in-process, a requestor logged in, the tickets service faked."""
    codec = SessionCodec("un-secret-de-test", 12 * HOUR)
    ui = Ui(rpc=cast(RpcClient, HiddenTickets()), codec=codec, secure_cookies=False)
    session = new_session("req@client.example", "fr", time.time())
    app = build_ui(ui, LiveHub("amqp://unused"))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        cookies={COOKIE_NAME: codec.encode(session)},
    ) as client:
        yield client, session


async def test_a_ticket_one_may_not_see_answers_not_found_like_a_missing_one() -> None:
    async with requestor_browsing() as (client, session):
        for url in ("/t/7", "/t/7/history", "/t/7/files/" + "a" * 64):
            answer = await client.get(url)
            assert answer.status_code == 404, url
            assert i18n.FR["error.not_found"].replace("'", "&#39;") in answer.text
        refused = await client.post("/t/7/act", data={"action": "take", "csrf": session.csrf})
        assert refused.status_code == 403  # other rights stay a refusal


async def test_a_bad_address_is_an_error_page_not_json() -> None:
    async with requestor_browsing() as (client, _):
        for url in ("/t/abc", "/t/7/files/not-a-digest", "/search?order=sideways"):
            answer = await client.get(url)
            assert answer.status_code == 422, url
            assert answer.headers["content-type"].startswith("text/html")
            assert "Content-Security-Policy" in answer.headers


# --- what the interface keeps -----------------------------------------------------------
def test_kept_entries_go_least_recently_used_first() -> None:
    kept: Lru[str, int] = Lru(2)
    kept.put("a", 1)
    kept.put("b", 2)
    assert kept.get("a") == 1  # "a" used: "b" is now the oldest
    kept.put("c", 3)
    assert kept.get("b") is None and kept.get("a") == 1 and kept.get("c") == 3
    kept.put("a", 4)  # a new value for a kept key takes no more room
    assert len(kept) == 2 and kept.get("a") == 4


def test_kept_entries_may_weigh_their_size() -> None:
    kept: Lru[str, str] = Lru(10, weigh=len)
    kept.put("a", "xxxx")
    kept.put("b", "yyyy")
    kept.put("c", "zzz")  # 11 > 10: the oldest goes
    assert kept.get("a") is None and kept.get("b") == "yyyy" and kept.get("c") == "zzz"
    kept.put("d", "w" * 50)  # heavier than all: kept alone
    assert len(kept) == 1 and kept.get("d") == "w" * 50


# --- live pages -------------------------------------------------------------------------
async def test_a_live_stream_ends_when_the_session_no_longer_holds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(live, "KEEPALIVE_SECONDS", 0.01)
    hub = LiveHub("amqp://unused")
    checks: list[bool] = [True, True, False]  # still logged in twice, then logged out

    async def still_open() -> bool:
        return checks.pop(0)

    page = Subscriber("a@example.org", True)
    sent = [part async for part in hub.stream(page, still_open)]
    assert sent == ["retry: 3000\n\n", ": keep-alive\n\n", ": keep-alive\n\n"]
    hub.dispatch({"id": 1})
    assert page.queue.empty()  # the page's subscription went with its stream


class _KeptDetails:
    """What the gateway keeps of a user: an epoch read before a sign-out elsewhere, the
    stored one when asked afresh."""

    def __init__(self, kept: int, stored: int) -> None:
        self.kept, self.stored = kept, stored

    async def user(self, email: str, *, fresh: bool = False) -> rpc.UserDetails:
        return rpc.UserDetails(email=email, session_epoch=self.stored if fresh else self.kept)


@pytest.mark.parametrize(
    ("kept", "stored", "session", "holds"),
    [
        (0, 0, 0, True),
        (0, 1, 0, True),  # signed out on another replica: seen once kept details expire (5 s)
        (1, 1, 0, False),  # an older session after a sign-out
        (0, 1, 1, True),  # a session opened after the sign-out, details kept from before
        (0, 0, 1, False),  # a forged epoch ahead of the stored one
    ],
)
async def test_a_session_holds_while_its_epoch_is_the_users(
    kept: int, stored: int, session: int, holds: bool
) -> None:
    ui = cast(Ui, _KeptDetails(kept, stored))
    opened = new_session("agent@example.org", "fr", NOW, epoch=session)
    assert (await live_user(ui, opened) is not None) == holds
