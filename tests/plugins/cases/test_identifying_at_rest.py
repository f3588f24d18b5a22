"""Identifying fields at rest: a canary name typed into every ``never`` field of the case form
for 1,000 cases (and into tasks and file names, the sealed parts that never leave) is found 0
times in the SQLite file, its WAL and its dump, and in a pg_dump of the PostgreSQL schema — as written, lower-cased, folded (hamza, diacritics), in UTF-16, and
JSON-escaped (``\\u0625``). The fields are found by walking the record's schema, not listed
by hand, so a new identifying field is typed into by itself (or the test says it cannot be).

Open texts (titles, narratives) have their own test: test_at_rest.py.
"""

from __future__ import annotations

import json
import unicodedata
from urllib.parse import quote

import pytest
from marshmallow import fields
from sqlalchemy import func, select
from wtforms import StringField, TextAreaField

from core import records
from core.extensions import db
from core.redaction import NEVER, sharing_of
from core.testing import all_databases, database_copies
from tests.plugins.cases.conftest import case_form

RECORDS = 1000
THROUGH_THE_EDIT_PAGE = 5  # of them also edited: the edit page seals what it is given anew
WITH_TASK_AND_FILE = 50  # of them given a task and a file (their words and names are sealed)
DIGIT_LETTERS = "ابتثجحخدذر"  # the record's number in Arabic letters


def canary(number: int, path: str) -> str:
    """A woman's name no page holds else: Latin and Arabic, the Arabic with a hamza on its
    alef and short vowels (as names are typed), unique per record and per field."""
    field = path.replace(".", "").replace("[]", "")
    arabic = "".join(DIGIT_LETTERS[int(d)] for d in f"{number:04d}")
    return f"Zqwidcanary{number:04d}{field} إِيمانُ{arabic} Zqwid"


MARKERS = ("zqwidcanary", "إِيمانُ", "إيمان", "ايمان")


def encodings(text: str) -> set[bytes]:
    """``text`` in every form a store might keep it: as written, lower-cased, folded by
    Unicode (NFKD without marks) and by core's search folding, UTF-16 both ways, JSON with
    its \\uXXXX escapes (either case), percent-encoded."""
    from core.text import fold

    forms = {text, text.lower(), text.casefold(), fold(text),
             "".join(c for c in unicodedata.normalize("NFKD", text)
                     if not unicodedata.combining(c))}
    found = set()
    for form in forms:
        escaped = json.dumps(form)[1:-1]
        found |= {form.encode(), form.encode("utf-16-le"), form.encode("utf-16-be"),
                  escaped.encode(), escaped.upper().encode(), quote(form).encode()}
    return {blob for blob in found if blob}


NEEDLES = sorted(set().union(*(encodings(marker) for marker in MARKERS)), key=len)


def canaries_in(blob: bytes) -> list[bytes]:
    lowered = blob.lower()
    return [needle for needle in NEEDLES if needle in blob or needle.lower() in lowered]


def test_the_canary_check_can_fail():
    value = canary(7, "defender.real_name")
    for form in encodings(value):
        assert canaries_in(b"\x00junk" + form + b"junk"), form
    assert not canaries_in("Salma Ben Ali, إيناس".encode())


# -- the identifying fields, from the schema -----------------------------------------------


def identifying_paths(schema, prefix: str = "") -> list[str]:
    """Dotted paths of every ``never`` field (``incidents[].sources``), nested ones too."""
    found = []
    for name, schema_field in schema.fields.items():
        path = f"{prefix}{name}"
        nested = _nested(schema_field)
        if sharing_of(schema_field) == NEVER:
            found.append(path)
        elif nested is not None:
            many = isinstance(schema_field, fields.List)
            found += identifying_paths(nested, f"{path}{'[]' if many else ''}.")
    return found


def _nested(schema_field):
    inner = schema_field.inner if isinstance(schema_field, fields.List) else schema_field
    return inner.schema if isinstance(inner, fields.Nested) else None


def form_name(path: str) -> str:
    """The case form's name for a schema path: ``incidents[].sources`` → ``incidents-0-sources``."""
    return path.replace("[].", "-0-").replace(".", "-")


