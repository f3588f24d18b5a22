"""A record type's fields as its schema declares them, read in one place: each field's path,
sharing class, label, vocabulary or labels, rule and audiences — what drives exports, the
readable view, editing's identifying fields and sample data — and the checks that what is
still written by hand per field (model columns, the form, docs/records.md) agrees with it.

A field's declaration is its marshmallow field and ``metadata``::

    place = fields.String(allow_none=True,
                          metadata={**generalised("place_to_governorate"), "label": _l("Place")})

``docs/plugins.md`` ("Adding a field") lists every place a new field goes; ``problems()``
is the test that keeps that list true for every registered record type.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache

from marshmallow import Schema, fields
from wtforms import FieldList, FormField

from core.redaction import AUDIENCES, GENERALISE, NEVER, OPEN, sharing_of, undeclared_fields

PART_ID = "uuid"  # every part (an incident) has one: kept by the record layer, never typed
PLACE_RULES = frozenset({"place_to_governorate", "place_to_country"})  # its values: places


@dataclass(frozen=True)
class Declared:
    """One field of a schema: where it is (``path``: dotted, lists unnumbered, as in
    ``incidents.narrative``) and what its declaration says (worked out once: exports ask
    for every record)."""

    path: str
    field: fields.Field

    @cached_property
    def name(self) -> str:
        return self.path.rsplit(".", 1)[-1]

    @cached_property
    def attribute(self) -> str:
        """The model attribute that holds it."""
        return self.field.attribute or self.name

    @cached_property
    def sharing(self) -> str:
        return sharing_of(self.field)

    @property
    def metadata(self) -> Mapping:
        return self.field.metadata

    @property
    def label(self) -> str | None:
        label = self.metadata.get("label")
        return str(label) if label else None

    @property
    def rule(self) -> str | None:
        return self.metadata.get("rule")

    @property
    def audiences(self) -> tuple[str, ...]:
        return tuple(self.metadata.get("audiences", AUDIENCES))

    @cached_property
    def coded(self) -> bool:
        """Its values are codes named by a vocabulary or by labels."""
        return bool(self.metadata.get("vocabulary") or self.metadata.get("labels"))

    @cached_property
    def place(self) -> bool:
        """Its values are places of the gazetteer (coarsened by a place rule)."""
        return self.rule in PLACE_RULES

    @cached_property
    def identifying(self) -> bool:
        return self.sharing == NEVER

    @cached_property
    def text(self) -> bool:
        """An open field of free text (a string, or a list of strings), not of codes."""
        if self.sharing != OPEN or self.metadata.get("code"):
            return False
        inner = self.field.inner if isinstance(self.field, fields.List) else self.field
        return isinstance(inner, fields.String)

    @cached_property
    def part(self) -> Schema | None:
        """The schema of the part (or parts) it holds, if it holds any."""
        return nested_schema(self.field)

    @cached_property
    def many(self) -> bool:
        return isinstance(self.field, fields.List)


def nested_schema(schema_field: fields.Field) -> Schema | None:
    """The schema of a nested field (or of a list of nested objects); None for a value."""
    if isinstance(schema_field, fields.List):
        schema_field = schema_field.inner
    if isinstance(schema_field, fields.Nested):
        return schema_field.schema
    return None


def own(schema: Schema | type[Schema]) -> tuple[Declared, ...]:
    """The schema's own fields, in schema order (a part's fields are not walked)."""
    return _own(_class(schema))


def declared(schema: Schema | type[Schema]) -> tuple[Declared, ...]:
    """Every field, parts' fields after their own, in schema order."""
    return _declared(_class(schema), "")


def identifying(schema: Schema | type[Schema]) -> tuple[str, ...]:
    """The attributes of the schema's own `never` fields: sealed, shown only to people who
    may see identifying values."""
    return tuple(item.attribute for item in own(schema) if item.identifying)


def as_written(schema: Schema | type[Schema]) -> tuple[str, ...]:
    """The schema's own fields whose column does not hold them as written (`never` fields,
    sealed; open texts, kept scrubbed): read them from ``core.records.reveal``."""
    return tuple(item.name for item in own(schema) if item.identifying or item.text)


