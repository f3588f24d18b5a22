"""Pages every record type shares: consent, and review of what would leave the node."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core import approvals, audit, consent, evidence, keystore, readable, records, review
from core.access import require_permission
from core.db import MAX_ID
from core.extensions import db
from core.forms import AUDIENCE_LABELS, ConfirmForm, ConsentForm, EvidenceForm, WithdrawForm
from core.models import Consent, ConsentEvidence
from core.permissions import MANAGE_CONSENT, REVIEW_RECORDS, VIEW_IDENTIFYING
from core.redaction import AUDIENCES

blueprint = Blueprint("records", __name__, url_prefix="/records")


@blueprint.route("/<record_type>/<record_uuid>/consent", methods=["GET", "POST"])
@require_permission(MANAGE_CONSENT)
def consent_page(record_type: str, record_uuid: str):
    record = records.find(record_type, record_uuid, current_user)
    form = ConsentForm()
    if form.validate_on_submit():
        try:
            consent.record(
                record, user=current_user, given_by=form.given_by.data, method=form.method.data,
                representative=form.representative.data or None,
                audiences=form.audiences.data, purposes=form.purposes.data,
                obtained_on=form.obtained_on.data, expires_on=form.expires_on.data,
            )
        except consent.ConsentError as error:
            db.session.rollback()
            for name, message in error.fields.items():  # each next to its field
                form[name].errors = [*form[name].errors, message]
            if not error.fields:
                form.form_errors.append(str(error))
        else:
            flash(_("Consent recorded."), "success")
            return redirect(url_for("records.consent_page", record_type=record_type,
                                    record_uuid=record_uuid))
    elif form.is_submitted():
        _all_problems(form)
    return render_template(
        "records/consent.html", record=record, record_type=records.type_of(record),
        form=form, withdraw_form=WithdrawForm(), history=consent.history(record),
        current=consent.current(record), audience_labels=AUDIENCE_LABELS,
        evidence_form=EvidenceForm(), evidence=_evidence(record, consent.current(record)),
    )


def _evidence(record, current: Consent | None) -> list[dict]:
    """The current consent's evidence; a note's text only to someone who may see identifying
    values, on an unlocked node (audited once for the page)."""
    if current is None:
        return []
    kept = evidence.of(current)
    readable_notes = current_user.can(VIEW_IDENTIFYING) and keystore.keystore().unlocked
    shown = [{"row": e, "note": evidence.note_text(record, e)
              if e.kind == "note" and readable_notes else None} for e in kept]
    if readable_notes and any(e.kind == "note" for e in kept):
        audit.record("record.identifying_viewed", actor=current_user,
                     target_type=record.__record_type__, target_id=record.uuid,
                     purpose="consent-evidence")
        db.session.commit()
    return shown


@blueprint.route("/<record_type>/<record_uuid>/consent/"
                 f"<int(min=1, max={MAX_ID}):consent_id>/evidence", methods=["POST"])
@require_permission(MANAGE_CONSENT)
def add_evidence(record_type: str, record_uuid: str, consent_id: int):
    record = records.find(record_type, record_uuid, current_user)
    entry = _consent_of(record, record_type, consent_id)
    form = EvidenceForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        if form.scan.data:
            evidence.add_scan(record, entry, form.scan.data, current_user)
        else:
            evidence.add_note(record, entry, form.note.data, current_user)
    except evidence.Refused as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        flash(_("Kept with the consent, sealed. It never leaves this node."), "success")
    return redirect(url_for("records.consent_page", record_type=record_type,
                            record_uuid=record_uuid))


@blueprint.route("/<record_type>/<record_uuid>/consent/"
                 f"<int(min=1, max={MAX_ID}):consent_id>/evidence/"
                 f"<int(min=1, max={MAX_ID}):evidence_id>")
@require_permission(MANAGE_CONSENT)
def evidence_file(record_type: str, record_uuid: str, consent_id: int, evidence_id: int):
    record = records.find(record_type, record_uuid, current_user)
    entry = _consent_of(record, record_type, consent_id)
    if not current_user.can(VIEW_IDENTIFYING) or not keystore.keystore().unlocked:
        abort(403)
    row = db.session.get(ConsentEvidence, evidence_id)
    if row is None or row.consent_id != entry.id:
        abort(404)
    return evidence.download(record, row, current_user)


def _consent_of(record, record_type: str, consent_id: int) -> Consent:
    entry = db.session.get(Consent, consent_id)
    if entry is None or (entry.record_type, entry.record_uuid) != (record_type, record.uuid):
        abort(404)
    return entry


def _all_problems(form: ConsentForm) -> None:
    """The form's own checks failed: add consent's, so she reads every problem at once,
    each next to its field (a field keeps the form's message when it has one)."""
    found = consent.problems(
        form.given_by.data, form.method.data, form.representative.data or None,
        form.audiences.data or [], form.purposes.data or [], form.obtained_on.data,
        form.expires_on.data)
    for name, message in found.items():
        if not form[name].errors:
            form[name].errors = [*form[name].errors, message]


@blueprint.route("/<record_type>/<record_uuid>/consent/"
                 f"<int(min=1, max={MAX_ID}):consent_id>/withdraw", methods=["POST"])
@require_permission(MANAGE_CONSENT)
def withdraw(record_type: str, record_uuid: str, consent_id: int):
    record = records.find(record_type, record_uuid, current_user)
    entry = db.session.get(Consent, consent_id)
    if entry is None or (entry.record_type, entry.record_uuid) != (record_type, record.uuid):
        abort(404)
    form = WithdrawForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        consent.withdraw(entry, reason=form.reason.data, user=current_user)
    except consent.ConsentError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        flash(_("Consent withdrawn. The record will not be shared, and copies already "
                "shared will be deleted by their holders."), "success")
    return redirect(url_for("records.consent_page", record_type=record_type,
                            record_uuid=record_uuid))


@blueprint.route("/<record_type>/<record_uuid>/review")
@require_permission(REVIEW_RECORDS)
def review_page(record_type: str, record_uuid: str):
    record = records.find(record_type, record_uuid, current_user)
    original = records.reveal(record, current_user, purpose="review")
    db.session.commit()  # the audit entry of the reveal
    audiences = []
    for audience in AUDIENCES:
        prepared = records.redaction(record, audience)
        audiences.append({
            "code": audience,
            "label": AUDIENCE_LABELS[audience],
            "consent": consent.allows(record, audience),
            "redaction": prepared,
            "approval": approvals.current_approval(record, audience),
            "shareable": review.shareable(record, audience),
            "not_approver": review.why_not_approver(record, audience, current_user),
            "changed": review.changed_since_approval(record, audience, prepared.payload),
        })
    return render_template(
        "records/review.html", record=record, record_type=records.type_of(record),
        original=original, audiences=audiences, schema=records.schema_of(records.type_of(record)),
        comparison=readable.for_review(original, records.schema_of(records.type_of(record)),
                                       audiences),
        audience_labels=AUDIENCE_LABELS, confirm_form=ConfirmForm(),
        review_required=records.review_required(records.type_of(record)),
    )


@blueprint.route("/<record_type>/<record_uuid>/review/<audience>", methods=["POST"])
@require_permission(REVIEW_RECORDS)
def approve(record_type: str, record_uuid: str, audience: str):
    record = records.find(record_type, record_uuid, current_user)
    if audience not in AUDIENCES:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        review.approve(record, audience, current_user)
    except review.ReviewError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        flash(_("Approved: this exact payload may now leave for this audience."), "success")
    return redirect(url_for("records.review_page", record_type=record_type,
                            record_uuid=record_uuid))
