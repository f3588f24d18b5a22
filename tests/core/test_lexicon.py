"""The ordinary words scrubbing knows: none of them folds onto a name."""

import pytest

from core.lexicon import AGE_CUES, MONTHS, NAME_CUES, ORDINARY, month_names
from core.text import fold_for_matching

# Common given and family names of the region, in both scripts, written here by hand.
NAMES = " ".join([
    "علي عمر محمد أحمد حسن حسين سعيد صباح نور أمل هدى منى سلمى ليلى فاطمة عائشة مريم زينب",
    "سامي كريم وليد هشام منير طارق رشيد نبيل بلال شكري السيد الشريف الطرابلسي بن",
    "Ali Omar Mohamed Ahmed Hassan Said Sabah Nour Amal Houda Mona Salma Leila Fatma Aicha",
    "Meriem Sami Karim Walid Hichem Mounir Tarek Rachid Nabil Bilel Chokri Essid Cherif Will May",
    "Rose Grace Ben Ibn Amel Sana Rim Ines Imen Hela Dalila Jamila Amira Yasmine Zahra",
]).split()


def test_no_ordinary_word_folds_onto_a_name():
    folded = {fold_for_matching(name) for name in NAMES}
    assert ORDINARY.isdisjoint(folded), sorted(ORDINARY & folded)


def test_the_preposition_on_is_not_an_ordinary_word():
    """على folds to علي (Ali): it must not keep a name from being scrubbed."""
    assert fold_for_matching("على") not in ORDINARY


@pytest.mark.parametrize("written, month", [
    ("كانون الثاني", 1), ("شباط", 2), ("جانفي", 1), ("فيفري", 2), ("يناير", 1),
    ("Février", 2), ("AOÛT", 8), ("أوت", 8), ("تشرين الأول", 10), ("نونبر", 11),
    ("dec", 12), ("September", 9),
])
def test_month_names_of_the_region(written, month):
    assert month_names()[fold_for_matching(written)] == month


def test_every_month_has_names_in_three_languages():
    assert sorted(MONTHS) == list(range(1, 13))
    for names in MONTHS.values():
        assert any(name.isascii() for name in names)
        assert any("\u0600" <= name[0] <= "\u06ff" for name in names)


def test_cues_are_folded():
    assert fold_for_matching("Maître") in NAME_CUES and fold_for_matching("المحامية") in NAME_CUES
    assert fold_for_matching("âgée") in AGE_CUES
