"""A record, or a payload, as people read it: field labels, vocabulary terms and places named
in their language rather than codes — and, for the review before sharing, the record as
written beside what would leave, once, with what still looks like a name, a number or a date
marked in the outgoing text.

Reading never decides what may leave (``core.redaction`` does); it only shows it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask_babel import gettext
from marshmallow import Schema, fields

from core import declaration, keystore, records
from core.declaration import PLACE_RULES, nested_schema
from core.i18n import language
from core.permissions import VIEW_IDENTIFYING
from core.places import gazetteer
from core.redaction import OPEN, sharing_of
from core.scrub import suspicious_spans
from core.vocabularies import vocabulary


@dataclass(frozen=True)
class Shown:
    """One field as a person reads it: its label, and its value — a text, the fields of a
    part (a list of Shown), or several of either; ``sharing``: its class, when the page
    marks it (a record of this node, ``of_record``)."""

    label: str
    value: str | list
    sharing: str = ""


def in_words(values: Mapping, schema: Schema | None, locale: str) -> list[Shown]:
    """``values`` (a record's or a payload's) in words, by ``schema`` when there is one:
    field labels, vocabulary codes and places named in ``locale``. What the schema does not
    describe (a newer version's field) is shown as it stands."""
    shown = []
    for name, value in values.items():
        field = schema.fields.get(name) if schema is not None else None
        shown.append(Shown(label_of(field, name), value_in_words(value, field, locale)))
    return shown


def of_record(record, user, locale: str) -> list[Shown]:
    """A record of this node in words, as ``user`` may read it: every field of its schema, in
    schema order, with its label and sharing class. Identifying values and open texts as
    written only to someone who may see them, on an unlocked node (read through
    ``core.records.reveal``: audited); to anyone else texts in their scrubbed form and each
    identifying field marked hidden. A plugin's record page can show it whole
    (``records/_readable.html``: ``shown_fields``)."""
    schema = records.schema_of(records.type_of(record))
    if keystore.keystore().unlocked and user.can(VIEW_IDENTIFYING):
        values = records.reveal(record, user)
    else:
        values = records.values(record, identifying=False)
    return _marked(values, schema, locale)


def _marked(values: Mapping, schema: Schema, locale: str) -> list[Shown]:
    shown = []
    for item in declaration.own(schema):
        label = label_of(item.field, item.name)
        if item.name not in values:  # an identifying field she may not see
            shown.append(Shown(label, gettext("hidden"), item.sharing))
            continue
        value = values[item.name]
        if item.part is not None and item.many:
            value = [_marked(part, item.part, locale) for part in value or []]
        elif item.part is not None:
            value = _marked(value, item.part, locale) if value else "—"
        else:
            value = value_in_words(value, item.field, locale)
        shown.append(Shown(label, value, item.sharing))
    return shown


def label_of(field, name: str) -> str:
    label = field.metadata.get("label") if field is not None else None
    return str(label or name.replace("_", " "))


def value_in_words(value, field, locale: str, meta: dict | None = None):
    """One value in words: a text, a list (of texts or of parts' fields), or "—"."""
    meta = meta if meta is not None else (field.metadata if field is not None else {})
    if isinstance(value, dict):
        return in_words(value, _schema_of(field), locale)
    if isinstance(value, list):  # a list's items are named by the list's metadata
        inner = field.inner if isinstance(field, fields.List) else None
        item_meta = inner.metadata if inner is not None and inner.metadata else meta
        return [value_in_words(item, inner, locale, item_meta) for item in value]
    if value is None or value == "":
        return "—"
    return named(str(value), meta, locale)


def named(code: str, meta: dict, locale: str) -> str:
    """A code by the name people know it by: a vocabulary term, a label, a place."""
    if meta.get("vocabulary"):
        return vocabulary(meta["vocabulary"]).label(code, locale)
    if meta.get("labels"):
        return str(meta["labels"].get(code, code))
    if meta.get("rule") in PLACE_RULES:
        place = gazetteer().get(code)
        return place.name(locale) if place else code
    return code


def _schema_of(field) -> Schema | None:
    return nested_schema(field) if field is not None else None


# -- the review: as written, beside what would leave -------------------------------------


@dataclass(frozen=True)
class Piece:
    """A stretch of an outgoing text; ``suspect`` says what it still looks like ("name",
    "number", "date"), or is empty."""

    text: str
    suspect: str = ""


@dataclass(frozen=True)
class Outgoing:
    """One value a field would leave with (words, or a text as Pieces), and who gets it."""

    value: str | list
    audiences: tuple[str, ...]
    text: bool = False  # a free text: ``value`` is a list of Pieces


@dataclass(frozen=True)
class Line:
    """One field of the record: its label and class, as written, and what would leave."""

    label: str
    sharing: str
    original: str | list = ""
    outgoing: tuple[Outgoing, ...] = ()
    withheld: tuple[str, ...] = ()  # audiences the record goes to, without this field
    parts: tuple[tuple[Line, ...], ...] = ()  # a nested field: each part's lines
    nested: bool = False

    @property
    def suspects(self) -> int:
        own = sum(1 for out in self.outgoing if out.text for piece in out.value if piece.suspect)
        return own + sum(line.suspects for part in self.parts for line in part)


def compared(original: Mapping, payloads: Mapping[str, Mapping], schema: Schema,
             locale: str, suspicious) -> list[Line]:
    """The record as written beside what would leave, field by field, each outgoing value
    once with the audiences it goes to. ``payloads``: audience → payload, for the audiences
    the record would go to; ``suspicious(text)``: the spans (start, end, kind) of what
    still looks like a name, a number or a date in an outgoing text."""
    lines = []
    for name, field in schema.fields.items():
        nested = _schema_of(field)
        sending = {audience: payload for audience, payload in payloads.items()
                   if name in payload}
        withheld = tuple(audience for audience in payloads if audience not in sending)
        if nested is not None:
            parts = _parts(original.get(name), sending, name, nested, locale, suspicious)
            lines.append(Line(label_of(field, name), sharing_of(field), withheld=withheld,
                              nested=True, parts=parts))
            continue
        lines.append(Line(label_of(field, name), sharing_of(field),
                          value_in_words(original.get(name), field, locale),
                          _outgoing(sending, name, field, locale, suspicious), withheld))
    return lines


def _parts(original, sending, name, nested, locale, suspicious) -> tuple:
    """Each part (an incident, the defender) compared; parts leave in the order they have."""
    if original is None:
        return ()
    many = isinstance(original, list)
    parts = []
    for index, part in enumerate(original if many else [original]):
        payloads = {}
        for audience, payload in sending.items():
            value = payload[name]
            sent = value[index] if many and isinstance(value, list) and index < len(value) \
                else value if not many else None
            if isinstance(sent, Mapping):
                payloads[audience] = sent
        parts.append(tuple(compared(part, payloads, nested, locale, suspicious)))
    return tuple(parts)


def _outgoing(sending, name, field, locale, suspicious) -> tuple[Outgoing, ...]:
    """Each distinct value the field leaves with, once, with its audiences."""
    by_value: dict[str, list[str]] = {}
    values: dict[str, object] = {}
    for audience, payload in sending.items():
        key = repr(payload[name])
        by_value.setdefault(key, []).append(audience)
        values[key] = payload[name]
    out = []
    for key, audiences in by_value.items():
        value = values[key]
        if _is_text(field, value):
            out.append(Outgoing(marked(value, suspicious), tuple(audiences), text=True))
        else:
            out.append(Outgoing(value_in_words(value, field, locale), tuple(audiences)))
    return tuple(out)


def _is_text(field, value) -> bool:
    """Free text a person typed (not a code, not a coarsened value)."""
    return (isinstance(value, str) and bool(value) and field is not None
            and sharing_of(field) == OPEN and not field.metadata.get("code"))


def marked(text: str, suspicious) -> list[Piece]:
    """``text`` cut into Pieces at the spans ``suspicious`` finds (sorted, apart)."""
    pieces, position = [], 0
    for span in suspicious(text):
        if span.start > position:
            pieces.append(Piece(text[position:span.start]))
        pieces.append(Piece(text[span.start:span.end], span.kind))
        position = span.end
    if position < len(text):
        pieces.append(Piece(text[position:]))
    return pieces


def for_review(original: Mapping, schema: Schema, audiences: list[dict]) -> list[Line]:
    """The review page's comparison, for ``audiences`` as the page lists them (``code``,
    ``consent``, ``redaction``): what would go to each audience that has consent."""
    payloads = {a["code"]: a["redaction"].payload for a in audiences
                if a["consent"] and not a["redaction"].blocked}
    return compared(original, payloads, schema, language(), suspicious_spans)
