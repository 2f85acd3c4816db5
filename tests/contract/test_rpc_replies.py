"""The RPC reply shape: ``{"ok": true, "result": …}`` or ``{"ok": false, "error": {code,
status, detail, …}}``. A user error crosses the wire and becomes the same error class
again; anything else (internal, unknown code, malformed answer) is an outage."""

from __future__ import annotations

from typing import Any

import pytest

from shared.errors import USER_ERRORS, ServiceUnavailableError, UserError
from shared.messaging import _unwrap_reply

CODES = pytest.mark.parametrize("code", sorted(USER_ERRORS))


@CODES
def test_error_reply_becomes_the_user_error_of_its_code(code: str) -> None:
    error_type = USER_ERRORS[code]
    body = {
        "ok": False,
        "error": {"code": code, "status": error_type.status, "detail": "ticket #42: no"},
    }

    with pytest.raises(UserError) as raised:
        _unwrap_reply("tickets.get", body)

    assert type(raised.value) is error_type
    assert raised.value.detail == "ticket #42: no"
    assert raised.value.code == code


@CODES
def test_user_error_survives_the_round_trip_with_its_extra_fields(code: str) -> None:
    error_type = USER_ERRORS[code]
    sent = error_type("queue achats is unknown", field="queue", value="achats")
    body = {"ok": False, "error": sent.to_dict()}  # what register_rpc answers

    with pytest.raises(UserError) as raised:
        _unwrap_reply("tickets.admin.upsert_queue", body)

    assert type(raised.value) is error_type
    assert raised.value.to_dict() == sent.to_dict()


def test_user_error_codes_are_unique_and_statuses_are_4xx_or_503() -> None:
    assert all(code == cls.code for code, cls in USER_ERRORS.items())
    assert len({cls for cls in USER_ERRORS.values()}) == len(USER_ERRORS)
    for cls in USER_ERRORS.values():
        assert 400 <= cls.status < 500 or cls.status == 503, cls


@pytest.mark.parametrize(
    "error",
    [
        {"code": "internal", "status": 500, "detail": "internal error"},
        {"code": "no_such_code", "status": 418, "detail": "?"},
        {"detail": "no code at all"},
        {},
        None,
    ],
    ids=["internal", "unknown-code", "no-code", "empty-error", "null-error"],
)
def test_internal_or_unknown_error_is_service_unavailable(error: Any) -> None:
    with pytest.raises(ServiceUnavailableError, match=r"rpc tickets\.get"):
        _unwrap_reply("tickets.get", {"ok": False, "error": error})


@pytest.mark.parametrize(
    "body",
    [None, [], "ok", {"result": 1}, {"error": {"code": "not_found"}}],
    ids=["null", "list", "string", "no-ok-result", "no-ok-error"],
)
def test_malformed_answer_is_service_unavailable(body: Any) -> None:
    with pytest.raises(ServiceUnavailableError, match="malformed"):
        _unwrap_reply("tickets.get", body)


@pytest.mark.parametrize(
    "result",
    [{"id": 42, "subject": "Demande d'achat"}, [{"id": 1}, {"id": 2}], None, 0, "ok"],
    ids=["dict", "list", "null", "zero", "string"],
)
def test_ok_reply_returns_its_result(result: Any) -> None:
    assert _unwrap_reply("tickets.get", {"ok": True, "result": result}) == result
