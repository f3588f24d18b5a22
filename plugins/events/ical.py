"""iCalendar (RFC 5545) files of events, made with the ``icalendar`` library: the public feed,
a member's private feed, one event's file. Each event is a VEVENT in its own zone (with its
VTIMEZONE) and its series as an RRULE; a place or an online link is never in a file: the
city, and only when the place is not secret, is the most a file says of where."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from icalendar import Calendar, vRecur
from icalendar import Event as VEvent

from core import records

from . import schedule


def calendar(events, name: str) -> bytes:
    """The iCalendar text of ``events`` (VTIMEZONEs added for the zones they use)."""
    cal = Calendar()
    cal.add("prodid", "-//Rabita//events//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    for event in events:
        cal.add_component(vevent(event))
    cal.add_missing_timezones()
    return cal.to_ical()


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
