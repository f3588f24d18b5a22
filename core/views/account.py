"""A user's own settings: password, language, second factor."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core import auth, recovery, users
from core.extensions import db
from core.forms import ChangePasswordForm, PreferencesForm, RecoveryCodesForm, choices
from core.i18n import NATIVE_NAMES

blueprint = Blueprint("account", __name__, url_prefix="/account")


@blueprint.route("/", methods=["GET", "POST"])
def settings():
    password_form = ChangePasswordForm(prefix="password")
    codes_form = RecoveryCodesForm(prefix="codes")
    preferences = PreferencesForm(prefix="prefs", locale=current_user.locale)
    preferences.locale.choices = choices(
        {code: NATIVE_NAMES.get(code, code) for code in current_app.config["LANGUAGES"]}
    )
    if password_form.submit.data and password_form.validate_on_submit():
        try:
            auth.change_password(
                current_user, password_form.current.data, password_form.password.data
            )
        except users.UserError as error:
            db.session.rollback()
            password_form.password.errors.append(str(error))
        else:
            db.session.commit()
            session.end()
            flash(_("Your password is changed. Every session was ended; sign in again."), "success")
            return redirect(url_for("auth.login"))
    elif codes_form.submit.data and codes_form.validate_on_submit():
        try:
            codes = auth.remake_recovery_codes(current_user, codes_form.password.data)
        except users.UserError as error:
            db.session.rollback()
            codes_form.password.errors.append(str(error))
        else:
            db.session.commit()
            return render_template("auth/recovery_codes.html", codes=codes, enrolled=False)
    elif preferences.submit.data and preferences.validate_on_submit():
        current_user.locale = preferences.locale.data
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("account.settings"))
    return render_template(
        "account/settings.html", password_form=password_form, preferences=preferences,
        codes_form=codes_form, codes_left=recovery.left(current_user.id),
        recovered=auth.signed_in_with_recovery_code(),
    )
