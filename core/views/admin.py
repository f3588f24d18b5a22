"""Administration: users (invite, disable, enable, change role, reset second factor),
pending invitations, the audit log."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from core import audit, users
from core.access import require_permission
from core.db import MAX_ID, row_id
from core.extensions import db
from core.forms import ConfirmForm, InviteForm, RoleForm
from core.models import AuditEntry, Invite, User
from core.permissions import MANAGE_USERS, READ_AUDIT, ROLE_LABELS

blueprint = Blueprint("admin", __name__, url_prefix="/admin")

AUDIT_PAGE = 100
AUDIT_CHECKED = 10_000  # entries whose links each view of the audit page checks


@blueprint.route("/users", methods=["GET", "POST"])
@require_permission(MANAGE_USERS)
def users_page():
    form = InviteForm()
    link = None
    if form.validate_on_submit():
        try:
            token = users.invite(form.username.data, form.role.data, actor=current_user)
        except users.UserError as error:
            db.session.rollback()
            form.username.errors.append(str(error))
        else:
            db.session.commit()
            link = url_for("auth.accept_invite", token=token, _external=True)
    everyone = db.session.scalars(select(User).order_by(User.username)).all()
    return render_template(
        "admin/users.html", users=everyone, form=form, link=link, roles=ROLE_LABELS,
        action_form=ConfirmForm(), role_form=RoleForm(), invites=users.pending_invites(),
    )


@blueprint.route(f"/users/<int(min=1, max={MAX_ID}):user_id>/reset-second-factor")
@require_permission(MANAGE_USERS)
def confirm_reset(user_id: int):
    """The step before a reset: what it does, and to whom, before the button that does it."""
    user = db.session.get(User, user_id) or abort(404)
    if user.totp_secret is None:
        flash(_("This user has no second factor to reset."), "error")
        return redirect(url_for("admin.users_page"))
    return render_template("admin/reset_second_factor.html", user=user,
                           action_form=ConfirmForm())


@blueprint.route(f"/invites/<int(min=1, max={MAX_ID}):invite_id>/revoke", methods=["POST"])
@require_permission(MANAGE_USERS)
def revoke_invite(invite_id: int):
    entry = db.session.get(Invite, invite_id) or abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        users.revoke_invite(entry, actor=current_user)
    except users.UserError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("The invitation is revoked: its link no longer works."), "success")
    return redirect(url_for("admin.users_page"))


ACTIONS = {
    "disable": (users.disable, _l("This user is disabled and signed out everywhere.")),
    "enable": (users.enable, _l("This user can sign in again.")),
    "reset-second-factor": (
        users.reset_second_factor,
        _l("The second factor and its recovery codes are reset, and every session of hers "
           "has ended; she enrols a new one at her next sign-in."),
    ),
}


@blueprint.route(f"/users/<int(min=1, max={MAX_ID}):user_id>/<action>", methods=["POST"])
@require_permission(MANAGE_USERS)
def user_action(user_id: int, action: str):
    user = db.session.get(User, user_id) or abort(404)
    if action == "role":
        form = RoleForm()
        if not form.validate_on_submit():
            flash(_("Choose a role from the list."), "error")
            return redirect(url_for("admin.users_page"))
        change, done = (lambda u, actor: users.change_role(u, form.role.data, actor=actor),
                        _l("The role is changed; the user signs in again."))
    elif action in ACTIONS and ConfirmForm().validate_on_submit():
        change, done = ACTIONS[action]
    else:
        abort(400)
    try:
        change(user, actor=current_user)
    except users.UserError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(str(done), "success")
    return redirect(url_for("admin.users_page"))


@blueprint.route("/audit")
@require_permission(READ_AUDIT)
def audit_log():
    """The newest entries, a page at a time. Each view checks the newest AUDIT_CHECKED
    entries' links (a fraction of a second); ``?check=all`` checks the whole chain, as
    ``rabita audit verify`` does."""
    before = request.args.get("before", type=row_id)
    query = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(AUDIT_PAGE)
    if before:
        query = query.where(AuditEntry.seq < before)
    entries = db.session.scalars(query).all()
    total = audit.head_seq()
    whole = request.args.get("check") == "all" or total <= AUDIT_CHECKED
    since = 1 if whole else total - AUDIT_CHECKED + 1
    checked, broken = audit.verify(since=since)
    return render_template(
        "admin/audit.html", entries=entries, checked=checked, broken=broken, whole=whole,
        total=total, older=entries[-1].seq if len(entries) == AUDIT_PAGE else None,
        people=_names(entries),
    )


def _names(entries) -> dict[str, str]:
    """The usernames of the people an audit page names (as actor or target), by id."""
    ids = {e.actor_id for e in entries if e.actor_id} | {
        int(e.target_id) for e in entries
        if e.target_type == "user" and str(e.target_id).isascii() and str(e.target_id).isdigit()
        and int(e.target_id) <= MAX_ID}
    if not ids:
        return {}
    rows = db.session.execute(select(User.id, User.username).where(User.id.in_(ids)))
    return {str(user_id): username for user_id, username in rows}
