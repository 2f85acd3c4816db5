"""The quick-search language (pure): the text of the search bar becomes a condition.

Free words must all be found together: in the subject, in one message (which carries its
subject), or in one file;
"double quotes" make a phrase; ``field:value`` tokens filter (``queue:achats status:open
owner:me requestor:x@y cc:… cf.DEM_LOG:1234 created:>2026-01-01 has:attachment``); a ``-``
before a token negates it; a bare number names a ticket. French names work too
(``statut:résolu demandeur:… créé:>…``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta

from shared.rpc.search import (
    MAX_CONDITIONS,
    AllOf,
    Condition,
    ExactCondition,
    HasCondition,
    NotCondition,
    RangeCondition,
    TextCondition,
)

# token name (accents and case aside) → the condition's field
EXACT_TOKENS = {
    "queue": "queue",
    "file": "queue",
    "status": "status",
    "statut": "status",
    "etat": "status",
    "owner": "owner",
    "proprietaire": "owner",
    "requestor": "requestor",
    "demandeur": "requestor",
    "cc": "cc",
    "admincc": "admincc",
    "creator": "creator",
    "from": "creator",
    "de": "creator",
    "auteur": "creator",
    "ticket": "ticket",
    "id": "ticket",
}
RANGE_TOKENS = {
    "created": "created",
    "cree": "created",
    "creation": "created",
    "updated": "updated",
    "modifie": "updated",
    "resolved": "resolved",
    "resolu": "resolved",
    "due": "due",
    "echeance": "due",
    "starts": "starts",
    "debut": "starts",
    "priority": "priority",
    "priorite": "priority",
}
TEXT_TOKENS = {
    "subject": "subject",
    "sujet": "subject",
    "objet": "subject",
    "in": None,  # in:attachments / dans:pj — the scope of the free words
    "dans": None,
}
HAS_TOKENS = {"has": "has", "a": "has", "avec": "has"}
HAS_VALUES = {
    "attachment": "attachment",
    "attachments": "attachment",
    "pj": "attachment",
    "piece-jointe": "attachment",
    "piecejointe": "attachment",
    "fichier": "attachment",
    "owner": "owner",
    "proprietaire": "owner",
    "due": "due",
    "echeance": "due",
    "comment": "comment",
    "commentaire": "comment",
}
SCOPES = {
    "attachments": "attachments",
    "attachment": "attachments",
    "pj": "attachments",
    "fichiers": "attachments",
    "messages": "messages",
    "subject": "subject",
    "sujet": "subject",
}
STATUS_WORDS = {
    "nouveau": "new",
    "ouvert": "open",
    "bloque": "stalled",
    "en-attente": "stalled",
    "suspendu": "stalled",
    "resolu": "resolved",
    "rejete": "rejected",
    "supprime": "deleted",
}
# RT's __Active__ and __Inactive__
STATUS_SETS = {
    "active": ("new", "open", "stalled"),
    "actif": ("new", "open", "stalled"),
    "inactive": ("resolved", "rejected", "deleted"),
    "inactif": ("resolved", "rejected", "deleted"),
}
ME_WORDS = {"me", "moi"}
_RANGE = re.compile(r"^(>=|<=|>|<)?(.+)$")


def folded(name: str) -> str:
    """Lower case without accents: ``Statut`` and ``statût`` are ``statut``."""
    decomposed = unicodedata.normalize("NFKD", name.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass(frozen=True)
class QuickQuery:
    """The search bar's text, understood."""

    condition: Condition | None = None
    ticket_id: int | None = None  # the whole text was one ticket number
    unknown: tuple[str, ...] = field(default=())  # field tokens nobody knows
    invalid: tuple[str, ...] = field(default=())  # known fields with a value that is not


def _tokens(text: str) -> list[tuple[bool, str, str, bool]]:
    """(negated, name or "", value, quoted) per token. Only double quotes make phrases: an
    apostrophe is French elision (l'achat), not a quote; a quote left open is ignored."""
    found = []
    for match in re.finditer(r'(-?)(?:([\w.\-]+):)?"([^"]*)"|(\S+)', text):
        if match.group(3) is not None:
            if value := match.group(3).strip():
                found.append((bool(match.group(1)), match.group(2) or "", value, True))
            continue
        word = match.group(4).replace('"', "")
        negated = word.startswith("-") and len(word) > 1
        word = word[1:] if negated else word
        name, sep, value = word.partition(":")
        if sep and value and not value.startswith("//") and re.fullmatch(r"[\w.\-]+", name):
            found.append((negated, name, value, False))
        elif word:
            found.append((negated, "", word, False))
    return found


