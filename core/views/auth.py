"""Sign-in pages: password, second factor, enrolment, invitations, sign-out."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from core import auth, throttle, totp, users
from core.access import public, signing_in
from core.auth import Outcome
from core.extensions import db
from core.forms import CodeForm, ConfirmForm, EnrolForm, LoginForm, NewPasswordForm

blueprint = Blueprint("auth", __name__)

@blueprint.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        attempt = auth.check_password(form.username.data, form.password.data,
                                      form.code.data or "")
        if attempt.outcome is Outcome.THROTTLED:
            return _not_now(attempt.refusal, form)
        return _after(attempt)
    return render_template("auth/login.html", form=form)


def _not_now(refusal: throttle.Refusal, form):
    """A sign-in refused for now: 429, when to come back (in words and in Retry-After), and
    the code field while her account or connection is held (password and code open it)."""
    flash(refusal.message(), "error")
    form.password.data = form.code.data = ""
    held = refusal.limit in (throttle.ACCOUNT, throttle.CLIENT)
    page = render_template("auth/login.html", form=form, held=held)
    return page, 429, {"Retry-After": str(refusal.seconds)}


@blueprint.route("/login/code", methods=["GET", "POST"])
@signing_in
def code():
    user = auth.pending_user()
    if user is None or session.get("pending_step") != Outcome.CODE_NEEDED.value:
        return _start_again()
    form = CodeForm()
    if form.validate_on_submit():
        return _after(auth.check_code(user, form.code.data))
    return render_template("auth/code.html", form=form)


@blueprint.route("/second-factor", methods=["GET", "POST"])
@signing_in
def enrol_second_factor():
    user = current_user if current_user.is_authenticated else auth.pending_user()
    if user is None:
        return _start_again()
    # A second factor is replaced only in a session that began with a recovery code (her
    # phone is lost); anyone else asks an administrator to reset it.
    replacing = bool(user.totp_secret) and auth.signed_in_with_recovery_code()
    if user.totp_secret and not replacing:
        flash(_("Your second factor is already on. An administrator can reset it."), "info")
        return redirect(url_for("home.index"))
    secret = totp.enrolling_secret(session)
    form = EnrolForm()
    if form.validate_on_submit():
        codes = auth.confirm_enrolment(user, secret, form.code.data)
        if codes is not None:
            session.pop(totp.ENROL_KEY, None)
            session.pop(auth.RECOVERED, None)
            return render_template("auth/recovery_codes.html", codes=codes, enrolled=True)
        form.code.errors.append(_("This code is not right. Check the clock of your phone."))
    uri = totp.provisioning_uri(secret, user.username, current_app.config["NODE_NAME"])
    return render_template(
        "auth/enrol.html", form=form, qr=totp.qr_svg(uri), secret=_grouped(secret),
        replacing=replacing,
    )


@blueprint.route("/logout", methods=["POST"])
@signing_in
def logout():
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    if current_user.is_authenticated:
        auth.sign_out(current_user)
    else:
        session.end()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@blueprint.route("/invite/<token>", methods=["GET", "POST"])
@public
def accept_invite(token: str):
    invite = users.open_invite(token)
    if invite is None:
        return render_template("auth/invite_invalid.html"), 404
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            users.accept_invite(invite, form.password.data)
        except users.UserError as error:
            db.session.rollback()
            form.password.errors.append(str(error))
        else:
            db.session.commit()
            flash(_("Welcome. Sign in with your new password."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/invite.html", form=form, invite=invite)


def _after(attempt: auth.Attempt):
    if attempt.outcome is Outcome.SIGNED_IN and attempt.codes_left is not None:
        return _after_recovery_code(attempt)
    if attempt.outcome is Outcome.SIGNED_IN:
        return redirect(url_for("home.index"))
    if attempt.outcome is Outcome.CODE_NEEDED:
        return redirect(url_for("auth.code"))
    if attempt.outcome is Outcome.ENROLMENT_NEEDED:
        return redirect(url_for("auth.enrol_second_factor"))
    if attempt.outcome is Outcome.THROTTLED:
        message = attempt.refusal.message()
    elif request.endpoint == "auth.code":
        # Her password was right (she is on the second step): say what was wrong, the code.
        message = _("This code is not right. Check the clock of your phone, or type one of "
                    "your recovery codes.")
    else:
        message = _("Wrong username or password.")
    flash(message, "error")
    return redirect(url_for("auth.code" if session.get("pending_user") else "auth.login"))


def _after_recovery_code(attempt: auth.Attempt):
    """Signed in with a recovery code: to her settings, where she may set up a new phone
    (this session only) and make new codes."""
    flash(ngettext("You signed in with a recovery code. %(num)d code is left.",
                   "You signed in with a recovery code. %(num)d codes are left.",
                   attempt.codes_left), "info")
    return redirect(url_for("account.settings"))


def _start_again():
    session.pop("pending_user", None)
    flash(_("Please sign in again."), "info")
    return redirect(url_for("auth.login"))


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
