"""File exports of records (CSV, JSON), made from the record type's schema for an explicit
audience — never from a list of columns picked by hand.

What a file may hold is decided by ``core.redaction.for_export`` (the one place that decides
what a field may reveal): the ``internal`` audience gets no `never` field, generalised fields
coarsened (an age band, a governorate) and every free text scrubbed of the record's own
identifying values, of contacts and ID numbers; ``internal-identifying`` gets everything as
written, only for people allowed to see identifying values, on an unlocked node. Every export
is audited with its record type, format, audience and count — never a value.

Each record starts with the record layer's own columns (``id``, ``reference`` when the model
has one, ``version``, ``created``, ``updated``), then its schema's fields in schema order.
A CSV is flat, one line per record: a nested object's fields are columns named by their dotted
path (``defender.pseudonym``); a list of nested objects is numbered from 1 up to the longest
list in the file (``incidents.1.violation``, ``incidents.2.violation``…), shorter lists
leaving their cells empty; a list of plain values is one cell, joined by ``; ``. A coded
field (one naming a ``vocabulary`` or ``labels``) has a second column ``<path>.label`` with
the codes' labels in the reader's language. Cells a spreadsheet would run as a formula are
defused with a leading apostrophe. A JSON file is a list of the records as nested objects,
with codes.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from flask import Response, abort, current_app, stream_with_context
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from marshmallow import Schema
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from core import audit, declaration, keystore, readable, records
from core.access import deny
from core.downloads import content_disposition
from core.extensions import db
from core.i18n import language
from core.permissions import VIEW_IDENTIFYING
from core.places import gazetteer
from core.redaction import (
    EXPORT_AUDIENCES,
    INTERNAL,
    INTERNAL_IDENTIFYING,
    Policy,
    exported_fields,
    for_export,
)
from core.vocabularies import vocabulary

FORMATS = ("csv", "json")
AUDIENCES = EXPORT_AUDIENCES
RECORD_COLUMNS = ("id", "reference", "version", "created", "updated")
RECORD_HEADINGS = {"id": _l("Identifier"), "reference": _l("Reference"),
                   "version": _l("Version"), "created": _l("Created"),
                   "updated": _l("Last changed")}
BATCH = 500
LIST_JOINER = "; "
# A spreadsheet treats a cell starting with one of these as a formula (full-width forms too,
# which some spreadsheets read as the ASCII ones), even after leading spaces: never let it.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def audience_for(identifying: bool) -> str:
    """The export audience a request asks for: identifying, or not."""
    return INTERNAL_IDENTIFYING if identifying else INTERNAL


def response(record_type: records.RecordType, query, fmt: str, audience: str, user, *,
             headings_in_words: bool = False) -> Response:
    """A file of the records ``query`` selects (a SELECT of the type's model, already
    limited to what ``user`` may see), streamed; audited before anything is sent. A CSV's
    first line names its columns by their paths (a machine format), or with
    ``headings_in_words`` by their labels in the reader's language (for people)."""
    body = export(record_type, query, fmt, audience, user, headings_in_words=headings_in_words)
    result = Response(stream_with_context(body), mimetype=_mimetype(fmt))
    filename = record_type.name.replace(".", "-")
    result.headers["Content-Disposition"] = content_disposition(f"{filename}.{fmt}")
    return result


def export(record_type: records.RecordType, query, fmt: str, audience: str,
           user, *, headings_in_words: bool = False) -> Iterator[str]:
    """The text of an export, in pieces. Refuses (before anything is written) an unknown
    format or audience (404 / 400), a locked node (503), and the identifying audience to
    people who may not see identifying values (403)."""
    if fmt not in FORMATS:
        abort(404)
    if audience not in AUDIENCES:
        abort(400)
    if audience == INTERNAL_IDENTIFYING and not user.can(VIEW_IDENTIFYING):
        deny(VIEW_IDENTIFYING)
    # Even without identifying fields an export needs the key: texts are scrubbed of them.
    keystore.keystore().keyring()
    query = query.options(*_loaders(record_type.model, records.schema_of(record_type)))
    count = db.session.scalar(select(func.count()).select_from(query.subquery()))
    # The file is written after this commit, in a session that has not loaded the reader.
    person = user._get_current_object() if hasattr(user, "_get_current_object") else user
    reader = (type(person), person.id)
    audit.record("record.exported", actor=user, target_type=record_type.name, format=fmt,
                 audience=audience, records=count)
    db.session.commit()
    payloads = _payloads(query, audience, reader)
    if fmt == "csv":
        layout = Layout.of(record_type, audience, _longest_lists(record_type, query, user))
        return _csv(layout, payloads, headings_in_words)
    return _json(payloads)


