"""Arabic-aware folding: one form for every way a word can be typed."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.text import Query, fold, fold_with_offsets, western_digits


@pytest.mark.parametrize("typed, plain", [
    ("أحمد", "احمد"), ("إيمان", "ايمان"), ("آمال", "امال"), ("ٱلله", "الله"),
    ("فاطمة", "فاطمه"), ("سلمى", "سلمي"), ("مؤمن", "مومن"), ("رئيسة", "رييسه"),
    ("سَلْمَى", "سلمي"), ("ســـلـــمى", "سلمي"), ("ﻻ", "لا"),
    ("٠١٢٣٤٥٦٧٨٩", "0123456789"), ("۰۱۲۳۴۵۶۷۸۹", "0123456789"),
    ("Hélène", "helene"), ("SALMA", "salma"), ("Straße", "strasse"), ("کتاب", "كتاب"),
])
def test_folding(typed, plain):
    assert fold(typed) == plain


@given(st.text())
def test_offsets_point_back_into_the_original(text):
    folded, offsets = fold_with_offsets(text)
    offsets = list(offsets)
    assert folded == fold(text)
    assert len(offsets) == len(folded)
    assert offsets == sorted(offsets)
    assert all(0 <= i < len(text) for i in offsets)


@given(st.text(alphabet=st.sampled_from("aéSß ـَُسلمىةأ٣ﻻ")))
def test_offsets_hold_for_the_characters_that_change_length(text):
    folded, offsets = fold_with_offsets(text)
    assert folded == fold(text)
    for position, index in enumerate(offsets):
        assert folded[position] in fold(text[index])


@given(st.text())
def test_folding_is_stable(text):
    assert fold(fold(text)) == fold(text)


def test_western_digits_keep_length():
    text = "هاتف ٠٥٥١٢٣ and ۴۵"
    assert western_digits(text) == "هاتف 055123 and 45"
    assert len(western_digits(text)) == len(text)


def test_a_query_splits_into_folded_terms():
    assert Query("  Salma  سَلمى ").terms == ["salma", "سلمي"]
