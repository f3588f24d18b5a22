"""Core's forms. Every one carries a CSRF token (Flask-WTF) and says what is wrong in words."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import EqualTo, InputRequired, Length

from core.passwords import MAX_LENGTH
from core.permissions import ROLE_LABELS, ROLES


def _role_choices():
    return [(role, ROLE_LABELS[role]) for role in ROLES]


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[InputRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[InputRequired()])
    submit = SubmitField(_l("Sign in"))


class CodeForm(FlaskForm):
    code = StringField(
        _l("Six-digit code"),
        validators=[InputRequired(), Length(max=16)],
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