def _mimetype(fmt: str) -> str:
    return {"csv": "text/csv; charset=utf-8", "json": "application/json"}[fmt]


# -- what a record gives -----------------------------------------------------------------


def payload(record, audience: str) -> dict:
    """One record as an export for ``audience`` holds it: the record columns, then what
    redaction lets the schema's fields show."""
    record_type = records.type_of(record)
    policy = Policy(current_app.extensions["rabita.scrubber"], gazetteer())
    shown = for_export(records.values(record, identifying=True), records.schema_of(record_type),
                       audience, policy)
    return {**_record_columns(record), **shown.payload}


def _record_columns(record) -> dict:
    columns = {"id": record.uuid, "reference": getattr(record, "reference", None),
               "version": record.version,
               "created": record.created_at.date().isoformat() if record.created_at else None,
               "updated": record.updated_at.date().isoformat() if record.updated_at else None}
    if columns["reference"] is None:
        del columns["reference"]
    return columns


def _payloads(query, audience: str, reader: tuple) -> Iterator[dict]:
    user = db.session.get(*reader)
    for record in _records(query, user):
        yield payload(record, audience)


def _records(query, user) -> Iterator:
    """The records of ``query`` that ``user`` may open (need to know, asked again here)."""
    found = db.session.scalars(query.execution_options(yield_per=BATCH))
    try:
        for record in found:
            if records.may_open(record, user):
                yield record
    finally:  # a reader who stops part-way leaves no server-side cursor open
        found.close()


def _loaders(model, schema: Schema, path=None) -> list:
    """Eager loads for every nested part the schema walks (so a batch costs a few queries)."""
    options = []
    for item in declaration.own(schema):
        attribute = getattr(model, item.attribute, None)
        relationship = model.__mapper__.relationships.get(item.attribute)
        if item.part is None or attribute is None or relationship is None:
            continue
        loader = path.selectinload(attribute) if path is not None else selectinload(attribute)
        options.append(loader)
        options += _loaders(relationship.mapper.class_, item.part, loader)
    return options


def _longest_lists(record_type, query, user) -> dict[str, int]:
    """For each list of nested objects (by dotted path, items unnumbered): the most items
    any record of the file has — how many numbered columns the CSV needs. Counted from the
    loaded parts, before any value is decrypted, of the records the file will hold only (a
    hidden record's parts must not even add a column)."""
    longest: dict[str, int] = {}
    schema = records.schema_of(record_type)
    for record in _records(query, user):
        _count_lists(record, schema, "", longest)
    return longest


def _count_lists(row, schema: Schema, prefix: str, longest: dict) -> None:
    for declared in declaration.own(schema):
        if declared.part is None:
            continue
        related = getattr(row, declared.attribute, None)
        path = f"{prefix}{declared.name}"
        items = related if isinstance(related, list | tuple) else [related]
        if isinstance(related, list | tuple):
            longest[path] = max(longest.get(path, 0), len(related))
        for item in items:
            if item is not None:
                _count_lists(item, declared.part, f"{path}.", longest)


