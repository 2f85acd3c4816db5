"""Commands by mail, in RT's CommandByMail style (pure).

A block of ``Name: value`` lines at the top of a mail's body (``AddCc: supplier@…``)
changes the ticket. The block starts with a line naming a known command — so a mail that
merely begins with ``Note: …`` is left alone — and ends at the first line that is not a
``Name: value`` line; inside it an unknown name is an error, not the end. Names forgive
case, accents, dashes and spaces, and have French aliases (``AjoutCc``, ``Statut``…).

This module reads the block and turns each line into domain commands; whether they may
run is decided later, by the rights, in ``commands.decide``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from services.tickets.domain import commands
from shared.errors import ConflictError, PermissionDeniedError, UserError
from shared.events.ticket import CommandOutcomeKind, MailCommandOutcome
from shared.mail.addresses import parse_address_list

# Canonical name → the spellings (normalised: no accents, lower case, no separators).
_ALIASES: dict[str, tuple[str, ...]] = {
    "AddCc": ("addcc", "ajoutcc", "ajoutercc", "ajoutobservateur", "ajouterobservateur"),
    "DelCc": ("delcc", "supprcc", "supprimercc", "retirercc", "retirerobservateur"),
    "AddRequestor": ("addrequestor", "ajoutdemandeur", "ajouterdemandeur"),
    "DelRequestor": ("delrequestor", "supprdemandeur", "supprimerdemandeur", "retirerdemandeur"),
    "AddAdminCc": ("addadmincc", "ajoutadmincc", "ajouteradmincc", "ajoutadministrateur"),
    "DelAdminCc": ("deladmincc", "suppradmincc", "supprimeradmincc", "retireradmincc"),
    "Status": ("status", "statut"),
    "Owner": ("owner", "proprietaire", "intervenant", "gestionnaire"),
    "Queue": ("queue", "file"),
    "Priority": ("priority", "priorite"),
    "Due": ("due", "echeance"),
    "Subject": ("subject", "sujet"),
    "DependsOn": ("dependson", "dependde"),
    "MemberOf": ("memberof", "membrede", "parent"),
    "RefersTo": ("refersto", "serapportea", "refere"),
    "DelDependsOn": ("deldependson", "supprdependde", "retirerdependde"),
    "DelMemberOf": ("delmemberof", "supprmembrede", "retirermembrede", "delparent"),
    "DelRefersTo": ("delrefersto", "supprserapportea", "retirerserapportea"),
    "Operation": ("operation", "action"),
}
_BY_SPELLING = {spelling: name for name, spellings in _ALIASES.items() for spelling in spellings}
_CF_PREFIXES = ("cf", "customfield", "champ")

# French (and a few English) words for statuses.
_STATUS_WORDS = {
    "new": "new", "nouveau": "new", "open": "open", "ouvert": "open",
    "stalled": "stalled", "stagnant": "stalled", "resolved": "resolved", "resolu": "resolved",
    "rejected": "rejected", "rejete": "rejected", "deleted": "deleted", "efface": "deleted",
}  # fmt: skip
_OPERATION_WORDS = {
    "comment": "comment", "commentaire": "comment", "commenter": "comment",
    "correspond": "correspond", "reply": "correspond", "reponse": "correspond",
    "repondre": "correspond",
}  # fmt: skip
_NOBODY_WORDS = {"nobody", "personne", "aucun"}

# ``Name: value`` — the name one token (or ``CF.{Any name}``), French spacing before ':'.
_LINE = re.compile(r"^\s*((?:[^\W\d_][\w.\-]*)(?:\s*\{[^{}\n]*\})?)\s*:\s?(.*)$")

WATCHER_ROLES = {
    "AddCc": "Cc", "DelCc": "Cc", "AddRequestor": "Requestor", "DelRequestor": "Requestor",
    "AddAdminCc": "AdminCc", "DelAdminCc": "AdminCc",
}  # fmt: skip
LINK_NAMES = {
    "DependsOn": "DependsOn", "MemberOf": "MemberOf", "RefersTo": "RefersTo",
    "DelDependsOn": "DependsOn", "DelMemberOf": "MemberOf", "DelRefersTo": "RefersTo",
}  # fmt: skip


def _folded(name: str) -> str:
    without_accents = "".join(
        c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)
    )
    return re.sub(r"[\s_\-.]", "", without_accents).lower()


@dataclass(frozen=True)
class CommandLine:
    """One line of the block: its canonical name ('' when unknown) and value."""

    line: str
    name: str
    value: str
    custom_field: str = ""  # for CF.{name}


@dataclass(frozen=True)
class CommandBlock:
    lines: tuple[CommandLine, ...]
    text: str  # the body without the block

    @property
    def operation(self) -> str | None:
        """``comment`` or ``correspond`` when an ``Operation:`` line names a valid one."""
        for line in self.lines:
            if line.name == "Operation":
                return _OPERATION_WORDS.get(_folded(line.value))
        return None


def _read_line(line: str) -> CommandLine | None:
    match = _LINE.match(line)
    if match is None:
        return None
    raw_name, value = match.group(1), match.group(2).strip()
    cf = re.match(r"^([^{]+?)\s*\{([^{}]*)\}$", raw_name)
    if cf is not None:
        if _folded(cf.group(1)) in _CF_PREFIXES:
            return CommandLine(line.strip(), "CF", value, custom_field=cf.group(2).strip())
        return CommandLine(line.strip(), "", value)
    return CommandLine(line.strip(), _BY_SPELLING.get(_folded(raw_name), ""), value)


def extract_commands(text: str) -> CommandBlock:
    """The command block at the top of ``text`` (after blank lines), and the rest."""
    lines = text.split("\n")
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    found: list[CommandLine] = []
    index = start
    while index < len(lines):
        read = _read_line(lines[index])
        if read is None or (not found and not read.name):
            break
        found.append(read)
        index += 1
    if not found:
        return CommandBlock((), text)
    rest = lines[index:]
    while rest and not rest[0].strip():  # the blank line that ends the block goes too
        rest = rest[1:]
    return CommandBlock(tuple(found), "\n".join(rest))


@dataclass(frozen=True)
class PlannedCommand:
    """A line turned into domain commands (several when a line names several addresses)."""

    line: CommandLine
    commands: tuple[commands.Command, ...]
    # Before the message (watchers: so a new Cc gets this very mail) or after it (so a
    # Status set by the mail is the status the ticket keeps).
    before_message: bool


def command_outcome(
    line: CommandLine, kind: CommandOutcomeKind, reason: str = ""
) -> MailCommandOutcome:
    name = f"CF.{{{line.custom_field}}}" if line.name == "CF" else line.name
    return MailCommandOutcome(line=line.line, command=name, outcome=kind, reason=reason)


# The worst outcome of a line's commands is the line's (AddCc: a@x, b@y names two).
_SEVERITY: tuple[CommandOutcomeKind, ...] = ("applied", "unchanged", "invalid", "refused")


def line_outcome(
    line: CommandLine, results: Sequence[tuple[CommandOutcomeKind, str]]
) -> MailCommandOutcome:
    """One outcome for a line from those of its commands: the worst, with every reason."""
    worst: CommandOutcomeKind = max(
        (kind for kind, _ in results), key=_SEVERITY.index, default="unchanged"
    )
    reasons = "; ".join(dict.fromkeys(reason for _, reason in results if reason))
    return command_outcome(line, worst, reasons)


def error_outcome(error: UserError) -> CommandOutcomeKind:
    """How a command's refusal reads to its sender: no right, a bad value, or no change
    needed (``AddCc`` of someone already Cc is not an error)."""
    if isinstance(error, PermissionDeniedError):
        return "refused"
    if isinstance(error, ConflictError):
        return "unchanged"
    return "invalid"


def _ticket_numbers(value: str) -> list[int] | None:
    numbers = re.findall(r"#?\s*(\d+)", value)
    leftover = re.sub(r"#?\s*\d+|[,;\s]|and|et", "", value, flags=re.IGNORECASE)
    if not numbers or leftover:
        return None
    return [int(n) for n in numbers]


def plan_command(line: CommandLine, sender: str) -> PlannedCommand | MailCommandOutcome:
    """The domain commands of one line, or why it cannot be one."""
    if not line.name:
        return command_outcome(line, "unknown", "unknown command")
    value = line.value
    if not value and line.name not in ("CF", "Due", "Owner"):
        return command_outcome(line, "invalid", "no value given")
    if line.name in WATCHER_ROLES:
        addresses = parse_address_list([value])
        if not addresses:
            return command_outcome(line, "invalid", f"{value!r} is not an address")
        role = WATCHER_ROLES[line.name]
        make = commands.AddWatcher if line.name.startswith("Add") else commands.RemoveWatcher
        return PlannedCommand(line, tuple(make(role, a) for a in addresses), True)
    if line.name in LINK_NAMES:
        targets = _ticket_numbers(value)
        if targets is None:
            return command_outcome(line, "invalid", f"{value!r} is not a list of ticket numbers")
        link = commands.Link if not line.name.startswith("Del") else commands.Unlink
        return PlannedCommand(line, tuple(link(LINK_NAMES[line.name], t) for t in targets), False)
    single: commands.Command
    match line.name:
        case "Status":
            status = _STATUS_WORDS.get(_folded(value))
            if status is None:
                return command_outcome(line, "invalid", f"unknown status {value!r}")
            single = commands.SetStatus(status)
        case "Owner":
            owner = value.strip()
            if not owner or _folded(owner) in _NOBODY_WORDS:
                single = commands.Untake()
            else:
                addresses = parse_address_list([owner])
                if len(addresses) != 1:
                    return command_outcome(line, "invalid", f"{value!r} is not one address")
                single = (
                    commands.Take() if addresses[0] == sender else commands.Assign(addresses[0])
                )
        case "Queue":
            single = commands.Move(value.strip())
        case "Priority":
            if not value.strip().isdigit():
                return command_outcome(line, "invalid", f"a priority is a number, not {value!r}")
            single = commands.SetPriority(int(value))
        case "Due":
            single = commands.SetDue(value)
        case "Subject":
            single = commands.SetSubject(value)
        case "CF":
            single = commands.SetCustomField(line.custom_field, value)
        case "Operation":
            if _OPERATION_WORDS.get(_folded(value)) is None:
                return command_outcome(line, "invalid", "Operation is comment or correspond")
            return PlannedCommand(line, (), True)  # it shapes the message, nothing else
        case _:  # pragma: no cover - every canonical name is handled above
            return command_outcome(line, "unknown", "unknown command")
    return PlannedCommand(line, (single,), False)
