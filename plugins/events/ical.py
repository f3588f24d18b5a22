"""iCalendar (RFC 5545) files of events, made with the ``icalendar`` library: the public feed,
a member's private feed, one event's file. Each event is a VEVENT in its own zone (with its
VTIMEZONE) and its series as an RRULE; a place or an online link is never in a file: the
city, and only when the place is not secret, is the most a file says of where."""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime
from functools import lru_cache

from flask import current_app
from icalendar import Calendar, Timezone, vRecur
from icalendar import Event as VEvent

from core import records

from . import schedule


def calendar(events, name: str) -> bytes:
    """The iCalendar text of ``events`` with a VTIMEZONE for each zone they use. Each
    VEVENT's text is kept per event version, each zone's per zone (both cost about a
    millisecond to make, and a feed holds hundreds)."""
    head = Calendar()
    head.add("prodid", "-//Rabita//events//EN")
    head.add("version", "2.0")
    head.add("x-wr-calname", name)
    node = current_app.config.get("NODE_ID", "local")
    items, zones = [], {}
    for event in events:
        items.append(_vevent_text(event.uuid, event.version, node, event))
        zones.setdefault(event.timezone, None)
    opening = head.to_ical().removesuffix(b"END:VCALENDAR\r\n")
    return b"".join([opening, *(_vtimezone_text(z) for z in zones), *items,
                     b"END:VCALENDAR\r\n"])


_VEVENTS: OrderedDict[tuple, bytes] = OrderedDict()
KEPT_VEVENTS = 20_000


def _vevent_text(uuid: str, version: int, node: str, event) -> bytes:
    key = (uuid, version, node)
    text = _VEVENTS.get(key)
    if text is None:
        text = _VEVENTS[key] = vevent(event).to_ical()
        if len(_VEVENTS) > KEPT_VEVENTS:
            _VEVENTS.popitem(last=False)
    return text


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
