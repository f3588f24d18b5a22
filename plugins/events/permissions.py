"""What the events plugin lets each role do (core's ``core.identifying.view`` still guards
every identifying value)."""

from flask_babel import lazy_gettext as _l

from core.permissions import ADMIN, DOCUMENTER, MEMBER, REVIEWER, Permission

VIEW = "events.view"
ORGANISE = "events.organise"

PERMISSIONS = [
    Permission(VIEW, _l("See the calendar, register for events, keep a calendar feed"),
               {ADMIN, REVIEWER, DOCUMENTER, MEMBER}),
    Permission(ORGANISE, _l("Organise events: write them, see registrations, check people in"),
               {ADMIN, REVIEWER, DOCUMENTER}),
]
