"""Events other nodes shared with this one: a row per event from its redacted payload (kept
in step with what the node holds: a purge deletes it), the calendar of a hub by month, and
the public events a hub's public page may show (``public_events``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import force_locale, gettext
from sqlalchemy import delete, select

from core import clock
from core.extensions import db

from . import schedule
from .forms import KIND_LABELS
from .models import PUBLIC, REACHES, Event, SharedEvent

RECORD_TYPE = Event.__record_type__


def received(shared) -> None:
    """Keep (or update) the calendar row of a shared event; a payload that is not a
    well-formed event is left out of the calendar (the record itself is still held)."""
    if shared.record_type != RECORD_TYPE or shared.payload is None:
        return
    row = _row_from(shared.payload)
    if row is None:
        purged(shared)
        return
    existing = db.session.scalar(select(SharedEvent).where(
        SharedEvent.origin == shared.origin, SharedEvent.record_id == shared.record_id))
    if existing is None:
        existing = SharedEvent(origin=shared.origin, record_id=shared.record_id)
        db.session.add(existing)
    for name, value in row.items():
        setattr(existing, name, value)


def purged(shared) -> None:
    if shared.record_type == RECORD_TYPE:
        db.session.execute(delete(SharedEvent).where(SharedEvent.origin == shared.origin,
                                                     SharedEvent.record_id == shared.record_id))


def _row_from(payload: dict) -> dict | None:
    try:
        starts_at = datetime.fromisoformat(payload["starts_at"])
        ends_at = datetime.fromisoformat(payload["ends_at"])
        schedule.zone(payload["timezone"])
        schedule.check_times(starts_at, ends_at)
        schedule.check_rule(payload.get("recurrence"), starts_at, payload["timezone"])
    except (KeyError, TypeError, ValueError):
        return None
    if payload.get("kind") not in KIND_LABELS or payload.get("audience") not in REACHES \
            or starts_at.tzinfo is None:
        return None
    return {"title": str(payload.get("title") or "")[:200], "kind": payload["kind"],
            "city": str(payload.get("city") or "")[:120], "audience": payload["audience"],
            "starts_at": starts_at, "ends_at": ends_at, "timezone": payload["timezone"],
            "recurrence": payload.get("recurrence")}


def in_range(first: datetime, last: datetime, *, public_only: bool = False
             ) -> list[schedule.Occurrence]:
    """Occurrences of shared events in [first, last), earliest first."""
    query = select(SharedEvent).where(SharedEvent.starts_at < last)
    if public_only:
        query = query.where(SharedEvent.audience == PUBLIC)
    found = []
    for row in db.session.scalars(query.order_by(SharedEvent.starts_at)):
        found += schedule.occurrences(row, first, last)
    return sorted(found, key=lambda o: o.starts_at)


def public_page_sections(locale: str) -> list[dict]:
    """A hub's public page: the public events partner nodes shared, of the next 90 days (their
    organisers made them public and a reviewer approved them; never a place or a link)."""
    now = clock.now()
    coming = public_events(now, now + timedelta(days=90))[:MAX_PUBLIC_LINES]
    with force_locale(locale):
        title = gettext("Coming events")
        lines = [f"{o.starts_at.astimezone(schedule.zone(o.event.timezone)):%Y-%m-%d %H:%M} "
                 f"({o.event.timezone}) {o.event.title}"
                 + (f" — {o.event.city}" if o.event.city else "") for o in coming]
    return [{"title": title, "lines": lines}] if lines else []


MAX_PUBLIC_LINES = 40


def public_events(first: datetime, last: datetime) -> list[schedule.Occurrence]:
    """For a hub's public page: the shared events their organisers made public, in
    [first, last). Each ``Occurrence.event`` is a SharedEvent (title, kind, city, zone)."""
    return in_range(first, last, public_only=True)
