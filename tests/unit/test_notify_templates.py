"""notify.domain.templates: RT's default templates in French and English, rendered in a
sandbox; an administrator's template is checked before it is kept."""

from __future__ import annotations

from typing import Any

import pytest

from services.notify.domain.rules import QueueSettings
from services.notify.domain.templates import (
    DEFAULT_TEMPLATES,
    LANGUAGES,
    TemplateContext,
    TemplateText,
    check_template,
    language_of,
    render,
    sample_context,
    template_context,
)
from shared.errors import InvalidInputError
from tests.unit.factories import ALICE, message_info, queue_info
from tests.unit.notify_factories import AGENT, commands, event, watched

EVERY_TEMPLATE = [(name, language) for name in DEFAULT_TEMPLATES for language in LANGUAGES]


@pytest.mark.parametrize(("name", "language"), EVERY_TEMPLATE)
def test_every_default_template_renders_with_every_variable(name: str, language: str) -> None:
    rendered = render(DEFAULT_TEMPLATES[name][language], sample_context(language))
    assert rendered.subject and "\n" not in rendered.subject
    assert rendered.text.strip()
    assert rendered.html.startswith("<!DOCTYPE html>")
    assert "[example #42]" in rendered.text


@pytest.mark.parametrize(("name", "language"), EVERY_TEMPLATE)
def test_every_default_template_passes_its_own_check(name: str, language: str) -> None:
    check_template(DEFAULT_TEMPLATES[name][language], sample_context(language))


@pytest.mark.parametrize(
    ("queue_language", "expected"), [("fr", "fr"), ("en", "en"), ("de", "fr"), ("", "fr")]
)
def test_mails_speak_the_queue_language_and_french_otherwise(
    queue_language: str, expected: str
) -> None:
    assert language_of(queue_language) == expected


def context_of(language: str = "fr", **kwargs: Any) -> TemplateContext:
    return template_context(event(**kwargs), recipient=ALICE, language=language)


def test_the_autoreply_quotes_the_request_and_says_how_to_reply() -> None:
    text = render(DEFAULT_TEMPLATES["autoreply"]["fr"], context_of()).text
    assert text.startswith("Bonjour,")
    assert "« Commande de stylos »" in text
    assert "enregistrée sous le numéro [example #7]" in text
    assert "Bonjour,\nil nous faut des stylos." in text


def test_the_english_autoreply_names_the_tag() -> None:
    context = template_context(
        event(queue=queue_info(language="en")), recipient=ALICE, language="en"
    )
    text = render(DEFAULT_TEMPLATES["autoreply"]["en"], context).text
    assert "It has been recorded as [example #7]" in text
    assert '"Commande de stylos"' in text


def test_the_autoreply_of_a_transaction_without_message_still_renders() -> None:
    text = render(DEFAULT_TEMPLATES["autoreply"]["fr"], context_of(message=None)).text
    assert "[example #7]" in text


def test_the_command_report_lists_every_line_with_its_outcome_and_reason() -> None:
    facts = commands(
        ("AddCc: ventes@supplier.example.com", "applied", ""),
        ("Statut: fini", "invalid", "unknown status 'fini'"),
        ("Frobnicate: 3", "unknown", ""),
    )
    kwargs: dict[str, Any] = {"kind": "correspond", "creator": AGENT, "mail": facts}
    french = render(DEFAULT_TEMPLATES["command_errors"]["fr"], context_of(**kwargs)).text
    assert "  AddCc: ventes@supplier.example.com\n      → appliquée\n" in french
    assert "  Statut: fini\n      → invalide : unknown status 'fini'\n" in french
    assert "  Frobnicate: 3\n      → commande inconnue\n" in french
    english = render(DEFAULT_TEMPLATES["command_errors"]["en"], context_of("en", **kwargs)).text
    assert "      → invalid: unknown status 'fini'\n" in english


def test_the_admin_copy_names_the_author_and_the_tickets_state_in_words() -> None:
    context = context_of(kind="correspond", ticket=watched(), creator=AGENT)
    text = render(DEFAULT_TEMPLATES["admin_correspondence"]["fr"], context).text
    assert text.startswith(f"{AGENT} a écrit sur [example #7]")
    assert "statut ouvert" in text


def test_the_resolution_notice_carries_the_resolution_message_when_there_is_one() -> None:
    resolved = DEFAULT_TEMPLATES["resolved"]["fr"]
    message = message_info(text="Livré et réceptionné.")
    with_message = render(resolved, context_of(kind="status", message=message)).text
    without = render(resolved, context_of(kind="status", message=None)).text
    assert "a été résolue.\n\nLivré et réceptionné.\n\nSi ce n'est pas" in with_message
    assert "a été résolue.\n\nSi ce n'est pas" in without


# --- an administrator's templates ---------------------------------------------------------


def test_a_queue_template_replaces_the_default_in_its_language_only() -> None:
    mine = TemplateText("Bien reçu : {{ ticket.subject }}", "Merci ! {{ tag }}\n")
    settings = QueueSettings(templates={("autoreply", "fr"): mine})
    assert settings.template("autoreply", "fr") == mine
    assert settings.template("autoreply", "en") == DEFAULT_TEMPLATES["autoreply"]["en"]
    rendered = render(mine, context_of())
    assert (rendered.subject, rendered.text) == (
        "Bien reçu : Commande de stylos",
        "Merci ! [example #7]\n",
    )


@pytest.mark.parametrize(
    "body",
    [
        "{{ nonexistent }}",  # an unknown variable
        "{{ ticket.nope }}",
        "{% if %}",  # a syntax error
        "{{ ''.__class__.__mro__ }}",  # the sandbox forbids reaching Python's internals
        "{{ ticket.subject.__class__ }}",
    ],
)
def test_a_template_that_does_not_render_is_refused(body: str) -> None:
    with pytest.raises(InvalidInputError, match="does not render"):
        check_template(TemplateText("{{ ticket.subject }}", body), sample_context("fr"))


def test_a_subject_that_does_not_render_is_refused() -> None:
    with pytest.raises(InvalidInputError):
        check_template(TemplateText("{{ subjet }}", "ok"), sample_context("en"))


def test_html_in_variables_is_escaped_in_the_html_part_and_kept_in_the_text() -> None:
    sneaky = watched(subject="<img src=x onerror=alert(1)>")
    context = template_context(
        event("correspond", ticket=sneaky, creator=AGENT), recipient=ALICE, language="fr"
    )
    rendered = render(DEFAULT_TEMPLATES["admin_correspondence"]["fr"], context)
    assert "<img src=x onerror=alert(1)>" in rendered.text
    assert "<img" not in rendered.html and "&lt;img src=x" in rendered.html
