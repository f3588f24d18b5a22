"""iCalendar (RFC 5545) files of events, made with the ``icalendar`` library: the public feed,
a member's private feed, one event's file. Each event is a VEVENT in its own zone (with its
VTIMEZONE) and its series as an RRULE; a place or an online link is never in a file: the
city, and only when the place is not secret, is the most a file says of where."""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

from flask import current_app
from icalendar import Calendar, Timezone, vRecur
from icalendar import Event as VEvent
from sqlalchemy import select

from core import records
from core.extensions import db

from . import schedule
from .models import Event


class Listed(NamedTuple):
    """An event as a feed lists it: enough to find its text, or to load it to make one."""

    uuid: str
    version: int
    timezone: str


def calendar(events: list[Listed], name: str) -> bytes:
    """The iCalendar text of ``events`` with a VTIMEZONE for each zone they use. Each
    VEVENT's text is kept per event version, each zone's per zone (both cost about a
    millisecond to make, and a feed holds hundreds); rows are loaded only to make one."""
    head = Calendar()
    head.add("prodid", "-//Rabita//events//EN")
    head.add("version", "2.0")
    head.add("x-wr-calname", name)
    node = current_app.config.get("NODE_ID", "local")
    texts = _vevent_texts(events, node)
    zones = dict.fromkeys(event.timezone for event in events)
    opening = head.to_ical().removesuffix(b"END:VCALENDAR\r\n")
    return b"".join([opening, *(_vtimezone_text(z) for z in zones), *texts,
                     b"END:VCALENDAR\r\n"])


_VEVENTS: OrderedDict[tuple, bytes] = OrderedDict()
KEPT_VEVENTS = 20_000


def _vevent_texts(events: list[Listed], node: str) -> list[bytes]:
    missing = [e.uuid for e in events if (e.uuid, e.version, node) not in _VEVENTS]
    for start in range(0, len(missing), 500):
        for event in db.session.scalars(select(Event).where(
                Event.uuid.in_(missing[start:start + 500]))):
            _VEVENTS[(event.uuid, event.version, node)] = vevent(event).to_ical()
    texts = [_VEVENTS.get((e.uuid, e.version, node), b"") for e in events]
    while len(_VEVENTS) > KEPT_VEVENTS:
        _VEVENTS.popitem(last=False)
    return texts


@lru_cache(maxsize=512)
def _vtimezone_text(zone_name: str) -> bytes:
    return Timezone.from_tzid(zone_name).to_ical()


def vevent(event) -> VEvent:
    """One event: its open fields only (scrubbed title and description), times in its zone."""
    shown = records.texts_for(event, None)
    item = VEvent()
    item.add("uid", f"{event.uuid}@{current_app.config.get('NODE_ID', 'local')}")
    item.add("dtstamp", event.updated_at or event.created_at)
    item.add("summary", shown(event, "title"))
    if event.description:
        item.add("description", shown(event, "description"))
    item.add("dtstart", _in_zone(event.starts_at, event.timezone))
    item.add("dtend", _in_zone(event.ends_at, event.timezone))
    if event.recurrence:
        item.add("rrule", vRecur.from_ical(event.recurrence))
    if event.city and event.location_visibility != "secret":
        item.add("location", shown(event, "city"))
    item.add("categories", [event.kind])
    item.add("sequence", event.version)
    return item


def _in_zone(moment: datetime, zone_name: str) -> datetime:
    return schedule.local(moment, zone_name)
