"""The forms of the events plugin: an event (every schema field is on it or declared off it,
core checks), registering someone from outside, the check-in list and the report."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from core.forms import choices

from .models import COALITION, MEMBERS, PUBLIC

KIND_LABELS = {
    "training": _l("Training"),
    "workshop": _l("Workshop"),
    "advocacy-campaign": _l("Advocacy campaign"),
    "solidarity-visit": _l("Solidarity visit"),
    "trial-observation": _l("Trial observation"),
    "coalition-meeting": _l("Coalition meeting"),
    "safe-space": _l("Safe-space gathering"),
    "statement-launch": _l("Statement launch"),
    "commemoration": _l("Commemoration"),
}
AUDIENCE_LABELS = {
    MEMBERS: _l("This node's members"),
    COALITION: _l("The coalition"),
    PUBLIC: _l("Public"),
}
VISIBILITY_LABELS = {
    "exact": _l("Exact place, to this node's members"),
    "city": _l("City only"),
    "secret": _l("Secret: only registered attendees and organisers"),
}
LANGUAGE_LABELS = {"ar": _l("Arabic"), "fr": _l("French"), "en": _l("English")}
AGE_BAND_LABELS = {"unknown": _l("Not said"), "under-18": _l("Under 18"),
                   "18-29": "18–29", "30-44": "30–44", "45-59": "45–59", "60+": "60+"}
ROLE_LABELS = {"participant": _l("Participant"), "speaker": _l("Speaker"),
               "facilitator": _l("Facilitator"), "observer": _l("Observer")}


class EventForm(FlaskForm):
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    kind = SelectField(_l("Type"), choices=choices(KIND_LABELS))
    starts_at = DateTimeLocalField(_l("Starts (local time)"), format="%Y-%m-%dT%H:%M",
                                   validators=[InputRequired()])
    ends_at = DateTimeLocalField(_l("Ends (local time)"), format="%Y-%m-%dT%H:%M",
                                 validators=[InputRequired()])
    timezone = StringField(_l("Time zone"), default="Africa/Tunis",
                           validators=[InputRequired(), Length(max=64)])
    recurrence = StringField(_l("Repeats (RRULE, with COUNT or UNTIL)"),
                             validators=[Optional(), Length(max=200)])
    city = StringField(_l("City"), validators=[Optional(), Length(max=120)])
    location_visibility = SelectField(_l("Who sees the place"),
                                      choices=choices(VISIBILITY_LABELS))
    location = StringField(_l("Place"), validators=[Optional(), Length(max=300)])
    online_link = StringField(_l("Online link"), validators=[Optional(), Length(max=500)])
    audience = SelectField(_l("Audience"), choices=choices(AUDIENCE_LABELS))
    capacity = IntegerField(_l("Capacity"), validators=[Optional(), NumberRange(min=1,
                                                                                 max=100000)])
    registration_open = BooleanField(_l("Registration open"), default=True)
    languages = SelectMultipleField(_l("Languages"), choices=choices(LANGUAGE_LABELS),
                                    validators=[Optional()])
    # Not a field of the record (organisers never leave the node: events_organiser). Its
    # choices are the node's active organisers (views); anything else is "Not a valid choice".
    # None chosen: they stay as they are (a new event's: its creator).
    organisers = SelectMultipleField(_l("Organisers"), validate_choice=False)

    def validate_organisers(self, field) -> None:
        offered = {str(choice[0]) for choice in field.choices or []}
        if not set(field.data) <= offered:
            raise ValidationError(_l("Not a valid choice."))


class OutsiderForm(FlaskForm):
    """Someone from outside the node, registered by an organiser: only what is needed."""

    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=200)])
    contact = StringField(_l("How to reach her (optional)"),
                          validators=[Optional(), Length(max=200)])
    age_band = SelectField(_l("Age band"), choices=choices(AGE_BAND_LABELS))
    role = SelectField(_l("Role"), choices=choices(ROLE_LABELS))


class ReportForm(FlaskForm):
    outcomes = TextAreaField(_l("Outcomes"), validators=[Optional(), Length(max=10000)])
    follow_ups = TextAreaField(_l("Follow-ups (kept on this node)"),
                               validators=[Optional(), Length(max=10000)])
