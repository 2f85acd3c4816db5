"""tickets.domain.mail_commands: reading the command block of a mail and planning it."""

from __future__ import annotations

import pytest

from services.tickets.domain import commands
from services.tickets.domain.mail_commands import (
    CommandLine,
    PlannedCommand,
    error_outcome,
    extract_commands,
    line_outcome,
    plan_command,
)
from shared.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from shared.events.ticket import MailCommandOutcome

AGENT = "acheteur@example.org"


def names(text: str) -> list[str]:
    return [line.name for line in extract_commands(text).lines]


def test_the_block_is_removed_from_the_text_with_the_blank_line_that_ends_it() -> None:
    block = extract_commands("AddCc: a@example.com\nStatus: open\n\nBonjour,\nmerci.")
    assert [(c.name, c.value) for c in block.lines] == [
        ("AddCc", "a@example.com"),
        ("Status", "open"),
    ]
    assert block.text == "Bonjour,\nmerci."


def test_the_block_ends_at_the_first_line_that_is_not_a_command_line() -> None:
    block = extract_commands("AddCc: a@example.com\nBonjour, voici la demande.\nStatus: open")
    assert names(block.text) == []
    assert [c.name for c in block.lines] == ["AddCc"]
    assert block.text == "Bonjour, voici la demande.\nStatus: open"


@pytest.mark.parametrize(
    "text",
    [
        "Note: le devis est joint.\nAddCc: a@example.com",  # must start with a known command
        "Bonjour,\nAddCc: a@example.com",  # not at the top
        "",
        "\n\n",
        "Status resolved",  # no colon
        "Mon adresse: rue de la Paix",  # a phrase, not one token
    ],
)
def test_mail_that_does_not_start_with_a_command_is_left_alone(text: str) -> None:
    block = extract_commands(text)
    assert block.lines == ()
    assert block.text == text


def test_leading_blank_lines_are_skipped() -> None:
    assert names("\n\n  \nAddCc: a@example.com\n\nx") == ["AddCc"]


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("AddCc", "AddCc"),
        ("addcc", "AddCc"),
        ("ADD-CC", "AddCc"),
        ("AjoutCc", "AddCc"),
        ("ajoutcc", "AddCc"),
        ("Ajouter-Observateur", "AddCc"),
        ("SupprCc", "DelCc"),
        ("AjoutDemandeur", "AddRequestor"),
        ("DelRequestor", "DelRequestor"),
        ("AddAdminCc", "AddAdminCc"),
        ("Statut", "Status"),
        ("État", ""),
        ("Propriétaire", "Owner"),
        ("Priorité", "Priority"),
        ("Échéance", "Due"),
        ("DependsOn", "DependsOn"),
        ("Dépend-de", "DependsOn"),
        ("MemberOf", "MemberOf"),
        ("SeRapporteA", "RefersTo"),
        ("DelRefersTo", "DelRefersTo"),
        ("Operation", "Operation"),
        ("Opération", "Operation"),
        ("Queue", "Queue"),
        ("File", "Queue"),
    ],
)
def test_names_forgive_case_accents_dashes_and_have_french_aliases(
    written: str, canonical: str
) -> None:
    block = extract_commands(f"Status: open\n{written}: x\n\nbody")
    assert block.lines[1].name == canonical


def test_french_spacing_before_the_colon_is_accepted() -> None:
    assert names("AjoutCc : fournisseur@example.com\n\nx") == ["AddCc"]


def test_an_unknown_name_inside_the_block_is_an_error_not_its_end() -> None:
    block = extract_commands("Status: open\nFrobnicate: yes\nAddCc: a@example.com\n\nbody")
    assert [c.name for c in block.lines] == ["Status", "", "AddCc"]
    assert block.text == "body"


def test_custom_fields_are_named_in_braces() -> None:
    [line] = extract_commands("CF.{DEM LOG}: DL-12\n\nx").lines
    assert (line.name, line.custom_field, line.value) == ("CF", "DEM LOG", "DL-12")
    [other] = extract_commands("Status: open\nXY.{DEM LOG}: 1\n\nx").lines[1:]
    assert other.name == ""


