"""Mail HTML is kept sanitised: nothing in it can run."""

from __future__ import annotations

import pytest

from shared.mail.html_sanitizer import sanitize_html


@pytest.mark.parametrize(
    ("hostile", "gone"),
    [
        ("<script>alert(1)</script><p>ok</p>", "<script"),
        ('<p onclick="steal()">ok</p>', "onclick"),
        ('<a href="javascript:steal()">lien</a>', "javascript:"),
        ('<img src="x" onerror="steal()">', "onerror"),
        ("<iframe src='https://evil.example'></iframe>", "<iframe"),
        ("<form action='https://evil.example'><input></form>", "<form"),
        ("<style>body{background:url(https://t.example/p)}</style><p>x</p>", "<style"),
    ],
)
def test_hostile_markup_is_removed(hostile: str, gone: str) -> None:
    assert gone not in sanitize_html(hostile).lower()


def test_structure_links_and_inline_images_stay() -> None:
    clean = sanitize_html(
        '<p>Devis <b>joint</b> <a href="https://ex.example/d">ici</a><img src="cid:logo"></p>'
    )
    assert "<b>joint</b>" in clean
    assert 'href="https://ex.example/d"' in clean and "noopener" in clean
    assert 'src="cid:logo"' in clean
