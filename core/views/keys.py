"""Unlocking and locking the node key, and reading the outbound ledger (admins)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core import audit, keystore, ledger, ledger_words, throttle
from core.access import require_permission
from core.db import row_id
from core.extensions import db
from core.forms import ConfirmForm, UnlockForm
from core.permissions import MANAGE_KEYS, READ_LEDGER

blueprint = Blueprint("keys", __name__, url_prefix="/admin")

UNLOCK_THROTTLE_KEY = "node-key"


@blueprint.route("/keys", methods=["GET", "POST"])
@require_permission(MANAGE_KEYS)
def keys_page():
    store = keystore.keystore()
    form = UnlockForm()
    if form.validate_on_submit():
        counted = throttle.count_attempt(throttle.account_key(UNLOCK_THROTTLE_KEY))
        if counted.refusal is not None:
            flash(_("Too many wrong passphrases. Try again in %(wait)s.",
                    wait=counted.refusal.wait_text()), "error")
        else:
            try:
                store.unlock(form.passphrase.data)
            except keystore.KeyStoreError as error:
                audit.record("keys.unlock_failed", actor=current_user)
                db.session.commit()
                flash(str(error), "error")
            else:
                throttle.forget(counted)
                audit.record("keys.unlocked", actor=current_user)
                db.session.commit()
                flash(_("The node is unlocked."), "success")
                return redirect(url_for("keys.keys_page"))
    return render_template("admin/keys.html", form=form, lock_form=ConfirmForm(),
                           unlocked=store.unlocked, has_keyring=store.path.exists())


@blueprint.route("/keys/lock", methods=["POST"])
@require_permission(MANAGE_KEYS)
def lock():
    if ConfirmForm().validate_on_submit():
        keystore.keystore().lock()
        audit.record("keys.locked", actor=current_user)
        db.session.commit()
        flash(_("The node is locked. Identifying data cannot be read until it is unlocked."),
              "success")
    return redirect(url_for("keys.keys_page"))


@blueprint.route("/ledger")
@require_permission(READ_LEDGER)
def ledger_page():
    before = request.args.get("before", type=row_id)
    entries = ledger.entries(before=before)
    return render_template("admin/ledger.html", rows=ledger_words.shown(entries),
                           older=entries[-1].id if len(entries) == 200 else None)
