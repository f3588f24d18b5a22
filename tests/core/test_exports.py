"""File exports walk every registered record type × every format × every audience: the
non-identifying ones hold no `never` value and no identifying value left in open text; the
identifying ones hold them, and only for people allowed, on an unlocked node, audited
without values."""

import csv
import io
import json
from datetime import UTC, date, datetime

import pytest
from marshmallow import fields
from sqlalchemy import select
from werkzeug.exceptions import Forbidden

from core import exports, keystore, records
from core.extensions import db
from core.models import AuditEntry, User
from core.redaction import INTERNAL, INTERNAL_IDENTIFYING, _nested_schema, sharing_of
from core.testing import all_databases
from tests.conftest import TESTIMONY
from tests.core.test_db import BUILT_IN_PLUGINS

# Identifying values as people write them: two scripts, a compound name, digits.
CANARIES = ["Zaynab Qarawiyya", "زينب القيرواني", "Warda-Lys Ferchichi", "Khadija Mnasria",
            "+216 71 555 019", "Rue Ibn Khaldoun 77, Bizerte", "Nadia Bouzid"]


@pytest.fixture
def every_plugin_app(make_app):
    return make_app(PLUGINS=[*BUILT_IN_PLUGINS, TESTIMONY], unlocked=True)


def typed(canary: str, number: int) -> str:
    """A canary as it sits in a text someone wrote: in another case, mid-sentence."""
    variant = canary.upper() if number % 2 else canary
    return f"Yesterday {variant} was summoned; {canary} did not go."


def fill(record, row, schema, number: int, canaries: list) -> None:
    """Give every field of ``schema`` a value made from the schema itself: canaries in the
    `never` fields, those canaries quoted in every open text."""
    for name, schema_field in schema.fields.items():
        attribute = schema_field.attribute or name
        nested = _nested_schema(schema_field)
        if sharing_of(schema_field) == "never" and nested is None:
            canary = CANARIES[(number + len(canaries)) % len(CANARIES)] + f" {len(canaries)}"
            canaries.append(canary)
            records.set_identifying(record, row, attribute, canary)
        elif nested is not None:
            model = row.__mapper__.relationships[attribute].mapper.class_
            parts = [model() for _ in range(1 + number % 3)] if isinstance(
                schema_field, fields.List) else [model()]
            setattr(row, attribute, parts if isinstance(schema_field, fields.List) else parts[0])
            for offset, part in enumerate(parts):
                fill(record, part, nested, number + offset, canaries)
        else:
            setattr(row, attribute, plain_value(schema_field, number))


def plain_value(schema_field, number: int):
    rule = schema_field.metadata.get("rule")
    if rule == "place_to_governorate":
        return "TN-61:sakiet-ezzit"
    if isinstance(schema_field, fields.DateTime):
        return datetime(2025, 1 + number % 12, 14, 9, tzinfo=UTC)
    if isinstance(schema_field, fields.Date):
        return date(2025, 1 + number % 12, 14)
    if isinstance(schema_field, fields.Boolean):
        return number % 2 == 0
    if isinstance(schema_field, fields.Dict):
        return {"count": 7 + number}
    if isinstance(schema_field, fields.Integer):
        return 19 + number
    if isinstance(schema_field, fields.List):
        return [f"code-{number}", "=cmd|' /C calc'!A0"]
    if schema_field.metadata.get("labels"):  # one of its codes (a column may fit only those)
        codes = list(schema_field.metadata["labels"])
        return codes[number % len(codes)]
    if schema_field.metadata.get("code"):
        return f"code-{number}"
    return "@SUM(1+1) " + typed(CANARIES[number % len(CANARIES)], number)


def write_records(app, record_type, count: int = 3) -> list[str]:
    """``count`` records of the type, with canaries in every `never` field and quoted in
    every open text; returns the canaries."""
    canaries: list[str] = []
    with app.app_context():
        for number in range(count):
            record = records.new(record_type.model, None)
            mine: list[str] = []
            fill(record, record, record_type.schema(), number, mine)
            # every open text quotes this record's own identifying values
            for row, attribute in open_texts(record, record_type.schema()):
                quote_all(row, attribute, mine)
            records.save(record, None)
            canaries += mine
    return canaries


