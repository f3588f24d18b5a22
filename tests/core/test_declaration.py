"""A record type is declared once: its schema's fields read in one place, and the checklist
of docs/plugins.md ("Adding a field") kept true for every registered record type — a label,
a sharing class, a model column, on the form or declared off it, a row in docs/records.md."""

import importlib
import re
from pathlib import Path

import pytest
from marshmallow import Schema, fields
from wtforms import FieldList, Form, FormField, StringField

from core import declaration, records
from core.declaration import documented_rows, form_paths, off_form, undocumented
from core.records import RecordType
from core.redaction import NEVER_FIELD, OPEN_CODE_FIELD, OPEN_FIELD, generalised
from core.testing import builtin_plugins

ROOT = Path(__file__).parents[2]
RECORDS_MD = ROOT / "docs" / "records.md"
PLUGINS_MD = ROOT / "docs" / "plugins.md"


class StepSchema(Schema):
    uuid = fields.String(metadata={**OPEN_CODE_FIELD, "label": "Part id"})
    note = fields.String(metadata={**OPEN_FIELD, "label": "Note"})
    witness = fields.String(metadata={**NEVER_FIELD, "label": "Witness"})


class NoteSchema(Schema):
    title = fields.String(metadata={**OPEN_FIELD, "label": "Title"})
    kind = fields.String(metadata={**OPEN_CODE_FIELD, "label": "Kind", "labels": {"a": "A"}})
    held_on = fields.Date(allow_none=True,
                          metadata={**generalised("date_to_month"), "label": "Held on"})
    author = fields.String(metadata={**NEVER_FIELD, "label": "Author"})
    summary = fields.String(metadata={**OPEN_FIELD, "label": "Summary",
                                      "audiences": ["peers", "hub"]})
    steps = fields.List(fields.Nested(StepSchema), metadata={**OPEN_FIELD, "label": "Steps"})


NOTES_MD = """# Records

## `notes.note`, version 2 (plugin `notes`)

| field | class | in the payload |
| --- | --- | --- |
| `title` | open | scrubbed text |
| `kind` | open (code) | `a` |
| `held_on` | generalise `date_to_month` | `YYYY-MM` |
| `author` | never | — |
| `summary` | open, peers and hub only | scrubbed |
| `steps[].uuid`, `note` | open | scrubbed |
| `steps[].witness` | never | — |

## Another section
"""


class StepForm(Form):
    uuid = StringField()
    note = StringField()
    witness = StringField()


class NoteForm(Form):
    title = StringField()
    kind = StringField()
    held_on = StringField()
    author = StringField()
    summary = StringField()
    steps = FieldList(FormField(StepForm))
    unrelated = StringField()  # a form may hold more than the record


def note_type(**options) -> RecordType:
    return RecordType("notes.note", NoteSchema, version=2, **options)


def test_every_field_is_walked_with_its_path_and_declaration():
    found = {item.path: item for item in declaration.declared(NoteSchema)}
    assert list(found) == ["title", "kind", "held_on", "author", "summary", "steps",
                           "steps.uuid", "steps.note", "steps.witness"]
    assert found["title"].text and not found["kind"].text and found["kind"].coded
    assert found["held_on"].rule == "date_to_month" and found["held_on"].sharing == "generalise"
    assert found["author"].identifying and found["author"].label == "Author"
    assert found["summary"].audiences == ("peers", "hub")
    assert found["steps"].many and isinstance(found["steps"].part, StepSchema)


def test_identifying_and_as_written_fields_come_from_the_metadata():
    assert declaration.identifying(NoteSchema) == ("author",)
    assert declaration.identifying(StepSchema()) == ("witness",)
    assert declaration.as_written(NoteSchema) == ("title", "author", "summary")
    assert [item.name for item in declaration.kept_as_is(NoteSchema)] == ["kind", "held_on"]
    assert [item.name for item in declaration.kept_as_is(StepSchema)] == []


def test_a_table_row_may_name_several_fields_of_one_part():
    rows = documented_rows(NOTES_MD)
    assert rows["steps.uuid"] == rows["steps.note"] == "open"
    assert rows["held_on"] == "generalise `date_to_month`"
    assert "field" not in rows and "---" not in rows


def test_a_record_type_documented_as_declared_has_no_problem():
    assert undocumented(note_type(), NOTES_MD) == []


@pytest.mark.parametrize("change, problem", [
    ("| `author` | never | — |\n", "author has no row"),
    ("| `author` | never |", "| `author` | open |"),
    ("generalise `date_to_month`", "generalise `age_to_band`"),
    ("open, peers and hub only", "open"),
    ("version 2", "version 1"),
])
def test_docs_that_disagree_with_the_schema_are_named(change, problem):
    replacement = "" if problem.endswith("no row") else problem
    said = " ".join(undocumented(note_type(), NOTES_MD.replace(change, replacement, 1)))
    expected = {"author has no row": "author has no row",
                "| `author` | open |": "author is never in the schema",
                "generalise `age_to_band`": "coarsened by date_to_month",
                "open": "summary goes only to peers, hub",
                "version 1": "does not say version 2"}[problem]
    assert expected in said