# -- CSV -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One CSV column: its dotted path (numbered in lists), the payload value it shows, and
    for a label column the labels of that value's codes (in the reader's language)."""

    name: str
    source: str
    labels: dict[str, str] | None = None
    heading: str = ""  # the column in words, in the reader's language

    def cell(self, value) -> object:
        if self.labels is not None:
            value = _labelled(self.labels, value)
        if isinstance(value, list | tuple):
            return LIST_JOINER.join("" if v is None else str(v) for v in value)
        if isinstance(value, dict):
            return json.dumps(value, ensure_ascii=False, sort_keys=True)
        return "" if value is None else value


@dataclass(frozen=True)
class Layout:
    """The columns of a CSV export: the record columns, then every field an audience may
    see, flattened."""

    columns: tuple[Column, ...]

    @classmethod
    def of(cls, record_type, audience: str, longest: dict[str, int]) -> Layout:
        schema = records.schema_of(record_type)
        allowed = {path for path, _field in exported_fields(schema, audience)}
        columns = [Column(name, name, heading=str(RECORD_HEADINGS[name]))
                   for name in RECORD_COLUMNS
                   if name != "reference" or hasattr(record_type.model, "reference")]
        columns += _columns(schema, allowed, longest, "", "")
        return cls(tuple(columns))

    @property
    def header(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def headings(self) -> list[str]:
        return [column.heading or column.name for column in self.columns]

    def line(self, record_payload: dict) -> list:
        flat = _flatten(record_payload)
        return [_defused(column.cell(flat.get(column.source))) for column in self.columns]


def _columns(schema: Schema, allowed: set, longest: dict, path: str, numbered: str,
             heading: str = "") -> list:
    """``path``: the field's schema path (lists unnumbered), to ask what is allowed;
    ``numbered``: its column name; ``heading``: the part's name in words."""
    columns = []
    for item in declaration.own(schema):
        field_path, column = f"{path}{item.name}", f"{numbered}{item.name}"
        if field_path not in allowed:
            continue
        words = f"{heading}{readable.label_of(item.field, item.name)}"
        if item.part is None:
            columns.append(Column(column, column, heading=words))
            if item.coded:
                columns.append(Column(f"{column}.label", column, _labels_of(item),
                                      heading=f"{words} ({gettext('in words')})"))
        elif item.many:
            for number in range(1, longest.get(field_path, 0) + 1):
                columns += _columns(item.part, allowed, longest, f"{field_path}.",
                                    f"{column}.{number}.", f"{words} {number} › ")
        else:
            columns += _columns(item.part, allowed, longest, f"{field_path}.", f"{column}.",
                                f"{words} › ")
    return columns


def _flatten(value, prefix: str = "") -> dict:
    """A payload as one level of dotted names: nested objects by path, lists of objects
    numbered from 1; plain values and lists of them kept as they are."""
    flat = {}
    for name, item in value.items():
        key = f"{prefix}{name}"
        if isinstance(item, dict):
            flat.update(_flatten(item, f"{key}."))
        elif isinstance(item, list) and item and all(isinstance(i, dict) for i in item):
            for number, part in enumerate(item, start=1):
                flat.update(_flatten(part, f"{key}.{number}."))
        else:
            flat[key] = item
    return flat


def _labels_of(item: declaration.Declared) -> dict[str, str]:
    """Every code of a coded field with its label in the reader's language (worked out
    before the file is written: the language is the request's)."""
    name, labels = item.metadata.get("vocabulary"), item.metadata.get("labels")
    if name:
        return {term.code: term.label(language()) for term in vocabulary(name)}
    return {code: str(label) for code, label in labels.items()}


def _labelled(labels: dict[str, str], value):
    if isinstance(value, list | tuple):
        return [_labelled(labels, item) for item in value]
    return None if value is None else labels.get(value, value)


def _defused(value):
    if isinstance(value, str) and value.lstrip(" ").startswith(FORMULA_START):
        return "'" + value
    return value


def _csv(layout: Layout, payloads: Iterable[dict], headings_in_words: bool = False
         ) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")  # so spreadsheets read Arabic as UTF-8
    writer.writerow([_defused(h) for h in layout.headings] if headings_in_words
                    else layout.header)
    for item in payloads:
        writer.writerow(layout.line(item))
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


# -- JSON ----------------------------------------------------------------------------------


def _json(payloads: Iterable[dict]) -> Iterator[str]:
    yield "["
    first = True
    for item in payloads:
        yield ("" if first else ",\n") + json.dumps(item, ensure_ascii=False, default=str)
        first = False
    yield "]\n"
