"""Generalisation rules: how a `generalise` field is coarsened before it leaves a node.

Each rule is a small named function from a stored (serialised) value to a coarser one, or
None when the value cannot be coarsened safely (then the field is withheld). Schemas name
the rule in the field's metadata: ``metadata={"sharing": "generalise", "rule": "date_to_month"}``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from core.places import COUNTRY, GOVERNORATE, Gazetteer

AGE_BANDS = ((0, 17, "under-18"), (18, 29, "18-29"), (30, 44, "30-44"), (45, 59, "45-59"))
COUNT_RANGES = ((0, 0, "0"), (1, 1, "1"), (2, 5, "2-5"), (6, 10, "6-10"), (11, 50, "11-50"))


def date_to_month(value, places: Gazetteer) -> str | None:
    parsed = as_date(value)
    return f"{parsed.year:04d}-{parsed.month:02d}" if parsed else None


def date_to_year(value, places: Gazetteer) -> str | None:
    parsed = as_date(value)
    return f"{parsed.year:04d}" if parsed else None


def age_to_band(value, places: Gazetteer) -> str | None:
    age = _int(value)
    if age is None or age < 0 or age > 130:
        return None
    for low, high, band in AGE_BANDS:
        if low <= age <= high:
            return band
    return "60+"


def count_to_range(value, places: Gazetteer) -> str | None:
    count = _int(value)
    if count is None or count < 0:
        return None
    for low, high, label in COUNT_RANGES:
        if low <= count <= high:
            return label
    return "51+"


def place_to_governorate(value, places: Gazetteer) -> str | None:
    """The governorate holding the place; a place known only to its country (or a locality
    no governorate holds) goes up to the country, which is coarser still."""
    if not isinstance(value, str):
        return None
    return places.up_to(value, GOVERNORATE) or places.up_to(value, COUNTRY)


def place_to_country(value, places: Gazetteer) -> str | None:
    return places.up_to(value, COUNTRY) if isinstance(value, str) else None


RULES: dict[str, Callable] = {
    rule.__name__: rule
    for rule in (date_to_month, date_to_year, age_to_band, count_to_range,
                 place_to_governorate, place_to_country)
}


def as_date(value) -> date | None:
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _int(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None
