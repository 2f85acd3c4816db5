"""Request dependencies: the RPC clients and the authenticated user."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPBasic, HTTPBasicCredentials

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
        digest = hmac.new(self._key, f"{email}\0{password}".encode(), hashlib.sha256).digest()
        cached = self._cache.get(digest)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        user = rpc.UserPublic.model_validate(
            await self._rpc.call(rpc.AUTHENTICATE, {"email": email, "password": password})
        )
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (time.monotonic() + self._ttl, user)
        return user


basic = HTTPBasic(auto_error=False, realm="Guichet")


def get_rpc(request: Request) -> RpcClient:
    client: RpcClient = request.app.state.rpc
    return client


async def current_user(
    request: Request, credentials: Annotated[HTTPBasicCredentials | None, Depends(basic)]
) -> rpc.UserPublic:
    if credentials is None:
        raise AuthenticationFailedError("authentication required")
    authenticator: Authenticator = request.app.state.authenticator
    return await authenticator.authenticate(credentials.username, credentials.password)


Rpc = Annotated[RpcClient, Depends(get_rpc)]
CurrentUser = Annotated[rpc.UserPublic, Depends(current_user)]


def principal_of(user: rpc.UserPublic) -> Principal:
    """Who asks the search service; it learns their rights from the tickets service."""
    return Principal(email=user.email)
