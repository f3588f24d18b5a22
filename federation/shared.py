"""What partner nodes (and the hub) shared with this node, for its people to read.

Every payload here was redacted by its origin for the audience this node belongs to, under
the defender's consent, and checked against its signed entry when it arrived: nothing
identifying. A tombstone (consent withdrawn, expired, retracted) takes a record off these
pages at once: only records still held, with their payload, are shown.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from marshmallow import Schema, fields
from sqlalchemy import and_, or_, select

from core import clock, records
from core.extensions import db
from core.places import gazetteer
from core.vocabularies import vocabulary
from federation import protocol
from federation.models import HeldRecord, Peer, ReceivedEntry

PAGE_SIZE = 50


@dataclass(frozen=True)
class SharedRecord:
    origin: str
    record_id: str
    record_type: str
    version: int
    received_at: datetime
    via_hub: bool
    expires_on: date | None
    payload: dict | None = None  # read for one record's page, not for the list


def _query(*more):
    entry = ReceivedEntry
    return (
        select(HeldRecord.origin, HeldRecord.record_id, HeldRecord.record_type,
               HeldRecord.version, entry.received_at, entry.relay, HeldRecord.expires_on, *more)
        .join(entry, and_(entry.origin == HeldRecord.origin, entry.feed == HeldRecord.feed,
                          entry.seq == HeldRecord.seq))
        .where(HeldRecord.tombstoned_at.is_(None), entry.payload.is_not(None),
               # consent that lapsed here before the next purge: already not shown
               or_(HeldRecord.expires_on.is_(None), HeldRecord.expires_on > clock.now().date()))
    )


def page(number: int) -> tuple[list[SharedRecord], bool]:
    """One page of the records held, the newest arrivals first; and whether more follow."""
    rows = db.session.execute(
        _query().order_by(ReceivedEntry.received_at.desc(), HeldRecord.id.desc())
        .limit(PAGE_SIZE + 1).offset((max(1, number) - 1) * PAGE_SIZE)
    ).all()
    return [SharedRecord(*row) for row in rows[:PAGE_SIZE]], len(rows) > PAGE_SIZE


def one(origin: str, record_id: str) -> SharedRecord | None:
    """One held record with its payload, or None (unknown, or taken back)."""
    if not protocol.NODE_ID.fullmatch(origin) or not protocol.UUID.fullmatch(record_id):
        return None  # not ids at all (a NUL byte would even stop PostgreSQL's query)
    row = db.session.execute(
        _query(ReceivedEntry.payload)
        .where(HeldRecord.origin == origin, HeldRecord.record_id == record_id)
    ).one_or_none()
    if row is None:
        return None
    *fields, payload = row
    return SharedRecord(*fields, payload=json.loads(payload))


def origin_names() -> dict[str, str]:
    """The names this node's administrators gave the nodes it knows, by node id."""
    return {node_id: label for node_id, label in db.session.execute(
        select(Peer.node_id, Peer.label)) if label}


# -- reading a payload ----------------------------------------------------------------------

PLACE_RULES = frozenset({"place_to_governorate", "place_to_country"})


@dataclass(frozen=True)
class Shown:
    """One field of a payload as a person reads it: its label, and its value — a text, the
    fields of a part (a list of Shown), or several of either."""

    label: str
    value: str | list


def readable(record: SharedRecord, locale: str) -> list[Shown]:
    """The payload in words, by the record type's schema when this node knows the type:
    field labels, vocabulary codes and places named in ``locale``. What the schema does not
    describe (a newer version's field, a type no plugin here declares) is shown as sent."""
    known = records.record_types()
    declared = known.get(record.record_type) if record.record_type in known else None
    schema = declared.schema() if declared is not None and declared.schema else None
    return _fields(record.payload or {}, schema, locale)


def _fields(payload: dict, schema: Schema | None, locale: str) -> list[Shown]:
    shown = []
    for name, value in payload.items():
        field = schema.fields.get(name) if schema is not None else None
        label = field.metadata.get("label") if field is not None else None
        shown.append(Shown(str(label or name.replace("_", " ")), _value(value, field, locale)))
    return shown


def _value(value, field, locale: str, meta: dict | None = None):
    meta = meta if meta is not None else (field.metadata if field is not None else {})
    if isinstance(value, dict):
        return _fields(value, field.schema if isinstance(field, fields.Nested) else None, locale)
    if isinstance(value, list):  # a list's items are named by the list's metadata
        inner = field.inner if isinstance(field, fields.List) else None
        item_meta = inner.metadata if inner is not None and inner.metadata else meta
        return [_value(item, inner, locale, item_meta) for item in value]
    if value is None or value == "":
        return "—"
    return _named(str(value), meta, locale)


def _named(code: str, meta: dict, locale: str) -> str:
    if meta.get("vocabulary"):
        return vocabulary(meta["vocabulary"]).label(code, locale)
    if meta.get("labels"):
        return str(meta["labels"].get(code, code))
    if meta.get("rule") in PLACE_RULES:
        place = gazetteer().get(code)
        return place.name(locale) if place else code
    return code
