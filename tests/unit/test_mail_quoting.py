"""shared.mail.quoting: a mail's text cut into body, quote and signature, for folding."""

from __future__ import annotations

import pytest

from shared.mail.quoting import TextBlock, fold_spans, split_blocks


def kinds(text: str) -> list[str]:
    return [block.kind for block in split_blocks(text)]


def blocks(text: str) -> list[tuple[str, str]]:
    return [(block.kind, block.text) for block in split_blocks(text)]


def test_empty_text_has_no_blocks() -> None:
    assert split_blocks("") == ()


def test_plain_text_is_one_body_block() -> None:
    assert split_blocks("Bonjour,\nun devis svp.") == (
        TextBlock("body", "Bonjour,\nun devis svp."),
    )


@pytest.mark.parametrize(
    "text",
    [
        "Merci.\n\nOn Mon, May 4, 2026 at 9:12 AM Achats <achats@example.org> wrote:\n> Bonjour",
        "Merci.\n\nLe lun. 4 mai 2026 à 09:12, Achats <achats@example.org> a écrit :\n> Bonjour",
        "Merci.\n\nLe 04/05/2026 à 09:12, Achats a écrit :\n> Bonjour",
        "Merci.\n\nLe mar. 19 mai 2026, 17:30, Achats <a@example.org> a écrit\u00a0:\n\n> Bonjour",
        "Merci.\n\nLe 4 mai 2026 à 09:12, Achats a écrit\u202f:\n> Bonjour",
        "Merci.\n\nAm 04.05.2026 um 09:12 schrieb Achats:\n> Hallo",
        "Merci.\n\nAchats <achats@example.org> wrote:\n> Bonjour",
    ],
    ids=["gmail-en", "gmail-fr", "thunderbird-fr", "android-fr-nbsp", "narrow-nbsp", "de", "bare"],
)
def test_attribution_line_and_quoted_lines_are_a_quote(text: str) -> None:
    (body, quote) = split_blocks(text)
    assert body == TextBlock("body", "Merci.\n")
    assert quote.kind == "quote"
    assert quote.text.endswith(("> Bonjour", "> Hallo"))


def test_gmails_wrapped_attribution_is_read_over_several_lines() -> None:
    text = (
        "Great.\n\nOn Tue, May 12, 2026 at 4:02 PM Purchasing <achats@tickets.example.org>\n"
        "wrote:\n\n> Hello"
    )
    assert blocks(text) == [
        ("body", "Great.\n"),
        ("quote", "On Tue, May 12, 2026 at 4:02 PM Purchasing <achats@tickets.example.org>\n"
                  "wrote:\n\n> Hello"),
    ]  # fmt: skip


def test_a_sentence_ending_in_wrote_does_not_swallow_the_line_before() -> None:
    text = "I read your mail.\nAs you wrote:\n> the price is fixed"
    assert blocks(text) == [
        ("body", "I read your mail."),
        ("quote", "As you wrote:\n> the price is fixed"),
    ]


def test_interleaved_answers_alternate_body_and_quote() -> None:
    text = "> Question 1 ?\nRéponse 1.\n\n> Question 2 ?\n> suite\nRéponse 2."
    assert blocks(text) == [
        ("quote", "> Question 1 ?"),
        ("body", "Réponse 1.\n"),
        ("quote", "> Question 2 ?\n> suite"),
        ("body", "Réponse 2."),
    ]


@pytest.mark.parametrize(
    "header_block",
    [
        "De : Achats <achats@example.org>\nEnvoyé : lundi 4 mai 2026 09:12\n"
        "À : Bob <bob@example.com>\nObjet : RE: [example #12] Devis",
        "From: Achats <achats@example.org>\nSent: Monday, May 4, 2026 9:12 AM\n"
        "To: Bob <bob@example.com>\nSubject: RE: [example #12] Devis",
        "From: Achats <achats@example.org>\nDate: Friday, 8 May 2026 at 17:45\n"
        "To: Li Wei <li.wei@example.cn>\nSubject: Devis",
        "*From:* Achats <achats@example.org>\n*Sent:* Monday, May 4, 2026 9:12 AM\n"
        "*Subject:* Devis",
        "Von: Achats <achats@example.org>\nGesendet: Montag, 4. Mai 2026 09:12\n"
        "An: Sven\nBetreff: Devis",
    ],
    ids=["outlook-fr", "outlook-en", "outlook-mac", "bold-stars", "outlook-de"],
)
def test_an_outlook_header_block_quotes_the_rest_of_the_mail(header_block: str) -> None:
    text = f"Voici le devis.\n\n{header_block}\n\nBonjour,\nun devis svp.\n\n-- \nAchats"
    assert blocks(text) == [
        ("body", "Voici le devis.\n"),
        ("quote", f"{header_block}\n\nBonjour,\nun devis svp.\n\n-- \nAchats"),
    ]


