"""Generalisation rules: coarse, or withheld when unsure."""

import pytest

from core.generalise import RULES
from core.places import Gazetteer, Place, iso_places

PLACES = Gazetteer([
    Place("TN", "country"),
    Place("TN-61", "governorate", parent="TN"),
    Place("TN-61:sakiet-ezzit", "locality", parent="TN-61"),
])


@pytest.mark.parametrize("rule, value, expected", [
    ("date_to_month", "2025-03-14", "2025-03"),
    ("date_to_month", "14/03/2025", None),
    ("date_to_year", "2025-03-14", "2025"),
    ("age_to_band", 12, "under-18"), ("age_to_band", 18, "18-29"), ("age_to_band", 29, "18-29"),
    ("age_to_band", 30, "30-44"), ("age_to_band", 45, "45-59"), ("age_to_band", 60, "60+"),
    ("age_to_band", -1, None), ("age_to_band", "forty", None), ("age_to_band", True, None),
    ("count_to_range", 0, "0"), ("count_to_range", 1, "1"), ("count_to_range", 4, "2-5"),
    ("count_to_range", 7, "6-10"), ("count_to_range", 40, "11-50"), ("count_to_range", 400, "51+"),
    ("place_to_governorate", "TN-61:sakiet-ezzit", "TN-61"),
    ("place_to_governorate", "TN-61", "TN-61"),
    # Known only to its country: the country leaves, coarser than any governorate.
    ("place_to_governorate", "TN", "TN"),
    ("place_to_governorate", "XX-99", None),
    ("place_to_governorate", "12 rue de Marseille, Sfax", None),
    ("place_to_country", "TN-61:sakiet-ezzit", "TN"),
])
def test_rules(rule, value, expected):
    assert RULES[rule](value, PLACES) == expected


def test_a_gazetteer_refuses_unknown_parents_and_duplicates():
    with pytest.raises(ValueError, match="unknown parent"):
        Gazetteer([Place("TN-61", "governorate", parent="TN")])
    with pytest.raises(ValueError, match="twice"):
        Gazetteer([Place("TN", "country"), Place("TN", "country")])


@pytest.mark.parametrize("rule, value, expected", [
    ("place_to_governorate", "YE-SH", "YE-SH"), ("place_to_country", "YE-SH", "YE"),
    ("place_to_governorate", "MA-03", "MA-03"), ("place_to_country", "MA-03", "MA"),
    ("place_to_governorate", "YE", "YE"), ("place_to_country", "LB-BA", "LB"),
])
def test_rules_on_the_places_every_node_knows(rule, value, expected):
    """No country plugin: ISO 3166's first-level subdivisions generalise as governorates."""
    assert RULES[rule](value, Gazetteer([], base=iso_places())) == expected
