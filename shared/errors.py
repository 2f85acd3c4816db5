"""Two families of errors (see STYLE.md): the user's fault, and ours.

A :class:`UserError` becomes an SMTP 5xx, an error mail or an HTTP 4xx with a stable
``code``; anything else is a bug or an outage: retried, then dead-lettered, and SMTP 451.
"""

from __future__ import annotations

from typing import Any, ClassVar


class GuichetError(Exception):
    """Base of Guichet's own errors."""


class UserError(GuichetError):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "status": self.status, "detail": self.detail, **self.extra}


class AuthenticationFailedError(UserError):
    status = 401
    code = "unauthenticated"


class PermissionDeniedError(UserError):
    status = 403
    code = "permission_denied"


class NotFoundError(UserError):
    status = 404
    code = "not_found"


class ConflictError(UserError):
    status = 409
    code = "conflict"


class InvalidInputError(UserError):
    status = 422
    code = "invalid"


class NotConfiguredError(UserError):
    """The instance lacks configuration an operator must give (e.g. the seed)."""

    status = 503
    code = "not_configured"


USER_ERRORS: dict[str, type[UserError]] = {
    cls.code: cls
    for cls in (
        UserError,
        AuthenticationFailedError,
        PermissionDeniedError,
        NotFoundError,
        ConflictError,
        InvalidInputError,
        NotConfiguredError,
    )
}


class RetryableError(GuichetError):
    """A dependency is down or busy: try again later."""


class PermanentError(GuichetError):
    """This message can never succeed: send it to the dead-letter queue at once."""


class ServiceUnavailableError(GuichetError):
    """An RPC got no answer in time."""