def quote_all(row, attribute: str, canaries: list[str]) -> None:
    """Quote every canary in an open text, as many as its column holds."""
    limit = getattr(row.__table__.columns[attribute].type, "length", None) or 10**6
    text = getattr(row, attribute)
    for number, canary in enumerate(canaries):
        longer = f"{text} / {typed(canary, number)}"
        if len(longer) > limit:
            text = f"{text} {canary}" if len(text) + len(canary) < limit else text
            continue
        text = longer
    setattr(row, attribute, text)


def open_texts(row, schema) -> list[tuple]:
    found = []
    for name, schema_field in schema.fields.items():
        attribute = schema_field.attribute or name
        nested = _nested_schema(schema_field)
        if nested is not None:
            related = getattr(row, attribute)
            for part in related if isinstance(related, list) else [related]:
                found += open_texts(part, nested)
        elif (sharing_of(schema_field) == "open" and isinstance(schema_field, fields.String)
              and not schema_field.metadata.get("code")):
            found.append((row, attribute))
    return found


def exported(app, record_type, fmt: str, audience: str, username: str) -> str:
    with app.test_request_context():
        user = db.session.scalar(select(User).where(User.username == username))
        query = select(record_type.model)
        return "".join(exports.export(record_type, query, fmt, audience, user))


def parsed(fmt: str, text: str) -> list[dict]:
    if fmt == "json":
        return json.loads(text)
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def every_record_type(app):
    with app.app_context():
        found = [t for t in records.record_types() if t.model is not None and t.schema]
    return found


@all_databases
def test_every_record_type_every_format_every_audience(every_plugin_app, make_user):
    app = every_plugin_app
    make_user("amina", role="member")
    make_user("huda", role="reviewer")
    types = every_record_type(app)
    assert {"cases.case", "testimony.testimony"} <= {t.name for t in types}
    walked = []
    for record_type in types:
        canaries = write_records(app, record_type)
        assert canaries, f"{record_type.name} has no `never` field to test"
        for fmt in exports.FORMATS:
            for audience in exports.AUDIENCES:
                person = "amina" if audience == INTERNAL else "huda"
                text = exported(app, record_type, fmt, audience, person)
                lines = parsed(fmt, text)
                assert len(lines) == 3, (record_type.name, fmt, audience)
                folded = text.casefold()
                present = [c for c in canaries if c.casefold() in folded]
                if audience == INTERNAL:
                    assert present == [], (record_type.name, fmt, present)
                else:
                    assert present == canaries, (record_type.name, fmt)
                if fmt == "csv":
                    cells = [cell for line in lines for cell in line.values()]
                    assert not [c for c in cells if c and c.lstrip(" ")[0] in "=+-@"]
                walked.append((record_type.name, fmt, audience))
    print(f"\nexports walked: {len(walked)} (record types × formats × audiences)")
    assert len(walked) == len(types) * len(exports.FORMATS) * len(exports.AUDIENCES)


def test_the_identifying_export_needs_the_permission_and_an_unlocked_node(every_plugin_app,
                                                                         make_user):
    app = every_plugin_app
    make_user("amina", role="member")
    make_user("huda", role="reviewer")
    for record_type in every_record_type(app):
        write_records(app, record_type, count=1)
        for fmt in exports.FORMATS:
            with pytest.raises(Forbidden):
                exported(app, record_type, fmt, INTERNAL_IDENTIFYING, "amina")
    with app.app_context():
        keystore.keystore().lock()
    for fmt in exports.FORMATS:
        for audience in exports.AUDIENCES:
            with pytest.raises(keystore.NodeLocked):  # the 503 page
                exported(app, every_record_type(app)[0], fmt, audience, "huda")


def test_an_export_is_audited_with_its_count_type_format_and_audience_only(every_plugin_app,
                                                                           make_user):
    app = every_plugin_app
    make_user("huda", role="reviewer")
    record_type = next(t for t in every_record_type(app) if t.name == "testimony.testimony")
    canaries = write_records(app, record_type, count=2)
    exported(app, record_type, "csv", INTERNAL_IDENTIFYING, "huda")
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
        assert (entry.action, entry.target_type) == ("record.exported", record_type.name)
        assert json.loads(entry.details) == {"format": "csv", "audience": INTERNAL_IDENTIFYING,
                                             "records": 2}
        assert not [c for c in canaries if c in entry.details]


