"""Reading a record or a payload in words, and the review's comparison of a record as written
with what would leave: each outgoing value once, with its audiences; marks where told."""

from marshmallow import Schema, fields

from core.readable import Line, compared, in_words, marked
from core.redaction import NEVER_FIELD, OPEN_CODE_FIELD, OPEN_FIELD, generalised
from core.scrub import Span


class PartSchema(Schema):
    note = fields.String(metadata={**OPEN_FIELD, "label": "Note"})
    secret = fields.String(metadata={**NEVER_FIELD, "label": "Secret"})


class NoteSchema(Schema):
    title = fields.String(metadata={**OPEN_FIELD, "label": "Title"})
    status = fields.String(metadata={**OPEN_CODE_FIELD, "label": "Status",
                                     "labels": {"open": "Open file"}})
    age = fields.Integer(metadata={**generalised("age_to_band"), "label": "Age"})
    name = fields.String(metadata={**NEVER_FIELD, "label": "Name"})
    parts = fields.List(fields.Nested(PartSchema), metadata={**OPEN_FIELD, "label": "Parts"})


ORIGINAL = {"title": "Salma met Karim", "status": "open", "age": 34, "name": "Salma",
            "parts": [{"note": "first", "secret": "x"}, {"note": "second", "secret": "y"}]}
PAYLOAD = {"title": "[redacted] met Karim", "status": "open", "age": "30-44",
           "parts": [{"note": "first"}, {"note": "second"}]}


def every_capital(text):
    """A stand-in finder: each word starting with a capital letter."""
    import re

    return [Span(m.start(), m.end(), "name") for m in re.finditer(r"\b[A-Z]\w+", text)]


def by_label(lines: list[Line]) -> dict[str, Line]:
    return {line.label: line for line in lines}


def test_a_value_sent_alike_to_several_audiences_is_shown_once_with_them(app_context):
    lines = by_label(compared(ORIGINAL, {"peers": PAYLOAD, "hub": PAYLOAD}, NoteSchema(), "en",
                              every_capital))
    title = lines["Title"]
    assert title.original == "Salma met Karim"
    assert len(title.outgoing) == 1 and title.outgoing[0].audiences == ("peers", "hub")
    assert [(p.text, p.suspect) for p in title.outgoing[0].value] == [
        ("[redacted] met ", ""), ("Karim", "name")]
    assert lines["Status"].outgoing[0].value == "Open file"  # in words, not the code
    assert lines["Name"].outgoing == () and lines["Name"].withheld == ("peers", "hub")
    assert lines["Title"].suspects == 1


def test_a_field_withheld_from_one_audience_says_so(app_context):
    hub = {key: value for key, value in PAYLOAD.items() if key != "title"}
    lines = by_label(compared(ORIGINAL, {"peers": PAYLOAD, "hub": hub}, NoteSchema(), "en",
                              every_capital))
    assert lines["Title"].outgoing[0].audiences == ("peers",)
    assert lines["Title"].withheld == ("hub",)


def test_parts_are_compared_one_by_one(app_context):
    parts = by_label(compared(ORIGINAL, {"peers": PAYLOAD}, NoteSchema(), "en",
                              every_capital))["Parts"]
    assert parts.nested and len(parts.parts) == 2
    second = by_label(parts.parts[1])
    assert second["Note"].original == "second"
    assert second["Note"].outgoing[0].value[0].text == "second"
    assert second["Secret"].original == "y" and second["Secret"].withheld == ("peers",)


def test_with_no_audience_nothing_leaves(app_context):
    lines = by_label(compared(ORIGINAL, {}, NoteSchema(), "en", every_capital))
    assert all(not line.outgoing and not line.withheld for line in lines.values())
    assert lines["Name"].original == "Salma"


def test_marks_cut_a_text_without_losing_a_character():
    text = "Karim, Me Haddad and 14 Nov"
    pieces = marked(text, lambda _text: [Span(0, 5, "name"), Span(10, 16, "name"),
                                         Span(21, 27, "date")])
    assert "".join(piece.text for piece in pieces) == text
    assert [p.suspect for p in pieces] == ["name", "", "name", "", "date"]
    assert marked("", every_capital) == []


def test_a_payload_in_words_names_what_the_schema_describes(app_context):
    shown = in_words({"status": "open", "unknown_field": "kept"}, NoteSchema(), "en")
    assert [(item.label, item.value) for item in shown] == [
        ("Status", "Open file"), ("unknown field", "kept")]


# -- a record of this node, as a person may read it (of_record) ---------------------------


def case_read_by(make_app, role: str) -> tuple[list, list, dict, str]:
    """A sample case as a person with ``role`` reads it, the audit actions reading wrote, the
    case's values as written, and the fields as records/_readable.html shows them."""
    import random

    from flask import render_template_string
    from sqlalchemy import select

    from core import records
    from core.extensions import db
    from core.models import AuditEntry, User
    from core.readable import of_record
    from core.testing import add_person
    from plugins.cases import sample

    app = make_app(PLUGINS=["plugins.cases", "plugins.country_tn"], unlocked=True)
    with app.test_request_context():
        person = db.session.get(User, add_person("reader", role).id)
        case = sample.build(random.Random(7), person)
        sample.save([case], person)
        written = records.values(case, identifying=True)
        before = set(db.session.scalars(select(AuditEntry.seq)))
        shown = of_record(case, person, "en")
        actions = [entry.action for entry in db.session.scalars(select(AuditEntry))
                   if entry.seq not in before]
        page = render_template_string(
            '{% from "records/_readable.html" import shown_fields %}{{ shown_fields(shown) }}',
            shown=shown)
        return shown, actions, written, page


def test_a_record_of_this_node_shows_every_field_marked_with_its_class(make_app):
    shown, actions, written, page = case_read_by(make_app, "documenter")
    fields_ = by_label(shown)
    assert [item.label for item in shown] == ["Title", "Summary", "Status", "Risk level",
                                              "Defender", "Incidents", "Support given"]
    assert fields_["Title"].value == written["title"] and fields_["Title"].sharing == "open"
    defender = by_label(fields_["Defender"].value)
    assert defender["Real name"].value == written["defender"]["real_name"]
    assert defender["Real name"].sharing == "never"
    assert defender["Age"].sharing == "generalise"
    incident = by_label(fields_["Incidents"].value[0])
    code = written["incidents"][0]["violation"]
    assert incident["Violation"].value not in ("", code)  # its label, not its code
    assert actions == ["record.identifying_viewed"]  # read through records.reveal


def test_who_may_not_see_identifying_values_reads_them_hidden(make_app):
    shown, actions, written, page = case_read_by(make_app, "member")
    defender = by_label(by_label(shown)["Defender"].value)
    assert defender["Real name"].value == "hidden" and defender["Real name"].sharing == "never"
    assert defender["Pseudonym"].value == written["defender"]["pseudonym"]
    assert actions == []
    assert "never shared" in page and "coarsened" in page and "shareable" in page
    assert written["defender"]["real_name"] not in page
