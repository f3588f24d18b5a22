"""The case pages of the workflow: drafts kept as she types, the review queue, sending a case
back, what the hub would see, undoing a finished task. Routes of the cases blueprint
(``views.blueprint``); the case form's own views use ``form_for`` and ``drafting``."""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core import audit, consent, kept, keystore, readable, records
from core.access import require_permission
from core.extensions import db
from core.forms import AUDIENCE_LABELS, ConfirmForm
from core.i18n import language
from core.permissions import REVIEW_RECORDS
from core.redaction import AUDIENCES

from . import drafts, flow, removal, store, workflow
from .models import Case
from .permissions import EDIT, VIEW
from .views import blueprint


@blueprint.record_once
def _keep_interrupted_forms(state) -> None:
    for endpoint in ("cases.new", "cases.edit"):
        kept.register(state.app, endpoint, drafts.keep_interrupted)


@blueprint.route("/drafts", methods=["POST"])
@require_permission(EDIT)
def autosave():
    """Saved every few seconds while she types (core/static/drafts.js): the form as it is."""
    case_uuid = request.form.get("case") or None
    if case_uuid is not None:
        store.get(case_uuid, current_user)  # 404 unless she may open it
    if not keystore.keystore().unlocked:
        return jsonify({"saved": False, "why": "locked"}), 503
    try:
        draft = drafts.keep(current_user.id, case_uuid, request.form, request.form.get("draft"))
    except drafts.TooLarge:
        return jsonify({"saved": False, "why": "too-large"}), 413
    db.session.commit()
    return jsonify({"saved": True, "draft": draft.uuid,
                    "at": draft.updated_at.strftime("%H:%M:%S")})


# -- review ---------------------------------------------------------------------------------


@blueprint.route("/review-queue")
@require_permission(REVIEW_RECORDS)
def review_queue():
    waiting = workflow.queue(current_user)
    return render_template("cases/review_queue.html", waiting=waiting,
                           audience_labels=AUDIENCE_LABELS)


@blueprint.route("/<uuid>/send-back", methods=["POST"])
@require_permission(REVIEW_RECORDS)
def send_back(uuid: str):
    case = store.get(uuid, current_user)
    form = flow.SendBackForm()
    if not form.validate_on_submit():
        flash(_("Write what the documenter should change."), "error")
        return redirect(url_for("cases.detail", uuid=uuid, _anchor="workflow"))
    try:
        workflow.send_back(case, current_user, form.note.data)
    except workflow.NoteRefused as refused:
        db.session.rollback()
        flash(str(refused), "error")
    else:
        db.session.commit()
        flash(_("Sent back: the documenter sees your note on the case."), "success")
    return redirect(url_for("cases.detail", uuid=uuid, _anchor="workflow"))


@blueprint.route("/<uuid>/outgoing")
@require_permission(VIEW)
def outgoing(uuid: str):
    """What would leave for each audience its consent names, read-only: the same redaction
    the outbox and the review use (no identifying value is in it)."""
    case = store.get(uuid, current_user)
    if not keystore.keystore().unlocked:
        raise keystore.NodeLocked()
    schema = records.schema_of(records.type_of(case))
    shown = []
    for audience in AUDIENCES:
        if consent.allows(case, audience) is None:
            continue
        prepared = records.redaction(case, audience)
        shown.append({"label": AUDIENCE_LABELS[audience], "blocked": prepared.blocked,
                      "fields": readable.in_words(prepared.payload, schema, language())})
    return render_template("cases/outgoing.html", case=case, shown=shown)


# -- tasks ----------------------------------------------------------------------------------


@blueprint.route("/<uuid>/tasks/<task_uuid>/undo", methods=["POST"])
@require_permission(EDIT)
def undo_task(uuid: str, task_uuid: str):
    case = store.get(uuid, current_user)
    task = next((t for t in case.tasks if t.uuid == task_uuid), None)
    if task is None or not ConfirmForm().validate_on_submit():
        abort(404 if task is None else 400)
    task.done_at = None
    audit.record("cases.task_reopened", actor=current_user, target_type="cases.case",
                 target_id=case.uuid)
    db.session.commit()
    flash(_("The task is open again."), "success")
    return redirect(url_for("cases.detail", uuid=uuid, _anchor="tasks"))


# -- deleting and merging -------------------------------------------------------------------


@blueprint.route("/<uuid>/delete", methods=["GET", "POST"])
@require_permission(EDIT)
def delete(uuid: str):
    case = store.get(uuid, current_user)
    if not removal.may_delete(case, current_user):
        abort(403)
    form, merge_form = flow.DeleteForm(prefix="delete"), flow.MergeForm(prefix="merge")
    if form.submit.data and form.validate_on_submit():
        try:
            removal.delete_case(case, current_user, form.reason.data)
        except removal.Refused as refused:
            form.reason.errors.append(str(refused))
        else:
            flash(_("The case is deleted. If it was shared, its holders are asked to delete "
                    "their copies."), "success")
            return redirect(url_for("cases.index"))
    elif merge_form.submit.data and merge_form.validate_on_submit():
        row = store.by_reference(merge_form.reference.data, current_user)
        into = db.session.get(Case, row.id) if row is not None else None
        if into is None:
            merge_form.reference.errors.append(_("No case you may open has this reference."))
        else:
            try:
                removal.merge(case, into, current_user)
            except removal.Refused as refused:
                db.session.rollback()
                merge_form.reference.errors.append(str(refused))
            else:
                flash(_("Merged: everything it said is now in this case."), "success")
                return redirect(url_for("cases.detail", uuid=into.uuid))
    return render_template("cases/delete.html", case=case, form=form, merge_form=merge_form,
                           shared=bool(workflow.holders(case))), \
        (400 if request.method == "POST" else 200)
