"""Redaction: one pure function; sharing classes; policy hooks that only tighten."""

from unittest.mock import patch

import pytest
from marshmallow import Schema, fields

from core import scrub
from core.places import Gazetteer, Place
from core.redaction import (
    NEVER_FIELD,
    OPEN_FIELD,
    Policy,
    UnknownAudience,
    generalised,
    payload_hash,
    redact,
    undeclared_fields,
)
from core.scrub import PLACEHOLDER, Scrubber
from tests.fixtures.testimony.schemas import TestimonySchema

PLACES = Gazetteer([Place("TN", "country"), Place("TN-61", "governorate", parent="TN"),
                    Place("TN-61:sakiet-ezzit", "locality", parent="TN-61")])
POLICY = Policy(Scrubber(["TN"]), PLACES)
VALUES = {
    "title": "Summons of Salma",
    "narrative": "Salma Ben Ali (+216 20 123 456) was summoned; her neighbour Huda saw it.",
    "tags": ["summons", "Salma"],
    "place": "TN-61:sakiet-ezzit",
    "happened_on": "2025-03-14",
    "age": 34,
    "people_affected": 3,
    "teller_name": "Salma Ben Ali",
    "teller_phone": "+216 20 123 456",
    "teller_address": "12 rue de Marseille",
    "private_notes": "Do not call after 6pm",
    "witnesses": [{"uuid": "w1", "statement": "I saw Huda Trabelsi there", "name": "Huda Trabelsi"}],
}


def test_each_class_is_applied():
    result = redact(VALUES, TestimonySchema(), "hub", POLICY)
    assert result.payload == {
        "title": f"Summons of {PLACEHOLDER}",
        "narrative": f"{PLACEHOLDER} ({PLACEHOLDER}) was summoned; her neighbour {PLACEHOLDER} saw it.",
        "tags": ["summons", PLACEHOLDER],
        "place": "TN-61",
        "happened_on": "2025-03",
        "age": "30-44",
        "people_affected": "2-5",
        "witnesses": [{"uuid": "w1", "statement": f"I saw {PLACEHOLDER} there"}],
    }
    assert result.withheld == ("private_notes", "teller_address", "teller_name", "teller_phone",
                               "witnesses.name")
    assert not result.blocked


def test_a_field_without_a_class_never_leaves():
    class Loose(Schema):
        said = fields.String(metadata=OPEN_FIELD)
        secret = fields.String()

    result = redact({"said": "hello", "secret": "hidden"}, Loose(), "peers", POLICY)
    assert result.payload == {"said": "hello"} and result.withheld == ("secret",)
    assert undeclared_fields(Loose()) == ["secret"]


def test_audiences_narrow_a_field():
    result = redact(VALUES, TestimonySchema(), "public-aggregate", POLICY)
    assert "narrative" not in result.payload and "narrative" in result.withheld


def test_policy_can_only_withhold_more_or_block():
    tighter = Policy(POLICY.scrubber, PLACES, withheld=frozenset({"title", "witnesses.statement"}))
    result = redact(VALUES, TestimonySchema(), "hub", tighter)
    assert "title" not in result.payload
    assert result.payload["witnesses"] == [{"uuid": "w1"}]
    blocked = redact(VALUES, TestimonySchema(), "hub", Policy(POLICY.scrubber, PLACES,
                                                              blockers=("minor-involved",)))
    assert blocked.blocked and blocked.payload == {} and blocked.blockers == ("minor-involved",)


def test_redaction_is_pure_and_its_hashes_stable():
    first = redact(VALUES, TestimonySchema(), "hub", POLICY)
    second = redact(dict(VALUES), TestimonySchema(), "hub", POLICY)
    assert first == second and first.payload_hash == second.payload_hash
    assert first.payload_hash == payload_hash(first.payload)
    other = redact(VALUES, TestimonySchema(), "hub", Policy(Scrubber(["TN", "DZ"]), PLACES))
    assert other.policy_hash != first.policy_hash  # a different scrubber is a different policy


def test_an_unknown_audience_is_refused():
    with pytest.raises(UnknownAudience, match="use one of: peers, hub, public-aggregate"):
        redact(VALUES, TestimonySchema(), "everyone", POLICY)


def test_an_unknown_generalisation_rule_is_refused_at_declaration():
    with pytest.raises(ValueError, match="No generalisation rule"):
        generalised("date_to_decade")


def test_a_never_nested_part_is_withheld_whole():
    class Part(Schema):
        a = fields.String(metadata=OPEN_FIELD)

    class Whole(Schema):
        parts = fields.List(fields.Nested(Part), metadata=NEVER_FIELD)

    result = redact({"parts": [{"a": "Salma"}]}, Whole(), "hub", POLICY)
    assert result.payload == {} and result.withheld == ("parts",)


