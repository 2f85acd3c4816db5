"""shared.settings.WebSecretMixin: the development secret never reaches production."""

from __future__ import annotations

import os

import pydantic
import pytest

from services.web.settings import WebSettings
from shared.settings import DEV_SECRET_PLACEHOLDER, BaseServiceSettings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only what a test sets: no GUICHET_* variable of the machine running the tests."""
    for name in list(os.environ):
        if name.upper().startswith("GUICHET_"):
            monkeypatch.delenv(name)


def test_placeholder_secret_is_refused_in_production() -> None:
    with pytest.raises(pydantic.ValidationError, match="GUICHET_WEB_SECRET_KEY must be set"):
        WebSettings(env="production")


def test_placeholder_given_explicitly_is_refused_in_production() -> None:
    with pytest.raises(pydantic.ValidationError):
        WebSettings(env="production", web_secret_key=DEV_SECRET_PLACEHOLDER)


@pytest.mark.parametrize("env", ["development", None], ids=["explicit", "default"])
def test_placeholder_secret_is_accepted_in_development(env: str | None) -> None:
    settings = WebSettings(env=env) if env else WebSettings()
    assert settings.env == "development"
    assert settings.web_secret_key == DEV_SECRET_PLACEHOLDER


def test_real_secret_is_accepted_in_production() -> None:
    settings = WebSettings(env="production", web_secret_key="a-long-random-secret")
    assert settings.web_secret_key == "a-long-random-secret"


def test_base_settings_read_the_guichet_prefixed_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GUICHET_ENV", "production")
    monkeypatch.setenv("GUICHET_NAMESPACE", "ns-test")
    settings = BaseServiceSettings()
    assert (settings.env, settings.namespace) == ("production", "ns-test")


def test_production_read_from_the_environment_refuses_the_placeholder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GUICHET_ENV", "production")
    with pytest.raises(pydantic.ValidationError, match="GUICHET_WEB_SECRET_KEY"):
        WebSettings()


@pytest.mark.parametrize(
    ("variable", "field", "value"),
    [
        ("GUICHET_WEB_SECRET_KEY", "web_secret_key", "from-the-environment"),
        ("GUICHET_BROKER_URL", "broker_url", "amqp://u:p@rabbit.internal:5672/"),
        ("GUICHET_NAMESPACE", "namespace", "ns-test"),
    ],
)
def test_web_settings_read_the_guichet_prefixed_environment(
    monkeypatch: pytest.MonkeyPatch, variable: str, field: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    assert getattr(WebSettings(), field) == value


def test_unknown_environment_name_is_refused() -> None:
    with pytest.raises(pydantic.ValidationError):
        WebSettings(env="prod")
