"""Events: the coalition's trainings, advocacy actions and safe-space gatherings — a calendar,
registration and check-in, calendar feeds, and the events partner nodes share (a hub's
calendar). An event is about no person: its organiser's audience says where it may go.

This file is the plugin's table of contents: hook implementations only.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core.dashboard import NavItem
from core.hookspecs import hookimpl
from core.records import RecordType
from core.settings import Setting

from . import shared as shared_events
from .forms import EventForm
from .models import Event
from .permissions import PERMISSIONS, VIEW
from .schemas import EventSchema
from .views import blueprint

NOT_ON_FORM = {
    "outcomes": "written on the after-event report (report.html), not the event's form",
    "follow_ups": "written on the after-event report (report.html), not the event's form",
    "participation": "counted from the check-in list when the report is saved",
}


@hookimpl
def register_settings():
    return [Setting("EVENTS_TIMEZONE", "UTC",
                    "the IANA time zone the calendar shows times in unless the reader asks "
                    "for another")]


@hookimpl
def register_blueprints():
    return [blueprint]


@hookimpl
def register_permissions():
    return PERMISSIONS


@hookimpl
def register_record_types():
    return [RecordType(Event.__record_type__, EventSchema, Event, version=1,
                       label=_l("Event"), form=EventForm, not_on_form=NOT_ON_FORM,
                       data_subject=False)]


@hookimpl
def navigation_items(user):
    return [NavItem(_l("Events"), "events.index", VIEW, order=50)]


@hookimpl
def shared_record_received(shared):
    shared_events.received(shared)


@hookimpl
def shared_record_purged(shared):
    shared_events.purged(shared)


@hookimpl
def public_page_sections(locale):
    return shared_events.public_page_sections(locale)
