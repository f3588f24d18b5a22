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

from sqlalchemy import and_, or_, select

from core import clock, records
from core.extensions import db
from core.readable import Shown, in_words
from federation import protocol
from federation.models import HeldRecord, Peer, Quarantine, ReceivedEntry

PAGE_SIZE = 50
# The quarantine reason of a hub's own hold on a member's feed (federation.operations): its
# records are not shown while the hold lasts.
WITHHELD = "withheld-by-hub"


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
               HeldRecord.origin.not_in(select(Quarantine.origin)
                                        .where(Quarantine.reason == WITHHELD)),
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


def readable(record: SharedRecord, locale: str) -> list[Shown]:
    """The payload in words (``core.readable``), by the record type's schema when this node
    knows the type; what the schema does not describe (a newer version's field, a type no
    plugin here declares) is shown as sent."""
    known = records.record_types()
    declared = known.get(record.record_type) if record.record_type in known else None
    schema = declared.schema() if declared is not None and declared.schema else None
    return in_words(record.payload or {}, schema, locale)