def kept_as_is(schema: Schema | type[Schema]) -> tuple[Declared, ...]:
    """The schema's own values its columns hold as they are (codes, numbers, dates, coarsened
    fields' exact values), without the parts and the part id."""
    return tuple(item for item in own(schema)
                 if not (item.identifying or item.text or item.part) and item.name != PART_ID)


def _class(schema) -> type[Schema]:
    return schema if isinstance(schema, type) else type(schema)


@lru_cache(maxsize=256)
def _instance(schema_class: type[Schema]) -> Schema:
    return schema_class()


@lru_cache(maxsize=256)
def _own(schema_class: type[Schema]) -> tuple[Declared, ...]:
    return tuple(Declared(name, field) for name, field in _instance(schema_class).fields.items())


@lru_cache(maxsize=256)
def _declared(schema_class: type[Schema], prefix: str) -> tuple[Declared, ...]:
    found = []
    for name, field in _instance(schema_class).fields.items():
        item = Declared(f"{prefix}{name}", field)
        found.append(item)
        if item.part is not None:
            found += _declared(type(item.part), f"{item.path}.")
    return tuple(found)


# -- agreement: what is still written by hand per field ----------------------------------


def problems(record_type, records_md: str) -> list[str]:
    """Every way ``record_type`` (a ``core.records.RecordType``) breaks the checklist in
    docs/plugins.md ("Adding a field"), as sentences that say how to fix it; empty when it
    keeps it. ``records_md``: the text of docs/records.md."""
    if record_type.schema is None:
        return []
    schema = _instance(record_type.schema)
    found = [f"{record_type.name}: {path} has no sharing class; give it metadata "
             "{'sharing': 'open'|'generalise'|'never'}." for path in undeclared_fields(schema)]
    found += unlabelled(record_type.name, schema)
    if record_type.model is not None:
        found += without_column(record_type.name, schema, record_type.model)
    if record_type.form is not None:
        found += off_form(record_type.name, schema, record_type.form, record_type.not_on_form)
    found += undocumented(record_type, records_md)
    return found


def unlabelled(name: str, schema: Schema) -> list[str]:
    """Fields without a label (the readable view, exports' headers and reviews show it)."""
    return [f"{name}: {item.path} has no label; give it metadata {{'label': _l('...')}}."
            for item in declared(schema) if not item.label]


def without_column(name: str, schema: Schema, model: type) -> list[str]:
    """Fields the model cannot hold: a value without its column, a part without its
    relationship."""
    found = []
    for item in own(schema):
        relationship = model.__mapper__.relationships.get(item.attribute)
        if item.part is not None and relationship is not None:
            found += without_column(name, item.part, relationship.mapper.class_)
        elif item.part is not None or item.attribute not in model.__table__.columns:
            what = "relationship" if item.part is not None else "column"
            found.append(f"{name}: {model.__name__} has no {what} {item.attribute!r} for the "
                         f"field {item.name!r}; add it to the model and a migration.")
    return found


def off_form(name: str, schema: Schema, form_class: type,
             not_on_form: Mapping[str, str]) -> list[str]:
    """Fields neither on the form nor declared off it with a reason, and declared omissions
    that are wrong (a field that is on the form, or no longer in the schema)."""
    on_form = form_paths(form_class)
    paths = {item.path for item in declared(schema) if item.part is None}
    found = [f"{name}: {path} is not on {form_class.__name__}; add a form field, or declare "
             "it in the record type's not_on_form with the reason."
             for path in sorted(paths - on_form - set(not_on_form))]
    for path, reason in sorted(not_on_form.items()):
        if path not in paths:
            found.append(f"{name}: not_on_form names {path}, which is no field of the schema.")
        elif path in on_form:
            found.append(f"{name}: not_on_form names {path}, which is on the form.")
        elif not str(reason).strip():
            found.append(f"{name}: not_on_form gives no reason for leaving {path} off.")
    return found