def plan(line: str, sender: str = AGENT) -> PlannedCommand | MailCommandOutcome:
    [read] = extract_commands(f"Status: open\n{line}\n\nx").lines[1:]
    return plan_command(read, sender)


def test_watcher_lines_name_several_addresses_and_run_before_the_message() -> None:
    planned = plan('AddCc: "Ventes" <ventes@f.example.com>, compta@f.example.com')
    assert isinstance(planned, PlannedCommand)
    assert planned.commands == (
        commands.AddWatcher("Cc", "ventes@f.example.com"),
        commands.AddWatcher("Cc", "compta@f.example.com"),
    )
    assert planned.before_message


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Status: résolu", commands.SetStatus("resolved")),
        ("Status: Stalled", commands.SetStatus("stalled")),
        ("Owner: someone@example.org", commands.Assign("someone@example.org")),
        (f"Owner: {AGENT}", commands.Take()),
        ("Owner: Nobody", commands.Untake()),
        ("Owner: personne", commands.Untake()),
        ("Queue: compta", commands.Move("compta")),
        ("Priority: 40", commands.SetPriority(40)),
        ("Due: 2026-12-24", commands.SetDue("2026-12-24")),
        ("Subject: Nouveau sujet", commands.SetSubject("Nouveau sujet")),
        ("CF.{COM LOG}: CL-9", commands.SetCustomField("COM LOG", "CL-9")),
        ("CF.{COM LOG}:", commands.SetCustomField("COM LOG", "")),
    ],
)
def test_single_commands_run_after_the_message(line: str, expected: commands.Command) -> None:
    planned = plan(line)
    assert isinstance(planned, PlannedCommand)
    assert planned.commands == (expected,)
    assert not planned.before_message


def test_link_lines_take_several_ticket_numbers() -> None:
    planned = plan("DependsOn: #12, 14 et 15")
    assert isinstance(planned, PlannedCommand)
    assert planned.commands == tuple(commands.Link("DependsOn", n) for n in (12, 14, 15))
    removed = plan("DelMemberOf: 3")
    assert isinstance(removed, PlannedCommand)
    assert removed.commands == (commands.Unlink("MemberOf", 3),)


@pytest.mark.parametrize(
    ("line", "outcome", "reason"),
    [
        ("Frobnicate: x", "unknown", "unknown command"),
        ("AddCc: not an address", "invalid", "is not an address"),
        ("AddCc:", "invalid", "no value given"),
        ("Status: peut-être", "invalid", "unknown status"),
        ("Priority: high", "invalid", "a priority is a number"),
        ("DependsOn: the other one", "invalid", "not a list of ticket numbers"),
        ("Owner: a@x.org, b@x.org", "invalid", "not one address"),
        ("Operation: dance", "invalid", "comment or correspond"),
    ],
)
def test_lines_that_cannot_be_commands_say_why(line: str, outcome: str, reason: str) -> None:
    planned = plan(line)
    assert isinstance(planned, MailCommandOutcome)
    assert planned.outcome == outcome
    assert reason in planned.reason
    assert planned.failed


def test_operation_shapes_the_message() -> None:
    block = extract_commands("Operation: commentaire\n\nnote interne")
    assert block.operation == "comment"
    assert extract_commands("Operation: reply\n\nx").operation == "correspond"
    assert extract_commands("Status: open\n\nx").operation is None


def test_a_line_outcome_is_the_worst_of_its_commands_with_every_reason() -> None:
    line = CommandLine("AddCc: a@x.org, b@x.org", "AddCc", "a@x.org, b@x.org")
    mixed = line_outcome(line, [("applied", ""), ("unchanged", "already Cc")])
    assert (mixed.outcome, mixed.reason) == ("unchanged", "already Cc")
    assert not mixed.failed
    worst = line_outcome(line, [("refused", "no right"), ("invalid", "bad")])
    assert (worst.outcome, worst.reason) == ("refused", "no right; bad")


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (PermissionDeniedError("x"), "refused"),
        (ConflictError("x"), "unchanged"),
        (InvalidInputError("x"), "invalid"),
        (NotFoundError("x"), "invalid"),
    ],
)
def test_errors_read_as_outcomes(error: Exception, outcome: str) -> None:
    assert error_outcome(error) == outcome  # type: ignore[arg-type]
