"""The shared record cases.case: every field declared, and no canary survives redaction."""

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.leakcheck import canary_records, leaks
from core.places import Gazetteer, Place
from core.redaction import AUDIENCES, Policy, redact, undeclared_fields
from core.scrub import Scrubber, ScrubPattern
from plugins.cases.schemas import CaseSchema

SCHEMA = CaseSchema()
PLACES = Gazetteer([Place("TN", "country"), Place("TN-61", "governorate", parent="TN"),
                    Place("TN-61:sakiet-ezzit", "locality", parent="TN-61")])
POLICY = Policy(Scrubber(["TN"], [ScrubPattern("tn.cin", r"(?<!\d)\d{8}(?!\d)")]), PLACES)
PLACE = st.sampled_from(["TN-61", "TN-61:sakiet-ezzit", "unknown"])
TYPICAL = {"defender.residence": PLACE, "incidents.place": PLACE}


def test_every_field_declares_its_class():
    assert undeclared_fields(SCHEMA) == []


def test_the_identifying_fields_are_the_ones_the_issue_names():
    never = {f"{path}" for path in _paths(SCHEMA) if _sharing(SCHEMA, path) == "never"}
    assert never == {
        "defender.real_name", "defender.contacts", "defender.address", "defender.organisation",
        "incidents.place_detail", "incidents.perpetrator_identity", "incidents.sources",
        "incidents.source_reliability", "interventions.notes",
    }


@settings(max_examples=int(os.environ.get("RABITA_CANARY_EXAMPLES", "300")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(canary_records(SCHEMA, TYPICAL))
def test_no_canary_survives_redaction_of_a_case(record):
    for audience in AUDIENCES:
        payload = redact(record.values, SCHEMA, audience, POLICY).payload
        assert leaks(payload, record.canaries, record.whole) == []


def _paths(schema, prefix=""):
    from core.redaction import _nested_schema

    for name, field in schema.fields.items():
        nested = _nested_schema(field)
        if nested is not None:
            yield from _paths(nested, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}"


def _sharing(schema, path):
    from core.redaction import _nested_schema, sharing_of

    *parents, name = path.split(".")
    for parent in parents:
        schema = _nested_schema(schema.fields[parent])
    return sharing_of(schema.fields[name])