def test_an_unknown_audience_or_format_is_refused_before_anything_is_written(
        every_plugin_app, make_user):
    from werkzeug.exceptions import BadRequest, NotFound

    app = every_plugin_app
    make_user("huda", role="reviewer")
    record_type = every_record_type(app)[0]
    with pytest.raises(BadRequest):
        exported(app, record_type, "csv", "hub", "huda")  # a share audience is not a file's
    with pytest.raises(NotFound):
        exported(app, record_type, "xlsx", INTERNAL, "huda")
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action)).all()
    assert "record.exported" not in actions


def test_nested_lists_are_numbered_up_to_the_longest_and_plain_lists_joined(every_plugin_app,
                                                                           make_user):
    app = every_plugin_app
    make_user("huda", role="reviewer")
    record_type = next(t for t in every_record_type(app) if t.name == "testimony.testimony")
    write_records(app, record_type, count=3)  # 1, 2 and 3 witnesses
    lines = parsed("csv", exported(app, record_type, "csv", INTERNAL_IDENTIFYING, "huda"))
    columns = list(lines[0])
    assert columns[:5] == ["id", "version", "created", "updated", "title"]
    assert [c for c in columns if c.startswith("witnesses.")] == [
        f"witnesses.{n}.{name}" for n in (1, 2, 3) for name in ("uuid", "statement", "name")]
    assert [bool(line["witnesses.3.name"]) for line in lines] == [False, False, True]
    assert lines[0]["tags"] == "code-0; =cmd|' /C calc'!A0"  # one cell, not led by a formula
    again = parsed("csv", exported(app, record_type, "csv", INTERNAL_IDENTIFYING, "huda"))
    assert list(again[0]) == columns  # the same file, the same columns, in the same order


def test_need_to_know_is_asked_again_for_every_record_exported(every_plugin_app, make_user):
    """Even a query that selects a restricted case (a plugin's mistake) exports it only to
    those who may open it."""
    app = every_plugin_app
    make_user("amina", role="member")
    make_user("huda", role="reviewer")
    record_type = next(t for t in every_record_type(app) if t.name == "cases.case")
    write_records(app, record_type, count=2)
    with app.app_context():
        # the case with more incidents: its parts must not even add columns to her file
        hidden = max(db.session.scalars(select(record_type.model)),
                     key=lambda case: len(case.incidents))
        longest = len(hidden.incidents)
        hidden.restricted = True
        db.session.commit()
        hidden_id = hidden.uuid
    for fmt in exports.FORMATS:
        seen = {line["id"] for line in parsed(fmt, exported(app, record_type, fmt, INTERNAL,
                                                            "amina"))}
        assert len(seen) == 1 and hidden_id not in seen
        if fmt == "csv":
            text = exported(app, record_type, fmt, INTERNAL, "amina")
            assert f"incidents.{longest}." not in text.splitlines()[0]
        seen = {line["id"] for line in parsed(fmt, exported(app, record_type, fmt, INTERNAL,
                                                            "huda"))}
        assert hidden_id in seen  # a reviewer sees restricted cases


@pytest.mark.parametrize("db_backend", ["postgresql"], indirect=True)
def test_a_reader_who_stops_part_way_leaves_no_cursor_open(every_plugin_app, make_user,
                                                           monkeypatch):
    """An export streams through a server-side cursor; a reader who drops the download
    closes it (not the garbage collector, some time later)."""
    from sqlalchemy import text

    app = every_plugin_app
    monkeypatch.setattr(exports, "BATCH", 2)
    make_user("huda", role="reviewer")
    record_type = next(t for t in every_record_type(app) if t.name == "cases.case")
    write_records(app, record_type, count=5)
    with app.test_request_context():
        user = db.session.scalar(select(User).where(User.username == "huda"))
        pieces = exports.export(record_type, select(record_type.model), "json", INTERNAL, user)
        assert [next(pieces) for _ in range(3)][0] == "["
        open_cursors = "SELECT count(*) FROM pg_cursors"
        assert db.session.scalar(text(open_cursors)) == 1
        pieces.close()
        assert db.session.scalar(text(open_cursors)) == 0
