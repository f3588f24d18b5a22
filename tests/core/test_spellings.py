"""Other spellings of a name, proposed for the documenter to confirm."""

import pytest

from core.spellings import MAX_PROPOSALS, propose_spellings, word_spellings
from core.text import fold


@pytest.mark.parametrize("latin, arabic", [
    ("Salma", "سلمى"), ("Karim", "كريم"), ("Omar", "عمر"), ("Ahmed", "أحمد"), ("Ali", "علي"),
    ("Nour", "نور"), ("Huda", "هدى"), ("Amal", "أمل"), ("Sami", "سامي"),
])
def test_latin_names_are_proposed_in_arabic(latin, arabic):
    assert fold(arabic) in {fold(form) for form in word_spellings(latin)}


@pytest.mark.parametrize("arabic, latin", [
    ("سلمى", "salma"), ("علي", "ali"), ("نور", "nour"), ("ليلى", "lila"),
])
def test_arabic_names_are_proposed_in_latin(arabic, latin):
    assert latin in {form.lower() for form in word_spellings(arabic)}


def test_french_and_english_habits_are_both_proposed():
    forms = word_spellings("شيماء")
    assert any(form.lower().startswith("ch") for form in forms)
    assert any(form.lower().startswith("sh") for form in forms)


def test_proposals_are_other_spellings_in_one_script_each():
    proposals = propose_spellings("Salma Trabelsi")
    assert proposals and len(proposals) <= MAX_PROPOSALS
    assert "Salma Trabelsi" not in proposals
    for proposal in proposals:
        assert all(not char.isascii() or char == " " for char in proposal)


def test_nothing_to_propose_for_nothing():
    assert propose_spellings("") == [] and propose_spellings("   ") == []