def typed_fields(app) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Each identifying field's form name, where one can type; and those offered as a list
    of choices (nothing to type: their choices are codes, checked below)."""
    from plugins.cases.forms import CaseForm
    from plugins.cases.schemas import CaseSchema

    with app.test_request_context():
        form = CaseForm(meta={"csrf": False})
        flat = {f.name: f for f in _walk(form)}
    typed, chosen = {}, {}
    for path in identifying_paths(CaseSchema()):
        name = form_name(path)
        assert name in flat, f"The identifying field {path} has no field {name} in the form"
        if isinstance(flat[name], StringField | TextAreaField):
            typed[path] = name
        else:
            chosen[path] = [value for value, *_ in flat[name].iter_choices()]
    return typed, chosen


def _walk(form):
    for form_field in form:
        if hasattr(form_field, "entries"):
            for entry in form_field.entries:
                yield from _walk(entry.form)
        elif hasattr(form_field, "form"):
            yield from _walk(form_field.form)
        else:
            yield form_field


def parts_outside_the_schema() -> set[str]:
    """Tables of the case's parts with sealed columns that the shared record does not hold
    (tasks, files): the schema walk cannot reach them, so the test types into them itself."""
    from sqlalchemy import inspect

    from core.records import SEALED
    from plugins.cases.models import Case
    from plugins.cases.schemas import CaseSchema

    in_schema = {Case.__table__.name} | {
        relationship.mapper.local_table.name
        for name, relationship in inspect(Case).relationships.items()
        if name in CaseSchema().fields}
    sealed = {relationship.mapper.local_table.name
              for relationship in inspect(Case).relationships
              if any(c.info.get(SEALED) for c in relationship.mapper.local_table.columns)}
    return sealed - in_schema


# -- writing and reading -------------------------------------------------------------------


def type_a_case(client, token: str, number: int, typed: dict[str, str]) -> str:
    """Fill the case form as a documenter does, a canary in every identifying field (the
    form's CSRF token is the session's: one page gives it for every case)."""
    form = case_form(**{name: canary(number, path) for path, name in typed.items()})
    response = client.post("/cases/new", data={**form, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return response.location.rstrip("/").rsplit("/", 1)[-1]


def edit_a_case(client, uuid: str, number: int, typed: dict[str, str]) -> None:
    """Open the edit page and save it with the canaries typed again, as they were."""
    page = client.get(f"/cases/{uuid}/edit").get_data(as_text=True)
    form = case_form(**{name: canary(number, path) for path, name in typed.items()})
    for name in ("incidents-0-uuid", "interventions-0-uuid"):
        form[name] = _hidden(page, name)
    assert client.submit(f"/cases/{uuid}/edit", form).status_code == 302


def add_task_and_file(client, token: str, uuid: str, number: int) -> None:
    """A follow-up task and a file on the case, through its page's forms."""
    import io

    task = client.post(f"/cases/{uuid}/tasks", data={
        "csrf_token": token, "description": canary(number, "task")})
    upload = client.post(f"/cases/{uuid}/attachments", content_type="multipart/form-data",
                         data={"csrf_token": token, "file": (
                             io.BytesIO(f"Notes on {canary(number, 'content')}".encode()),
                             f"{canary(number, 'filename')}.txt")})
    assert task.status_code == upload.status_code == 302


def _hidden(page: str, name: str) -> str:
    import re

    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page) or \
        re.search(rf'value="([^"]*)"[^>]*name="{name}"', page)
    return match.group(1) if match else ""


# -- the test ------------------------------------------------------------------------------


def test_every_identifying_field_of_the_schema_is_found(app):
    assert parts_outside_the_schema() == {"cases_task", "cases_attachment"}  # typed below
    typed, chosen = typed_fields(app)
    assert {"defender.real_name", "defender.contacts", "defender.address",
            "incidents[].perpetrator_identity", "interventions[].notes"} <= set(typed)
    for path, values in chosen.items():  # a closed list of codes: no name can be typed
        assert all(value == "" or value.isascii() and " " not in value for value in values), path


@pytest.mark.slow
@all_databases
def test_no_canary_typed_in_an_identifying_field_is_at_rest(app, people, login_as, database_url):
    from plugins.cases.models import Case

    typed, _ = typed_fields(app)
    salma = login_as(people["salma"])
    token = salma.csrf_token("/cases/new")
    uuids = [type_a_case(salma, token, number, typed) for number in range(RECORDS)]
    for number in range(THROUGH_THE_EDIT_PAGE):
        edit_a_case(salma, uuids[number], number, typed)
    for number in range(WITH_TASK_AND_FILE):
        add_task_and_file(salma, token, uuids[number], number)

    copies = database_copies(database_url)
    for where, blob in copies.items():
        assert not canaries_in(blob), f"canaries readable in {where}: {canaries_in(blob)[:3]}"
    dump = copies.get("the dump", copies.get("pg_dump"))
    assert b"cases_defender" in dump and len(dump) > RECORDS * 500

    with app.test_request_context():  # the canaries were stored: sealed, not dropped
        assert db.session.scalar(select(func.count()).select_from(Case)) == RECORDS
        for number in (0, RECORDS // 2, RECORDS - 1):
            case = db.session.scalar(select(Case).where(Case.uuid == uuids[number]))
            written = json.dumps(records.values(case, identifying=True), ensure_ascii=False)
            for path in typed:
                assert canary(number, path) in written, (number, path)
        case = db.session.scalar(select(Case).where(Case.uuid == uuids[0]))
        assert records.identifying_value(case, case.tasks[0], "description") == \
            canary(0, "task")
        assert records.identifying_value(case, case.attachments[0], "filename") == \
            f"{canary(0, 'filename')}.txt"
