"""The case forms: a case with its defender, incidents and support, in one page that works
without JavaScript (one empty incident and one empty support row are always offered)."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from core import clock
from core.forms import MultiCheckboxField, PartForm, choices, stripped

from .models import GENDERS, INTERVENTION_KINDS, INTERVENTION_STATUSES, RELIABILITY, RISKS, STATUSES

EARLIEST = date(1900, 1, 1)

STATUS_LABELS = {"open": _l("Open"), "monitoring": _l("Monitoring"), "closed": _l("Closed")}
RISK_LABELS = {"low": _l("Low"), "medium": _l("Medium"), "high": _l("High"),
               "critical": _l("Critical")}
GENDER_LABELS = {"woman": _l("Woman"), "man": _l("Man"), "non-binary": _l("Non-binary"),
                 "undisclosed": _l("Not disclosed")}
KIND_LABELS = {
    "legal-aid": _l("Legal aid"), "medical": _l("Medical care"),
    "psychosocial": _l("Psychosocial support"), "relocation": _l("Relocation"),
    "urgent-appeal": _l("Urgent appeal"), "digital-security": _l("Digital security"),
    "advocacy": _l("Advocacy"),
}
INTERVENTION_STATUS_LABELS = {"planned": _l("Planned"), "ongoing": _l("Ongoing"),
                              "done": _l("Done"), "cancelled": _l("Cancelled")}
RELIABILITY_LABELS = {"confirmed": _l("Confirmed"), "reliable": _l("Reliable"),
                      "unverified": _l("Not verified"), "doubtful": _l("Doubtful")}

# Every code the models know has a label (tests/plugins/cases/test_forms.py checks).
LABELLED = {
    STATUSES: STATUS_LABELS, RISKS: RISK_LABELS, GENDERS: GENDER_LABELS,
    INTERVENTION_KINDS: KIND_LABELS, INTERVENTION_STATUSES: INTERVENTION_STATUS_LABELS,
    RELIABILITY: RELIABILITY_LABELS,
}


def _blank(labels: dict) -> list[SelectChoice]:
    return choices({"": "—", **labels})


def not_in_future(form, field) -> None:
    if field.data is not None:
        if field.data > clock.now().date():
            raise ValidationError(_l("This date is in the future."))
        if field.data < EARLIEST:
            raise ValidationError(_l("This date is too far in the past."))


class DefenderForm(PartForm):
    pseudonym = StringField(_l("Pseudonym"), filters=[stripped],
                            validators=[DataRequired(), Length(max=100)])
    real_name = StringField(_l("Real name"), validators=[Length(max=200)])
    contacts = TextAreaField(_l("Contacts (phones, e-mails)"), validators=[Length(max=2000)])
    address = TextAreaField(_l("Exact address"), validators=[Length(max=2000)])
    organisation = StringField(_l("Organisation"), validators=[Length(max=200)])
    gender = SelectField(_l("Gender"), choices=_blank(GENDER_LABELS), default="")
    age = IntegerField(_l("Age"), validators=[Optional(), NumberRange(0, 120)])
    activism = MultiCheckboxField(_l("Fields of activism"), validate_choice=False)
    residence = SelectField(_l("Place of residence"), validate_choice=False)


class IncidentForm(PartForm):
    uuid = HiddenField()
    remove = BooleanField(_l("Remove this incident"))
    occurred_on = DateField(_l("Date"), validators=[Optional(), not_in_future])
    place = SelectField(_l("Place"), validate_choice=False)
    place_detail = StringField(_l("Exact place"), validators=[Length(max=500)])
    violation = SelectField(_l("Violation"), validate_choice=False)
    perpetrator_type = SelectField(_l("Perpetrator type"), validate_choice=False)
    perpetrator_identity = StringField(_l("Perpetrator identity"), validators=[Length(max=500)])
    narrative = TextAreaField(_l("What happened"), validators=[Length(max=20000)])
    legal_basis = MultiCheckboxField(_l("Legal basis invoked"), validate_choice=False)
    sources = TextAreaField(_l("Sources"), validators=[Length(max=2000)])
    source_reliability = SelectField(_l("Reliability of sources"),
                                     choices=_blank(RELIABILITY_LABELS), default="")

    def is_blank(self) -> bool:
        return not any([self.occurred_on.data, self.place.data, self.violation.data,
                        self.narrative.data, self.place_detail.data,
                        self.perpetrator_identity.data, self.sources.data])


class InterventionForm(PartForm):
    uuid = HiddenField()
    remove = BooleanField(_l("Remove this support"))
    kind = SelectField(_l("Support"), choices=_blank(KIND_LABELS), default="")
    status = SelectField(_l("Status"), choices=choices(INTERVENTION_STATUS_LABELS),
                         default="planned")
    started_on = DateField(_l("Started"), validators=[Optional(), not_in_future])
    ended_on = DateField(_l("Ended"), validators=[Optional(), not_in_future])
    notes = TextAreaField(_l("Notes"), validators=[Length(max=5000)])

    def is_blank(self) -> bool:
        return not self.kind.data

    def validate_ended_on(self, field) -> None:
        if field.data and self.started_on.data and field.data < self.started_on.data:
            raise ValidationError(_l("Support cannot end before it started."))


class CaseForm(FlaskForm):
    title = StringField(_l("Title"), filters=[stripped],
                        validators=[DataRequired(), Length(max=200)])
    summary = TextAreaField(_l("Summary"), validators=[Length(max=20000)])
    status = SelectField(_l("Status"), choices=choices(STATUS_LABELS))
    risk = SelectField(_l("Risk level"), choices=choices(RISK_LABELS), default="medium")
    restricted = BooleanField(
        _l("Restricted: only the assigned documenter, reviewers and administrators can open "
           "it"),
        description=_l("Its author, too, can no longer open it unless she is the assigned "
                       "documenter. Only the author, the assigned documenter, a reviewer or an "
                       "administrator can restrict a case or change who it is assigned to."))
    # Choices are the active documenters, reviewers and administrators (editing.prepare);
    # anything else is refused as "Not a valid choice".
    assigned_to = SelectField(_l("Assigned documenter"))
    defender = FormField(DefenderForm)
    incidents = FieldList(FormField(IncidentForm), min_entries=1, max_entries=50)
    interventions = FieldList(FormField(InterventionForm), min_entries=1, max_entries=50)
    submit = SubmitField(_l("Save the case"))


# Fields of cases.case written by no one on the form, and why (every other schema field is on
# CaseForm: core.declaration checks it for every record type).
NOT_ON_FORM = {
    "defender.uuid": "a case has one defender: her part id is made with her, never typed",
}


class TaskForm(FlaskForm):
    description = StringField(_l("Task"), filters=[stripped],
                              validators=[DataRequired(), Length(max=500)])
    due_on = DateField(_l("Due on"), validators=[Optional()])
    submit = SubmitField(_l("Add the task"))


class AttachmentForm(FlaskForm):
    file = FileField(_l("File"), validators=[FileRequired()])
    submit = SubmitField(_l("Upload"))


class FindForm(FlaskForm):
    # Posted with the CSRF token: a name never goes into an address (see views.find).
    name = StringField(_l("Name of the defender, or part of it"),
                       filters=[stripped], validators=[DataRequired(), Length(max=200)],
                       render_kw={"autocomplete": "off"})  # no browser keeps it to suggest