def _exact(field_name: str, value: str, me: str) -> ExactCondition:
    values = [v for v in value.split(",") if v] or [value]
    resolved: list[str] = []
    for item in values:
        if field_name in ("owner", "requestor", "cc", "admincc", "creator") and (
            folded(item) in ME_WORDS
        ):
            resolved.append(me)
        elif field_name == "status":
            key = folded(item)
            resolved.extend(STATUS_SETS.get(key, (STATUS_WORDS.get(key, key),)))
        else:
            resolved.append(item)
    return ExactCondition(field=field_name, values=tuple(dict.fromkeys(resolved)))


def _next_day(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


def _range(field_name: str, value: str) -> RangeCondition:
    """``>2026-01-01``, ``<=3``, ``2026-01-01..2026-03-31``, or one day / one value."""
    numeric = field_name == "priority"
    convert = int if numeric else str
    if ".." in value:
        low, _, high = value.partition("..")
        bounds = {}
        if low:
            bounds["gte"] = convert(low)
        if high:
            bounds["lte" if numeric or "T" in high else "lt"] = (
                convert(high) if numeric or "T" in high else _next_day(high)
            )
        return RangeCondition(field=field_name, **bounds)
    match = _RANGE.match(value)
    assert match is not None
    op, operand = match.groups()
    if op:
        name = {">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}[op]
        return RangeCondition(field=field_name, **{name: convert(operand)})
    if numeric:
        return RangeCondition(field=field_name, gte=int(operand), lte=int(operand))
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", operand):  # that whole day
        return RangeCondition(field=field_name, gte=operand, lt=_next_day(operand))
    return RangeCondition(field=field_name, gte=operand, lte=operand)


def parse_quick_query(text: str, *, me: str) -> QuickQuery:
    words: list[str] = []
    negated_words: list[str] = []
    conditions: list[Condition] = []
    unknown: list[str] = []
    invalid: list[str] = []
    scope = "everything"
    for negated, raw_name, value, quoted in _tokens(text):
        name = folded(raw_name)
        condition: Condition | None = None
        try:
            if not raw_name:
                if quoted and " " in value:
                    condition = TextCondition(text=value, phrase=True)
                elif negated:
                    negated_words.append(value)
                else:
                    words.append(value)
            elif name in EXACT_TOKENS:
                condition = _exact(EXACT_TOKENS[name], value, me)
            elif name.startswith("cf.") and len(raw_name) > 3:
                condition = ExactCondition(field=f"cf.{raw_name[3:]}", values=(value,))
            elif name in RANGE_TOKENS:
                condition = _range(RANGE_TOKENS[name], value)
            elif name in HAS_TOKENS:
                what = HAS_VALUES.get(folded(value))
                if what is None:
                    invalid.append(f"{raw_name}:{value}")
                    continue
                condition = HasCondition(what=what)
            elif name in TEXT_TOKENS and TEXT_TOKENS[name] == "subject":
                condition = TextCondition(
                    text=value, phrase=quoted and " " in value, within="subject"
                )
            elif name in TEXT_TOKENS:
                if folded(value) not in SCOPES:
                    invalid.append(f"{raw_name}:{value}")
                    continue
                scope = SCOPES[folded(value)]
            elif quoted or re.fullmatch(r"[a-zA-Z_.]+", raw_name) is None:
                # "10:30", "ref:AB-12": a word with a colon, not a field
                words.append(f"{raw_name}:{value}")
            else:
                unknown.append(f"{raw_name}:{value}")
                continue
        except ValueError:  # a date that is none, a priority that is no number
            invalid.append(f"{raw_name}:{value}")
            continue
        if condition is not None:
            conditions.append(NotCondition(condition=condition) if negated else condition)
    ticket_id = None
    if len(words) == 1 and not conditions and not negated_words:
        number = re.fullmatch(r"#?(\d{1,12})", words[0])
        if number:
            ticket_id = int(number.group(1))
            conditions.append(ExactCondition(field="ticket", values=(str(ticket_id),)))
            words = []
    if words:
        conditions.insert(0, TextCondition(text=" ".join(words), within=scope))
    for word in negated_words:
        conditions.append(NotCondition(condition=TextCondition(text=word, within=scope)))
    whole: Condition | None = None
    if len(conditions) == 1:
        whole = conditions[0]
    elif conditions:
        whole = AllOf(of=tuple(conditions[:MAX_CONDITIONS]))
    return QuickQuery(whole, ticket_id, tuple(unknown), tuple(invalid))
