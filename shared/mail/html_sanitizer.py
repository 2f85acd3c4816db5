"""Sanitising mail HTML for storage and display (pure; nh3, the Ammonia sanitizer).

Scripts, event handlers, forms and styles that can run code go; structure, text, links and
inline images (``cid:``) stay. Blocking remote images is the display's choice, not this.
"""

from __future__ import annotations

import nh3

URL_SCHEMES = {"http", "https", "mailto", "cid"}


def sanitize_html(markup: str) -> str:
    return nh3.clean(markup, url_schemes=URL_SCHEMES, link_rel="noopener noreferrer nofollow")
