"""Arabic-aware folding: one form for every way a word can be typed."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.text import Query, fold, fold_with_offsets, fold_words, folds_to_nothing, western_digits

# Folding's tables are built once per process, on the first text that is not ASCII (~0.1 s
# of CPU, more on a busy machine): here, not inside an example Hypothesis times.
fold("é")


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


WORDS_ALPHABET = st.sampled_from("aZé_-.,\n 7٣ـَسلمىةأﻻß\u00a0")


@given(st.text(alphabet=WORDS_ALPHABET) | st.text())
def test_fold_words_keeps_the_words_of_the_folded_text(text):
    """Same words as a regular expression over fold(text): letters and digits only, one line
    per line."""
    words = fold_words(text)
    expected = [re.findall(r"[^\W_]+", line) for line in fold(text).split("\n")]
    assert [line.split() for line in words.split("\n")] == expected


@pytest.mark.parametrize("char, vanishes", [
    ("\u0640", True), ("\u064e", True), ("\u0621", True), ("\u0301", True),
    ("a", False), ("ة", False), ("٣", False), (" ", False),
])
def test_folds_to_nothing(char, vanishes):
    assert folds_to_nothing(char) is vanishes
    assert (fold(char) == "") is vanishes


@given(st.lists(st.text(alphabet=WORDS_ALPHABET) | st.text(), max_size=5))
def test_values_and_texts_are_folded_alike(values):
    """One folding for a record's values (all at once) and for its texts (with offsets)."""
    from core.text import fold_for_matching, fold_values

    assert fold_values(values) == [fold_for_matching(value.replace("\n", " ")).strip()
                                   for value in values]


@pytest.mark.parametrize("names, key", [
    (["Salma", "Selma", "سلمى", "SALMA"], "SLM"),
    (["Trabelsi", "Ettrabelsi", "طرابلسي"], "TRBLS"),
    (["Chaima", "Shaima", "شيماء"], "SM"),
    (["Khadija", "Khedija", "خديجة"], "KDJ"),
    (["Fatimah", "Fatma", "فاطمة"], "FTM"),
])
def test_names_share_their_consonant_key_across_scripts(names, key):
    from core.text import fold_for_matching, name_keys

    assert {name_keys(fold_for_matching(name)) for name in names} == {key}


@given(st.text(alphabet=WORDS_ALPHABET) | st.text())
def test_the_tables_fold_as_character_by_character(text):
    """The translate tables and the offsets worked out from what was taken out give what
    folding each character on its own gives."""
    from core.text import _fold_slowly, _fold_words_slowly, fold_words_with_offsets

    slowly = _fold_slowly(text)
    folded, offsets = fold_with_offsets(text)
    assert (folded, list(offsets)) == slowly
    words, offsets = fold_words_with_offsets(text)
    assert (words, list(offsets)) == _fold_words_slowly(*slowly)


def test_offsets_count_what_was_taken_out():
    """Harakat and a lone hamza dropped, runs of punctuation and spaces made one space: each
    character still points at where it was written."""
    from core.text import fold_words_with_offsets

    text = "سَلْمَى ، ، بنت  ءأحمد"
    words, offsets = fold_words_with_offsets(text)
    assert words == "سلمي بنت احمد"
    assert list(offsets) == [0, 2, 4, 6, 7, 12, 13, 14, 15, 18, 19, 20, 21]
    assert offsets[-1] == 21 and offsets[5:8] == [12, 13, 14]
    with pytest.raises(IndexError):
        offsets[len(words)]
