"""Signed session cookies (pure): who is logged in, their CSRF token and language.

The cookie holds a small JSON document and an HMAC-SHA256 of it under the instance's
secret key; nothing on the server. It is HttpOnly and SameSite=Lax (a link from a
notification mail must open the page logged in); every state change also needs the CSRF
token, so Lax is enough. A session lasts ``max_age`` seconds from the login.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, replace

COOKIE_NAME = "guichet_session"
LANGUAGES = ("fr", "en")


@dataclass(frozen=True)
class Session:
    email: str = ""  # empty: nobody is logged in
    csrf: str = ""
    language: str = "fr"
    issued: float = 0.0
    epoch: int = 0  # the user's session epoch at login (see UserDetails.session_epoch)

    @property
    def logged_in(self) -> bool:
        return bool(self.email)

    def with_language(self, language: str) -> Session:
        return replace(self, language=language if language in LANGUAGES else "fr")


def new_session(email: str, language: str, now: float, *, epoch: int = 0) -> Session:
    """A fresh session at login: a new CSRF token (never one chosen before the login)."""
    return Session(
        email=email, csrf=secrets.token_urlsafe(32), issued=now, epoch=epoch
    ).with_language(language)


def anonymous(language: str = "fr") -> Session:
    """A visitor's session: a CSRF token for the login form, no user."""
    return Session(csrf=secrets.token_urlsafe(32)).with_language(language)


class SessionCodec:
    def __init__(self, secret: str, max_age: float) -> None:
        self._key = hashlib.sha256(b"guichet-session\0" + secret.encode()).digest()
        self.max_age = max_age

    def encode(self, session: Session) -> str:
        data = json.dumps(
            {
                "e": session.email,
                "c": session.csrf,
                "l": session.language,
                "i": session.issued,
                "s": session.epoch,
            },
            separators=(",", ":"),
        ).encode()
        body = base64.urlsafe_b64encode(data).rstrip(b"=")
        return (body + b"." + self._sign(body)).decode()

    def decode(self, cookie: str | None, now: float) -> Session | None:
        """The session in ``cookie``, or None when it is missing, forged or expired."""
        if not cookie or cookie.count(".") != 1 or len(cookie) > 4096:
            return None
        body, signature = cookie.encode().split(b".")
        if not hmac.compare_digest(signature, self._sign(body)):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(body + b"=" * (-len(body) % 4)))
            session = Session(
                email=str(data["e"]),
                csrf=str(data["c"]),
                language=str(data["l"]),
                issued=float(data["i"]),
                epoch=int(data.get("s", 0)),
            )
        except (ValueError, KeyError, TypeError):
            return None
        if session.logged_in and not 0 <= now - session.issued <= self.max_age:
            return None
        return session.with_language(session.language)

    def _sign(self, body: bytes) -> bytes:
        digest = hmac.new(self._key, body, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=")


def csrf_matches(session: Session, submitted: str | None) -> bool:
    return bool(session.csrf and submitted) and hmac.compare_digest(
        session.csrf.encode(), (submitted or "").encode()
    )
