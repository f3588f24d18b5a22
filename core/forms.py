"""Core's forms. Every one carries a CSRF token (Flask-WTF) and says what is wrong in words."""

from __future__ import annotations

from functools import lru_cache

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from flask_wtf.i18n import translations as wtforms_translations
from markupsafe import Markup, escape
from wtforms import (
    DateField,
    Form,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import EqualTo, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from core.passwords import MAX_LENGTH
from core.permissions import ROLE_LABELS, ROLES
from core.recovery import MAX_TYPED as RECOVERY_CODE_MAX_TYPED


class MultiCheckboxField(SelectMultipleField):
    """Several choices as checkboxes: works without JavaScript."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class PartForm(Form):
    """A part of a form (in a FormField or FieldList): WTForms' own messages ("This field is
    required.") in her language, as FlaskForm gives its own fields."""

    class Meta:
        def get_translations(self, form):
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return wtforms_translations


def stripped(value):
    """A text field's filter: spaces around what she typed go, so a title of spaces is empty
    (and a required field refuses it: DataRequired, not InputRequired, after this)."""
    return value.strip() if isinstance(value, str) else value


def choices(labels: dict) -> list[SelectChoice]:
    """Options from a {value: label} mapping, in its order."""
    return [SelectChoice(value, label) for value, label in labels.items()]


def _role_choices():
    return choices({role: ROLE_LABELS[role] for role in ROLES})


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[InputRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[InputRequired()])
    # Shown only while her account is held after failures (core/auth.py): with it, she
    # signs in all the same.
    code = StringField(
        _l("Six-digit code from your authenticator"),
        validators=[Optional(), Length(max=RECOVERY_CODE_MAX_TYPED)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
    submit = SubmitField(_l("Sign in"))


class CodeForm(FlaskForm):
    code = StringField(
        _l("Six-digit code"),
        validators=[InputRequired(), Length(max=RECOVERY_CODE_MAX_TYPED)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
    submit = SubmitField(_l("Continue"))


class EnrolForm(CodeForm):
    submit = SubmitField(_l("Turn on the second factor"))


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"), validators=[InputRequired(), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[InputRequired(), EqualTo("password", message=_l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Save password"))


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField(
        _l("Current password"), validators=[InputRequired()],
        render_kw={"autocomplete": "current-password"},
    )


class RecoveryCodesForm(FlaskForm):
    password = PasswordField(
        _l("Your password"), validators=[InputRequired()],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Make new recovery codes"))


class InviteForm(FlaskForm):
    username = StringField(_l("Username"), validators=[InputRequired(), Length(max=64)])
    role = SelectField(
        _l("Role"), choices=_role_choices, default="member", validators=[InputRequired()]
    )
    submit = SubmitField(_l("Create invitation link"))


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=_role_choices, validators=[InputRequired()])
    submit = SubmitField(_l("Change role"))


class ConfirmForm(FlaskForm):
    """A button that changes something: only the CSRF token travels with it."""

    submit = SubmitField(_l("Confirm"))


class LanguageForm(FlaskForm):
    language = HiddenField()
    next = HiddenField()


class PreferencesForm(FlaskForm):
    locale = SelectField(_l("Language"))
    submit = SubmitField(_l("Save"))


# -- records: consent, review, keys ---------------------------------------------------------

GIVER_LABELS = {
    "defender": _l("The defender herself"),
    "representative": _l("Someone on her behalf"),
}
METHOD_LABELS = {
    "written": _l("In writing (signed form)"),
    "oral": _l("Orally, in person"),
    "message": _l("By message"),
    "recorded": _l("Recorded (audio or video)"),
}
REPRESENTATIVE_LABELS = {
    "family": _l("A family member"),
    "lawyer": _l("Her lawyer"),
    "colleague": _l("A colleague"),
    "organisation": _l("Her organisation"),
    "other": _l("Someone else"),
}
AUDIENCE_LABELS = {
    "peers": _l("Partner nodes of the coalition"),
    "hub": _l("The regional hub"),
    "public-aggregate": _l("Public statistics (counts only)"),
}
PURPOSE_LABELS = {
    "advocacy": _l("Advocacy"),
    "urgent-appeal": _l("Urgent appeals"),
    "statistics": _l("Statistics"),
    "referral": _l("Referral for support"),
}
WITHDRAWAL_LABELS = {
    "defender-request": _l("She asked to withdraw it"),
    "safety": _l("Her safety requires it"),
    "recorded-in-error": _l("It was recorded in error"),
    "other": _l("Another reason"),
}


class ConsentForm(FlaskForm):
    given_by = SelectField(_l("Who gave consent"), choices=choices(GIVER_LABELS))
    representative = SelectField(
        _l("If someone on her behalf: who"),
        choices=choices({"": "—", **REPRESENTATIVE_LABELS}), validate_choice=False,
    )
    method = SelectField(_l("How it was given"), choices=choices(METHOD_LABELS))
    audiences = MultiCheckboxField(_l("Who may receive the record"),
                                   choices=choices(AUDIENCE_LABELS))
    purposes = MultiCheckboxField(_l("For what purposes"), choices=choices(PURPOSE_LABELS))
    obtained_on = DateField(_l("Date consent was obtained"), validators=[InputRequired()])
    expires_on = DateField(_l("Expires on (optional)"), validators=[Optional()])
    submit = SubmitField(_l("Record consent"))


class EvidenceForm(FlaskForm):
    scan = FileField(_l("The signed consent form, scanned (PDF, JPEG or PNG)"))
    note = TextAreaField(_l("Or a note of the oral consent: who gave it, when, what she was told"),
                         validators=[Length(max=5000)])
    submit = SubmitField(_l("Keep it with the consent"))


class WithdrawForm(FlaskForm):
    reason = SelectField(_l("Reason"), choices=choices(WITHDRAWAL_LABELS))
    submit = SubmitField(_l("Withdraw consent"))


class UnlockForm(FlaskForm):
    passphrase = PasswordField(
        _l("Node passphrase"), validators=[InputRequired(), Length(max=1024)]
    )
    submit = SubmitField(_l("Unlock"))


def option_tags(choices: tuple[tuple[str, str], ...], selected: str | None) -> Markup:
    """The ``<option>`` tags of a ``<select>`` of (value, label) ``choices``, the one whose
    value is ``selected`` marked. Escaped once per tuple of choices and kept: a list's filter
    form shows dozens of options on every page, and Jinja escaping each costs more than the
    rest of the form."""
    return Markup("".join(on if value == selected else off  # noqa: S704 - escaped below
                          for value, off, on in _escaped_options(choices)))


@lru_cache(maxsize=64)
def _escaped_options(choices: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str, str], ...]:
    tags = []
    for value, label in choices:
        shown, named = escape(value), escape(label)
        tags.append((value, f'<option value="{shown}">{named}</option>',
                     f'<option value="{shown}" selected>{named}</option>'))
    return tuple(tags)
