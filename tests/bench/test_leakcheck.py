"""The leak check: cases written the way documenters write (bench/canaries.py), redacted for
every audience. Nothing the case holds and no exact generalised value survives, nothing
reaches public statistics, and the detector itself can fail. `make leakcheck` runs 1,000
cases and prints the table by category; here 60 cases on each schema."""

import random

import pytest

from bench.canaries import (
    GENERALISED,
    HELD,
    UNRECORDED,
    Canary,
    documented_case,
    leaked,
    normalised,
)
from bench.leakcheck import POLICY, open_only, ordinary_words_taken, schema_with_spellings
from core.redaction import redact
from core.scrub import PLACEHOLDER
from tests.fixtures.testimony.schemas import TestimonySchema

CASES = schema_with_spellings()
SEEDS = range(60)


@pytest.mark.parametrize("schema", [CASES, TestimonySchema()], ids=["case", "testimony"])
@pytest.mark.parametrize("seed", SEEDS)
def test_nothing_held_and_no_exact_generalised_value_survives(schema, seed):
    case = documented_case(random.Random(seed), schema)
    for audience in ("peers", "hub"):
        payload = redact(case.values, schema, audience, POLICY).payload
        assert [(c.category, c.shown) for c in leaked(payload, case.canaries)
                if c.group in (HELD, GENERALISED)] == [], audience
    public = redact(case.values, schema, "public-aggregate", POLICY).payload
    assert leaked(public, case.canaries) == []


def test_unrecorded_spellings_are_mostly_caught_and_ordinary_words_stay():
    quoted = caught = words = taken = 0
    for seed in SEEDS:
        rng = random.Random(seed)
        case = documented_case(rng, CASES)
        present = [c for c in leaked(open_only(case.values, CASES), case.canaries)
                   if c.group == UNRECORDED]
        payload = redact(case.values, CASES, "hub", POLICY).payload
        quoted += len(present)
        caught += len(present) - len(leaked(payload, present))
        counted = ordinary_words_taken(rng, case.values, CASES)
        words, taken = words + counted[0], taken + counted[1]
    assert quoted > 300 and caught / quoted >= 0.95
    assert words > 5000 and taken / words <= 0.01


def test_every_category_is_quoted_before_redaction():
    """The check can fail: before redaction, the detector finds what the texts quote."""
    categories = set()
    for seed in range(20):
        case = documented_case(random.Random(seed), CASES)
        found = leaked(open_only(case.values, CASES), case.canaries)
        assert len(found) >= 0.9 * len(case.canaries)
        categories |= {canary.category for canary in found}
    assert {"name: full name", "phone", "national ID", "kunya", "lawyer named in notes",
            "street address: house number", "employer: acronym", "exact place",
            "exact age or birth year", "occurred_on: exact date", "name: other script",
            "defender: recorded other spelling"} <= categories


def _canary(*needles):
    return Canary("test", HELD, tuple(tuple(normalised(n)) for n in needles), needles[0])


def test_the_detector_sees_through_disguises():
    salma = _canary("سلمى")
    assert leaked({"n": "وسَلْمـى came"}, [salma]) == [salma]
    assert leaked({"n": f"{PLACEHOLDER} came"}, [salma]) == []
    phone = Canary("phone", HELD, (("#20123456",),), "20 123 456")
    assert leaked({"n": "call ٢٠ – ١٢٣\n٤٥٦"}, [phone]) == [phone]
    date = _canary("14 novembre")
    assert leaked({"n": "le 14 Novembre"}, [date]) == [date]
    assert leaked({"n": f"le {PLACEHOLDER} novembre"}, [date]) == []