@pytest.mark.parametrize(
    "marker",
    [
        "-----Original Message-----",
        "-----Message d'origine-----",
        "-------- Message d'origine --------",
        "-----Ursprüngliche Nachricht-----",
        "---------- Forwarded message ---------",
        "-------- Message transféré --------",
        "-------- Forwarded Message --------",
        "Begin forwarded message:",
        "Début du message réexpédié :",
    ],
)
def test_original_message_and_forward_markers_quote_the_rest(marker: str) -> None:
    text = f"Pour info.\n\n{marker}\nObjet : x\n\ntexte transféré"
    assert blocks(text) == [
        ("body", "Pour info.\n"),
        ("quote", f"{marker}\nObjet : x\n\ntexte transféré"),
    ]


def test_outlooks_line_of_underscores_belongs_to_the_quote() -> None:
    text = (
        "OK.\n\n________________________________\nDe : Achats <a@example.org>\n"
        "Envoyé : mardi 19 mai 2026 19:01\nObjet : Licences\n\nà valider"
    )
    assert kinds(text) == ["body", "quote"]
    assert split_blocks(text)[1].text.startswith("________________________________\nDe : ")


def test_a_from_line_alone_is_not_a_header_block() -> None:
    text = "From: the supplier, again.\nSent the invoice yesterday.\nThanks"
    assert kinds(text) == ["body"]


@pytest.mark.parametrize("delimiter", ["-- ", "--"])
def test_a_dash_dash_line_starts_a_signature(delimiter: str) -> None:
    text = f"Merci.\n\n{delimiter}\nAlice Martin\nService achats"
    assert blocks(text) == [
        ("body", "Merci.\n"),
        ("signature", f"{delimiter}\nAlice Martin\nService achats"),
    ]


def test_a_signature_ends_where_a_quote_starts() -> None:
    text = "Oui.\n\n-- \nAlice\n\n> Le 4 mai 2026 à 09:12, Achats a écrit :\n> Question ?"
    assert kinds(text) == ["body", "signature", "quote"]


def test_a_signature_inside_a_quote_stays_quote() -> None:
    text = "Oui.\n\n> Question ?\n> -- \n> Achats"
    assert kinds(text) == ["body", "quote"]


@pytest.mark.parametrize(
    "footer",
    [
        "Sent from my iPhone",
        "Envoyé de mon iPhone",
        "Envoyé depuis mon smartphone Samsung Galaxy.",
        "Envoyé à partir de Outlook pour Android",
        "Obtenir Outlook pour iOS<https://aka.ms/o0ukef>",
        "Get Outlook for Android",
        "Provenance : Courrier pour Windows",
        "Von meinem iPhone gesendet",
    ],
)
def test_a_phone_footer_as_last_line_is_a_signature(footer: str) -> None:
    text = f"D'accord.\n\n{footer}\n\n> Le 4 mai 2026 à 09:12, Achats a écrit :\n> Valide ?"
    assert kinds(text) == ["body", "signature", "quote"]
    assert split_blocks(text)[1].text.startswith(footer)


def test_a_phone_footer_followed_by_more_text_is_body() -> None:
    text = "Sent from my office, the order list:\n- paper\n- pens"
    assert kinds(text) == ["body"]


def test_an_unquoted_copy_after_a_dated_attribution_is_a_quote() -> None:
    text = "Merci.\n\nLe 4 mai 2026 à 09:12, Achats a écrit :\nBonjour,\nune question."
    assert kinds(text) == ["body", "quote"]


def test_an_undated_a_ecrit_line_without_quote_is_body() -> None:
    text = "Le fournisseur a écrit :\nil livrera lundi."
    assert kinds(text) == ["body"]


def test_leading_blank_lines_go_with_the_first_block() -> None:
    assert blocks("\n\n> cité\nréponse") == [("quote", "\n\n> cité"), ("body", "réponse")]


@pytest.mark.parametrize(
    "text",
    [
        "a\n\n> b\n\n-- \nc\n\nFrom: x\nSent: y\nSubject: z\n\nw",
        "\n\n\n",
        "-- ",
        "> only\n>\n> quote",
        "On Mon wrote:",
        "x\r\ny",
    ],
)
def test_the_blocks_give_the_text_back(text: str) -> None:
    assert "\n".join(block.text for block in split_blocks(text)) == text


def test_fold_spans_are_offsets_into_the_text() -> None:
    text = "Merci.\n\nLe 3 mars, Achats a écrit :\n> Votre devis ?\n-- \nAlice"
    spans = fold_spans(text)
    assert [kind for kind, _, _ in spans] == ["quote", "signature"]
    quote = text[spans[0][1] : spans[0][2]]
    assert quote.startswith("Le 3 mars") and "> Votre devis ?" in quote
    assert text[spans[1][1] : spans[1][2]].startswith("-- ")
    assert not text[: spans[0][1]].strip().endswith("?")  # the body stays out of the fold