def test_public_statistics_carry_no_free_text():
    result = redact(VALUES, TestimonySchema(), "public-aggregate", POLICY)
    assert set(result.payload) == {"place", "happened_on", "age", "people_affected",
                                   "witnesses"}
    assert result.payload["witnesses"] == [{"uuid": "w1"}]
    assert {"title", "tags", "witnesses.statement"} <= set(result.withheld)


def test_exact_generalised_values_quoted_in_text_are_coarsened_there():
    values = {**VALUES, "narrative": "On 14 March 2025 at Sakiet Ezzit, aged 34, born 1991."}
    places = Gazetteer([Place("TN", "country"), Place("TN-61", "governorate", parent="TN"),
                        Place("TN-61:sakiet-ezzit", "locality", parent="TN-61",
                              names={"fr": "Sakiet Ezzit", "ar": "ساقية الزيت"})])
    result = redact(values, TestimonySchema(), "hub", Policy(Scrubber(["TN"]), places))
    assert result.payload["narrative"] == (
        f"On {PLACEHOLDER} March 2025 at {PLACEHOLDER}, aged {PLACEHOLDER}, born {PLACEHOLDER}.")


def test_a_place_is_prepared_from_the_gazetteer_alone():
    """A quoted place is scrubbed by its names and aliases, prepared once for every record
    that quotes it; a place value the gazetteer does not know is the record's own words:
    scrubbed too, and never kept among what is prepared for every record."""
    places = Gazetteer([Place("TN", "country"), Place("TN-61", "governorate", parent="TN"),
                        Place("TN-61:sakiet-ezzit", "locality", parent="TN-61",
                              names={"fr": "Sakiet Ezzit"}, aliases=("Sakiet Zit",))])
    policy = Policy(Scrubber(["TN"]), places)
    known = {**VALUES, "narrative": "Seen at Sakiet Zit, then at SAKIET EZZIT."}
    unknown = {**VALUES, "place": "Douar Ouled Haffouz", "narrative": "Seen at douar ouled haffouz."}
    with patch.object(scrub, "_place_secrets", wraps=scrub._place_secrets) as prepared:
        assert redact(known, TestimonySchema(), "hub", policy).payload["narrative"] == \
            f"Seen at {PLACEHOLDER}, then at {PLACEHOLDER}."
        assert redact(unknown, TestimonySchema(), "hub", policy).payload["narrative"] == \
            f"Seen at {PLACEHOLDER}."
    assert [call.args for call in prepared.call_args_list] == [
        (("Sakiet Ezzit", "Sakiet Zit", "sakiet ezzit"),)]


def test_every_recorded_spelling_of_a_name_is_scrubbed():
    """A `never` list beside a name field holds the spellings the documenter confirmed."""
    class Person(Schema):
        story = fields.String(metadata=OPEN_FIELD)
        name = fields.String(metadata=NEVER_FIELD)
        name_spellings = fields.List(fields.String(), metadata=NEVER_FIELD)

    values = {"story": "Nur Majri, نور الماجري and NOUR MEJRI came.", "name": "Nour Mejri",
              "name_spellings": ["Nur Majri", "نور الماجري"]}
    result = redact(values, Person(), "hub", POLICY)
    assert result.payload == {"story": f"{PLACEHOLDER}, {PLACEHOLDER} and {PLACEHOLDER} came."}
    assert result.withheld == ("name", "name_spellings")


def test_prepared_secrets_serve_every_audience_and_never_outlive_a_changed_value():
    """Secrets kept in ``prepared`` for one record give the payloads made without them, for
    every audience; a changed name, date or age is scrubbed at once, and the old one is no
    longer taken for the record's."""
    places = Gazetteer([Place("TN", "country"), Place("TN-61", "governorate", parent="TN"),
                        Place("TN-61:sakiet-ezzit", "locality", parent="TN-61",
                              names={"fr": "Sakiet Ezzit"})])
    policy = Policy(Scrubber(["TN"]), places)
    schema = TestimonySchema()
    prepared: dict = {}
    narrative = "Salma, 34, and Rania, 29, met on 14 March and 15 March at Sakiet Ezzit."
    first = {**VALUES, "narrative": narrative}
    for audience in ("hub", "peers", "public-aggregate", "hub"):
        assert redact(first, schema, audience, policy, prepared=prepared) == \
            redact(first, schema, audience, policy)
    assert prepared  # kept for the record

    changed = {**first, "teller_name": "Rania Ben Ali", "age": 29, "happened_on": "2025-03-15"}
    assert redact(changed, schema, "hub", policy, prepared=prepared).payload["narrative"] == (
        f"Salma, 34, and {PLACEHOLDER}, {PLACEHOLDER}, met on 14 March and {PLACEHOLDER} March "
        f"at {PLACEHOLDER}.")
    assert redact(first, schema, "hub", policy, prepared=prepared).payload["narrative"] == (
        f"{PLACEHOLDER}, {PLACEHOLDER}, and Rania, 29, met on {PLACEHOLDER} March and 15 March "
        f"at {PLACEHOLDER}.")
