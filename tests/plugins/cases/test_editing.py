"""The case form is filled and saved by walking the schema (plugins/cases/editing.py): every
field of cases.case on the form is kept as typed, read back into the edit form, and shown on
the case's page to someone who may see it — checked field by field from the schema, so a field
added to the schema, the model and the form but forgotten on a page fails here."""

from html import unescape

import pytest
from sqlalchemy import select

from core import declaration, records
from core.extensions import db
from core.readable import value_in_words
from plugins.cases import editing
from plugins.cases.forms import (
    NOT_ON_FORM,
    CaseForm,
    DefenderForm,
    IncidentForm,
    InterventionForm,
)
from plugins.cases.models import Case
from plugins.cases.schemas import CaseSchema
from tests.plugins.cases.conftest import case_form
from tests.plugins.cases.test_views import create

PART_ID = "a part's id is the record layer's, not something people read"
# Fields the case's page does not show, and why (every other field is on it).
NOT_ON_PAGE = {"defender.uuid": PART_ID, "incidents.uuid": PART_ID,
               "interventions.uuid": PART_ID}
# A value for every field the form has, as a browser sends it (nothing left empty).
EVERY_FIELD = case_form(**{"interventions-0-ended_on": "2025-04-02",
                           "defender-gender": "non-binary",
                           "incidents-0-legal_basis": ["tn-decree-law-2022-54"]})


def form_name(path: str) -> str:
    """``incidents.narrative`` as the form names it: ``incidents-0-narrative``."""
    part, _, name = path.rpartition(".")
    if not part:
        return name
    many = declaration.declared(CaseSchema)
    is_list = next(item.many for item in many if item.path == part)
    return f"{part}-0-{name}" if is_list else f"{part}-{name}"


def on_form() -> list[declaration.Declared]:
    return [item for item in declaration.declared(CaseSchema)
            if item.part is None and item.path not in NOT_ON_FORM and item.name != "uuid"]


def written(values: dict, path: str):
    """The value at ``path`` in a case's values (first item of a list of parts)."""
    for step in path.split("."):
        values = values[0] if isinstance(values, list) else values
        values = values[step]
    return values


@pytest.fixture
def documented(app, people, login_as):
    client = login_as(people["salma"])
    uuid = create(client, **EVERY_FIELD)
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.uuid == uuid))
        values = records.values(case, identifying=True)
    return client, uuid, values


def test_the_case_record_type_names_its_form_so_the_checklist_checks_it(app):
    with app.app_context():
        record_type = records.record_types().get("cases.case")
    assert record_type.form is CaseForm and record_type.not_on_form is NOT_ON_FORM


def test_the_test_form_gives_every_field_a_value():
    assert [item.path for item in on_form() if not EVERY_FIELD.get(form_name(item.path))] == []


def test_every_field_on_the_form_is_on_its_page(people, login_as):
    """forms.py and templates/cases/form.html are written by hand, apart: both have it."""
    page = login_as(people["salma"]).get("/cases/new").get_data(as_text=True)
    assert [item.path for item in on_form()
            if f'name="{form_name(item.path)}"' not in page] == []


def test_every_field_is_saved_as_typed(documented):
    _client, _uuid, values = documented
    for item in on_form():
        typed = EVERY_FIELD[form_name(item.path)]
        kept = written(values, item.path)
        expected = [typed] if item.many and isinstance(typed, str) else typed
        if item.many:
            kept = list(kept)
        assert str(kept) == str(expected if item.name != "age" else int(typed)), item.path


def test_every_field_is_read_back_into_the_edit_form(app, documented):
    _client, uuid, values = documented
    with app.test_request_context():
        case = db.session.scalar(select(Case).where(Case.uuid == uuid))
        form = editing.prepare(CaseForm(meta={"csrf": False}), case)
        editing.fill(form, case, values)
        for item in on_form():
            typed = EVERY_FIELD[form_name(item.path)]
            field = form
            for step in item.path.split("."):
                field = field[step]
                field = field.entries[0] if hasattr(field, "entries") else field
                field = field.form if hasattr(field, "form") and step != item.name else field
            assert str(field.data) == str(typed), item.path


def test_every_field_is_shown_on_the_case_page_to_someone_who_may_see_it(app, documented):
    client, uuid, values = documented
    page = unescape(client.get(f"/cases/{uuid}").get_data(as_text=True))
    missing = []
    with app.test_request_context():
        for item in declaration.declared(CaseSchema):
            if item.part is not None or item.path in NOT_ON_PAGE:
                continue
            shown = value_in_words(written(values, item.path), item.field, "en")
            if any(word not in page for word in (shown if isinstance(shown, list) else [shown])):
                missing.append(item.path)
    assert missing == []


def left_to_the_editor() -> list[declaration.Declared]:
    """Fields of codes or places whose choices the form does not check itself."""
    found = []
    for item in on_form():
        part, _, name = item.path.rpartition(".")
        form_class = {"": CaseForm, "defender": DefenderForm, "incidents": IncidentForm,
                      "interventions": InterventionForm}[part]
        unbound = getattr(form_class, name)
        coded = item.place or item.metadata.get("vocabulary")
        if coded and unbound.kwargs.get("validate_choice") is False:
            found.append(item)
    return found


def test_the_fields_left_to_the_editor_are_the_coded_ones():
    assert {item.path for item in left_to_the_editor()} >= {
        "defender.activism", "defender.residence", "incidents.place", "incidents.violation",
        "incidents.perpetrator_type"}


@pytest.mark.parametrize("path", [item.path for item in left_to_the_editor()])
def test_every_field_of_codes_offers_its_terms_and_refuses_others(app, people, login_as,
                                                                  path):
    client = login_as(people["salma"])
    page = client.get("/cases/new").get_data(as_text=True)
    typed = EVERY_FIELD[form_name(path)]
    offered = typed if isinstance(typed, list) else [typed]
    assert all(f'value="{code}"' in page for code in offered), path
    forged = ["no-such-code"] if isinstance(typed, list) else "no-such-code"
    response = client.submit("/cases/new", {**EVERY_FIELD, form_name(path): forged})
    assert response.status_code == 200 and "Nothing was saved" in response.get_data(
        as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Case.id)) is None
