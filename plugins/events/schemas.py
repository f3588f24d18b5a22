"""The record ``events.event``, version 1: every field and what may leave the node.

An event is about no person (``data_subject=False``): the organiser's audience says where it
may go, and review still applies. Its title, description, type, times, city and aggregate
participation may leave; its place and online link never do, and its attendees are not part
of the record at all (sealed rows of their own). README.md documents it.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields

from core.redaction import NEVER, OPEN, SCRUB_VALUE

from .forms import AUDIENCE_LABELS, KIND_LABELS, LANGUAGE_LABELS, VISIBILITY_LABELS


def _open(label, **extra):
    return {"sharing": OPEN, "label": label, **extra}


def _code(label, labels=None):
    return {"sharing": OPEN, "label": label, "code": True,
            **({"labels": labels} if labels else {})}


class EventSchema(Schema):
    title = fields.String(metadata=_open(_l("Title")))
    description = fields.String(metadata=_open(_l("Description")))
    kind = fields.String(metadata=_code(_l("Type"), KIND_LABELS))
    starts_at = fields.DateTime(metadata=_code(_l("Starts")))
    ends_at = fields.DateTime(metadata=_code(_l("Ends")))
    timezone = fields.String(metadata=_code(_l("Time zone")))
    recurrence = fields.String(allow_none=True, metadata=_code(_l("Repeats")))
    city = fields.String(metadata=_open(_l("City")))
    location_visibility = fields.String(metadata=_code(_l("Who sees the place"),
                                                       VISIBILITY_LABELS))
    location = fields.String(metadata={"sharing": NEVER, "label": _l("Place"),
                                       "scrub": SCRUB_VALUE})
    online_link = fields.String(metadata={"sharing": NEVER, "label": _l("Online link"),
                                          "scrub": SCRUB_VALUE})
    audience = fields.String(metadata=_code(_l("Audience"), AUDIENCE_LABELS))
    capacity = fields.Integer(allow_none=True, metadata=_code(_l("Capacity")))
    registration_open = fields.Boolean(metadata=_code(_l("Registration open")))
    languages = fields.List(fields.String(), metadata=_code(_l("Languages"), LANGUAGE_LABELS))
    outcomes = fields.String(metadata=_open(_l("Outcomes")))
    follow_ups = fields.String(metadata={"sharing": NEVER, "label": _l("Follow-ups"),
                                         "scrub": SCRUB_VALUE})
    participation = fields.Dict(allow_none=True,
                                metadata=_code(_l("Participation (counts, small ones hidden)")))
