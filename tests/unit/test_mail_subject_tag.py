"""shared.mail.subject_tag: the ``[<rtname> #<id>]`` tag, written once and found when mangled."""

from __future__ import annotations

import pytest

from shared.mail.subject_tag import find_ticket_ids, format_tag, tagged_subject


def test_tag_is_rtname_and_number_in_brackets() -> None:
    assert format_tag("example", 7) == "[example #7]"


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Commande de stylos", "[example #7] Commande de stylos"),
        ("", "[example #7]"),
        ("[example #7] Commande", "[example #7] Commande"),
        ("Re: [example #7] Commande", "Re: [example #7] Commande"),
        ("[example #17] Autre", "[example #7] [example #17] Autre"),
        ("[other #7] Commande", "[example #7] [other #7] Commande"),
    ],
)
def test_subject_gets_the_tag_in_front_exactly_once(subject: str, expected: str) -> None:
    result = tagged_subject("example", 7, subject)
    assert result == expected
    assert result.count("[example #7]") == 1


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("[example #12] Commande", [12]),
        ("RE: [Example  # 12] Commande", [12]),
        ("AW: [ example #12 ] Bestellung", [12]),
        ("TR: [EXAMPLE #12]", [12]),
        ("Re: [example\t#\t12]", [12]),
        ("Re: [example #12] Re: [example #12]", [12]),
        ("[example #3] et [example #12]", [3, 12]),
        ("[example #12] puis [example #3]", [12, 3]),
        ("[example #0] zéro", []),
        ("[example #] vide", []),
        ("[example #abc]", []),
        ("[example#12] sans espace", []),
        ("example #12 sans crochets", []),
        ("[other #12] autre instance", []),
        ("[examples #12] autre nom", []),
        ("[example #1234567890123] trop long", []),
        ("", []),
    ],
)
def test_ticket_ids_are_found_in_mangled_tags_of_our_names(
    subject: str, expected: list[int]
) -> None:
    assert find_ticket_ids(subject, ["example"]) == expected


def test_former_names_are_recognised_too() -> None:
    subject = "[old-name #4] [example #5] [other #6]"
    assert find_ticket_ids(subject, ["example", "old-name"]) == [4, 5]


@pytest.mark.parametrize(
    ("rtname", "subject", "expected"),
    [
        ("ex.ample", "[ex.ample #3]", [3]),
        ("ex.ample", "[exXample #3]", []),
        ("a+b", "[a+b #3] [aab #4]", [3]),
        ("(x)", "[(x) #3]", [3]),
    ],
)
def test_names_with_regex_characters_are_matched_literally(
    rtname: str, subject: str, expected: list[int]
) -> None:
    assert find_ticket_ids(subject, [rtname]) == expected


@pytest.mark.parametrize("names", [[], [""], ["", ""]])
def test_no_names_finds_nothing(names: list[str]) -> None:
    assert find_ticket_ids("[example #12] [ #3]", names) == []
