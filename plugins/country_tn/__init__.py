"""Tunisia: governorates, delegations and their spellings; the laws used against defenders;
national ID and phone numbers to scrub; a policy hook that only withholds more."""

from __future__ import annotations

from pathlib import Path

from core import countries
from core.hookspecs import hookimpl

from .national_id import CIN

DATA = Path(__file__).parent / "data"
COUNTRY = "TN"
# Where a defender lives is kept out of public statistics (see README: "Policy").
PERSONAL_PLACES = ("defender.residence",)
NARROWED_AUDIENCES = ("public-aggregate",)


@hookimpl
def register_places():
    return countries.places(DATA)


@hookimpl
def register_terms():
    return countries.laws(DATA) + countries.terms(DATA)


@hookimpl
def register_phone_regions():
    return [COUNTRY]


@hookimpl
def register_scrub_patterns():
    return [CIN]


@hookimpl
def redacted_fields(record, audience):
    if audience not in NARROWED_AUDIENCES:
        return []
    return countries.places_in(record, PERSONAL_PLACES, COUNTRY)