def test_a_row_for_a_field_the_schema_does_not_have_is_named():
    said = undocumented(note_type(), NOTES_MD.replace(
        "| `author` |", "| `author`, `mood` |"))
    assert said == ["notes.note: docs/records.md documents mood, which is no field of the "
                    "schema."]


def test_a_record_type_without_a_section_is_named():
    assert "has no section" in undocumented(note_type(), "# Records\n")[0]


def test_form_paths_follow_form_fields_and_lists_of_them():
    assert form_paths(NoteForm) == {"title", "kind", "held_on", "author", "summary",
                                    "steps.uuid", "steps.note", "steps.witness", "unrelated"}


def test_a_field_neither_on_the_form_nor_declared_off_it_is_named():
    class Shorter(NoteForm):
        author = None

    assert off_form("notes.note", NoteSchema(), NoteForm, {}) == []
    said = off_form("notes.note", NoteSchema(), Shorter, {})
    assert len(said) == 1 and "author is not on Shorter" in said[0]
    assert off_form("notes.note", NoteSchema(), Shorter, {"author": "typed elsewhere"}) == []


def test_a_declared_omission_must_be_true_and_give_a_reason():
    said = off_form("notes.note", NoteSchema(), NoteForm,
                    {"title": "no", "gone": "was a field", "author": " "})
    assert [s.split(": ", 1)[1] for s in said] == [
        "not_on_form names author, which is on the form.",
        "not_on_form names gone, which is no field of the schema.",
        "not_on_form names title, which is on the form.",
    ]


def test_a_field_without_a_label_is_named():
    class Unlabelled(Schema):
        mood = fields.String(metadata=OPEN_FIELD)

    assert declaration.unlabelled("notes.note", Unlabelled()) == [
        "notes.note: mood has no label; give it metadata {'label': _l('...')}."]


def test_a_field_without_a_column_is_named():
    from plugins.cases.models import Incident

    class IncidentWithMore(Schema):
        narrative = fields.String(metadata={**OPEN_FIELD, "label": "What happened"})
        not_a_column = fields.String(metadata={**OPEN_CODE_FIELD, "label": "Nowhere"})

    said = declaration.without_column("cases.case", IncidentWithMore(), Incident)
    assert said == ["cases.case: Incident has no column 'not_a_column' for the field "
                    "'not_a_column'; add it to the model and a migration."]


# -- the checklist, for every record type the project ships -------------------------------


@pytest.fixture
def shipped_types(make_app):
    app = make_app(PLUGINS=builtin_plugins())
    with app.app_context():
        yield list(records.record_types())


def test_every_shipped_record_type_keeps_the_adding_a_field_checklist(shipped_types):
    """docs/plugins.md, "Adding a field": if this fails, the sentence says what is missing."""
    assert shipped_types, "no record type is registered: the checklist would prove nothing"
    problems = [problem for record_type in shipped_types
                for problem in declaration.problems(record_type, documentation_of(record_type))]
    assert problems == []


def documentation_of(record_type: RecordType) -> str:
    """docs/records.md, then the plugin's own README.md: a plugin may document its record
    types in its folder (a new one, before it joins docs/records.md)."""
    readme = ROOT / "plugins" / record_type.name.split(".")[0] / "README.md"
    own = readme.read_text(encoding="utf-8") if readme.exists() else ""
    return RECORDS_MD.read_text(encoding="utf-8") + "\n" + own


# -- docs/plugins.md, "Adding a field": the checklist this file keeps true -------------------


def adding_a_field() -> str:
    text = PLUGINS_MD.read_text(encoding="utf-8")
    start = text.index("## Adding a field")
    return text[start:text.index("\n## ", start + 1)]


def test_the_checklist_names_every_place_a_field_goes():
    section = adding_a_field()
    for step in ("**Schema**", "**Model column**", "**Migration**",
                 "**Form field or declared omission**", "**The record's page**",
                 "**Sample data**", "**Translations**", "**docs/records.md row**",
                 "not_on_form", "LEFT_EMPTY", "`label`", "tests/core/test_declaration.py"):
        assert step in section, step


def test_every_file_and_name_the_checklist_gives_exists():
    """So the checklist follows the code when a module moves or a name changes."""
    section = adding_a_field()
    files = re.findall(r"`((?:core|plugins|bench|tests|docs)/[\w/.-]+\.(?:py|md|html))`", section)
    assert files and all((ROOT / path).exists() for path in files), files
    for dotted in re.findall(r"`(core\.\w+)(?:\.(\w+))?", section):
        module = importlib.import_module(dotted[0])
        assert not dotted[1] or hasattr(module, dotted[1]), dotted
    editing = importlib.import_module("plugins.cases.editing")
    for name in re.findall(r"`editing\.(\w+)`", section):
        assert hasattr(editing, name), name
    for module, name in [("plugins.cases.schemas", "_code"), ("core.records", "sealed_column"),
                         ("core.records", "original_column"), ("plugins.cases.forms",
                                                               "NOT_ON_FORM"),
                         ("plugins.cases.sample", "LEFT_EMPTY")]:
        assert name in section and hasattr(importlib.import_module(module), name), name
    assert {"form", "not_on_form", "version"} <= set(RecordType.__dataclass_fields__)
