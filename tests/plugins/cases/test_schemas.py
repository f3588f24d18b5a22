"""The shared record cases.case: every field declared, and no canary survives redaction."""

import random

import pytest

from bench.canaries import PLACES, UNRECORDED, documented_case, leaked
from core.redaction import AUDIENCES, Policy, redact, undeclared_fields
from core.scrub import Scrubber, ScrubPattern
from plugins.cases.schemas import CaseSchema

SCHEMA = CaseSchema()
POLICY = Policy(Scrubber(["TN"], [ScrubPattern("tn.cin", r"(?<!\d)\d{8}(?!\d)")]), PLACES)


def test_every_field_declares_its_class():
    assert undeclared_fields(SCHEMA) == []


def test_the_identifying_fields_are_the_ones_the_issue_names():
    never = {f"{path}" for path in _paths(SCHEMA) if _sharing(SCHEMA, path) == "never"}
    assert never == {
        "defender.real_name", "defender.contacts", "defender.address", "defender.organisation",
        "incidents.place_detail", "incidents.perpetrator_identity", "incidents.sources",
        "incidents.source_reliability", "interventions.notes",
    }


@pytest.mark.parametrize("seed", range(30))
def test_no_canary_survives_redaction_of_a_case(seed):
    """Cases written as documenters write (bench/canaries.py; `make leakcheck` runs 1,000)."""
    case = documented_case(random.Random(1000 + seed), SCHEMA)
    for audience in AUDIENCES:
        payload = redact(case.values, SCHEMA, audience, POLICY).payload
        assert [c.shown for c in leaked(payload, case.canaries) if c.group != UNRECORDED] == []


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