def form_paths(form_class: type, prefix: str = "") -> set[str]:
    """The dotted paths of a WTForms form's fields, into its FormFields and FieldLists of
    FormFields (as a schema's parts): ``{"title", "incidents.narrative", ...}``."""
    found = set()
    for name in dir(form_class):
        unbound = getattr(form_class, name, None)
        if not getattr(unbound, "_formfield", False):
            continue
        subform = _subform(unbound)
        if subform is None:
            found.add(f"{prefix}{name}")
        else:
            found |= form_paths(subform, f"{prefix}{name}.")
    return found


def _subform(unbound) -> type | None:
    """The form class a FormField (or a FieldList of FormFields) holds."""
    if unbound.field_class is FieldList and unbound.args:
        unbound = unbound.args[0]
    if getattr(unbound, "field_class", None) is FormField and unbound.args:
        return unbound.args[0]
    return None


# -- docs/records.md ------------------------------------------------------------------------


CLASS_WORD = re.compile(r"^\s*(open|generalise|never)\b(?:\s*`([a-z_]+)`)?")


def undocumented(record_type, records_md: str) -> list[str]:
    """Fields missing from the record type's table in docs/records.md, or documented with
    another class, rule or audiences than the schema declares; rows naming no field."""
    section = _section(records_md, record_type.name)
    if section is None:
        return [f"{record_type.name}: docs/records.md has no section '## `{record_type.name}`, "
                f"version {record_type.version}'."]
    found = []
    if f"version {record_type.version}" not in section.splitlines()[0]:
        found.append(f"{record_type.name}: docs/records.md's heading does not say version "
                     f"{record_type.version}.")
    rows = documented_rows(section)
    for item in declared(record_type.schema):
        if item.part is not None:
            continue  # a part is documented by its fields
        row = rows.pop(item.path, None)
        found += _row_problems(record_type.name, item, row)
    found += [f"{record_type.name}: docs/records.md documents {path}, which is no field of "
              "the schema." for path in sorted(rows)]
    return found


def _row_problems(name: str, item: Declared, row: str | None) -> list[str]:
    where = f"{name}: {item.path}"
    if row is None:
        return [f"{where} has no row in docs/records.md's table; add one (field, class, what "
                "a recipient gets)."]
    match = CLASS_WORD.match(row)
    if match is None or match.group(1) != item.sharing:
        return [f"{where} is {item.sharing} in the schema but not in docs/records.md."]
    if item.sharing == GENERALISE and match.group(2) != item.rule:
        return [f"{where} is coarsened by {item.rule} in the schema but not in docs/records.md."]
    if set(item.audiences) != set(AUDIENCES) and not (
            "only" in row and all(audience in row for audience in item.audiences)):
        return [f"{where} goes only to {', '.join(item.audiences)}; docs/records.md must say "
                "so ('peers and hub only')."]
    return []


def _section(records_md: str, type_name: str) -> str | None:
    """From the record type's '## `name`' heading to the next '## ' heading."""
    start = records_md.find(f"## `{type_name}`")
    if start < 0:
        return None
    end = records_md.find("\n## ", start + 1)
    return records_md[start:end if end > 0 else None]


def documented_rows(section: str) -> dict[str, str]:
    """The table's rows by field path: ``| `defender.real_name`, `contacts` | never | — |``
    documents ``defender.real_name`` and ``defender.contacts`` (a short name takes the
    first one's part); ``incidents[].place`` is ``incidents.place``."""
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.lstrip().startswith("|") or len(cells) < 2:
            continue
        names = re.findall(r"`([^`]+)`", cells[0])
        for path in _paths_named(names):
            rows[path] = cells[1]
    return rows


def _paths_named(names: Iterable[str]) -> list[str]:
    paths, part = [], ""
    for name in names:
        name = name.replace("[]", "")
        if "." in name or not paths:
            part = name.rsplit(".", 1)[0] + "." if "." in name else ""
            paths.append(name)
        else:
            paths.append(f"{part}{name}")
    return paths
