"""No identifying value survives redaction: canaries in every `never` field, quoted in every
way people write them, and zero of them in any payload. CI runs 1,000 examples;
`make leakcheck` runs 10,000."""

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.leakcheck import canary_records, leaks
from core.places import Gazetteer, Place
from core.redaction import AUDIENCES, NEVER, Policy, redact
from core.scrub import Scrubber, ScrubPattern
from tests.fixtures.testimony.schemas import TestimonySchema

EXAMPLES = int(os.environ.get("RABITA_CANARY_EXAMPLES", "1000"))
PLACES = Gazetteer([Place("TN", "country"), Place("TN-61", "governorate", parent="TN"),
                    Place("TN-61:sakiet-ezzit", "locality", parent="TN-61")])
POLICY = Policy(Scrubber(["TN"], [ScrubPattern("tn.cin", r"(?<!\d)\d{8}(?!\d)")]), PLACES)
SCHEMA = TestimonySchema()
TYPICAL = {"place": st.sampled_from(["TN", "TN-61", "TN-61:sakiet-ezzit", "elsewhere"])}


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(canary_records(SCHEMA, TYPICAL))
def test_no_canary_survives_redaction(record):
    for audience in AUDIENCES:
        payload = redact(record.values, SCHEMA, audience, POLICY).payload
        assert leaks(payload, record.canaries, record.whole) == [], audience


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(canary_records(SCHEMA, TYPICAL))
def test_the_detector_finds_canaries_left_in_open_text(record):
    """The check above can fail: without redaction, quoted canaries are found."""
    open_only = {name: value for name, value in record.values.items()
                 if SCHEMA.fields[name].metadata["sharing"] != NEVER}
    quoted = [c for c in record.canaries
              if leaks({"text": record.values["narrative"]}, [c])]
    assert set(quoted) <= set(leaks(open_only, record.canaries))


def test_the_detector_sees_through_disguises():
    assert leaks({"n": "وسَلْمـى came"}, ["سلمى"]) == ["سلمى"]
    assert leaks({"n": "call ٢٠-١٢٣٤٥٦"}, ["20123456"]) == ["20123456"]
    assert leaks({"n": "BQRTZ was there"}, ["bqrtz"]) == ["bqrtz"]
    assert leaks({"n": "[redacted] was there"}, ["bqrtz"]) == []
