"""Request dependencies: the RPC clients and the authenticated user."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import (
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
)

from shared.errors import AuthenticationFailedError
from shared.messaging import RpcClient
from shared.rpc import tickets as rpc
from shared.rpc.search import Principal


class Authenticator:
    """Checks HTTP Basic credentials with the tickets service, remembering a success for a
    short while (argon2 is slow on purpose; the cache key is an HMAC, never the password)."""

    def __init__(self, rpc_client: RpcClient, ttl_seconds: float) -> None:
        self._rpc = rpc_client
        self._ttl = ttl_seconds
        self._key = secrets.token_bytes(32)
        self._cache: dict[bytes, tuple[float, rpc.UserPublic]] = {}

    async def authenticate(self, email: str, password: str) -> rpc.UserPublic:
        return await self._checked(
            f"password\0{email}\0{password}",
            rpc.AUTHENTICATE,
            {"email": email, "password": password},
        )

    async def authenticate_token(self, token: str) -> rpc.UserPublic:
        return await self._checked(f"token\0{token}", rpc.AUTHENTICATE_TOKEN, {"token": token})

    def forget(self) -> None:
        """Forget every remembered success (a token was revoked: it stops here at once)."""
        self._cache.clear()

    def forget_user(self, email: str) -> None:
        """Forget the remembered successes of one user (their details changed: the next
        request reads them again)."""
        for digest in [d for d, (_, user) in self._cache.items() if user.email == email]:
            self._cache.pop(digest, None)

    async def _checked(self, secret: str, name: str, payload: dict[str, str]) -> rpc.UserPublic:
        digest = hmac.new(self._key, secret.encode(), hashlib.sha256).digest()
        cached = self._cache.get(digest)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        user = rpc.UserPublic.model_validate(await self._rpc.call(name, payload))
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (time.monotonic() + self._ttl, user)
        return user


basic = HTTPBasic(auto_error=False, realm="Guichet")
bearer = HTTPBearer(auto_error=False, description="An API token (POST /api/v1/me/tokens)")


def get_rpc(request: Request) -> RpcClient:
    client: RpcClient = request.app.state.rpc
    return client


async def current_user(
    request: Request,
    credentials: Annotated[HTTPBasicCredentials | None, Depends(basic)],
    token: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> rpc.UserPublic:
    """HTTP Basic (email, password) or an API token (``Authorization: Bearer …``)."""
    authenticator: Authenticator = request.app.state.authenticator
    if token is not None:
        return await authenticator.authenticate_token(token.credentials)
    if credentials is None:
        raise AuthenticationFailedError("authentication required")
    return await authenticator.authenticate(credentials.username, credentials.password)


Rpc = Annotated[RpcClient, Depends(get_rpc)]
CurrentUser = Annotated[rpc.UserPublic, Depends(current_user)]


def principal_of(user: rpc.UserPublic) -> Principal:
    """Who asks the search service; it learns their rights from the tickets service."""
    return Principal(email=user.email)
