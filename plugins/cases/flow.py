"""The case pages' side of drafts and review: the case form filled from her draft and its
other buttons (save draft, one more incident or support), the forms of the workflow, and what
the case page shows of it. Used by the case views (``views``) and the workflow's own routes
(``workflow_views``); it registers no route."""

from __future__ import annotations

from flask import flash, redirect, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length

from core import keystore
from core.extensions import db
from core.forms import choices

from . import drafts, editing, removal, workflow
from .forms import CaseForm
from .permissions import EDIT


class SendBackForm(FlaskForm):
    note = TextAreaField(_l("What should the documenter change?"),
                         validators=[InputRequired(), Length(max=workflow.MAX_NOTE)])
    submit = SubmitField(_l("Send back to the documenter"))


class DeleteForm(FlaskForm):
    reason = SelectField(_l("Why delete it?"), choices=choices(removal.REASONS))
    submit = SubmitField(_l("Delete the case"))


class MergeForm(FlaskForm):
    reference = StringField(_l("Reference of the case it repeats (C-…)"),
                            validators=[InputRequired(), Length(max=40)])
    submit = SubmitField(_l("Merge into that case"))


# -- the case form ---------------------------------------------------------------------------


def form_for(case=None) -> tuple[CaseForm | None, str | None]:
    """On a GET with ``?draft=``: the form filled with her draft, and its id (None, None
    when there is no such draft of hers). Otherwise (None, the posted draft id)."""
    if request.method == "POST":
        return None, request.form.get("draft") or None
    draft = drafts.opened(request.args.get("draft"), current_user)
    if draft is None or draft.case_uuid != (case.uuid if case is not None else None):
        if request.args.get("draft"):
            flash(_("That draft is not there any more."), "error")
        return None, None
    form = CaseForm(formdata=drafts.form_data(draft))
    flash(_("Your draft is shown as you left it: check it and save the case."), "info")
    return form, draft.uuid


def drafting(form: CaseForm, case=None):
    """The form's other buttons: "Save draft" keeps it; "Add an incident" and "Add support"
    keep it and give the form one more empty row. Returns (response or None, draft id)."""
    pressed = next((name for name in ("save_draft", "add_incident", "add_intervention")
                    if name in request.form), None)
    if pressed is None or not form.is_submitted():
        return None, request.form.get("draft") or None
    if not keystore.keystore().unlocked:
        return None, request.form.get("draft") or None  # the view says it cannot be kept
    draft = drafts.keep(current_user.id, case.uuid if case is not None else None,
                        request.form, request.form.get("draft"))
    db.session.commit()
    if pressed == "save_draft":
        flash(_("Draft saved. Only you can see it."), "success")
        return redirect(drafts.where(draft)), draft.uuid
    getattr(form, "incidents" if pressed == "add_incident" else "interventions").append_entry()
    editing.prepare(form, case)  # the new row's choices
    return False, draft.uuid  # False: show the form again, not validated


def saved(draft_uuid: str | None) -> None:
    """The case is saved: her draft of it goes (in the save's transaction, before commit)."""
    drafts.discard(draft_uuid, current_user)


def detail_context(case) -> dict:
    """What the case page shows of the workflow."""
    state = workflow.state(case)
    note_text = workflow.note_text(case, state.note) if state.note is not None else None
    holders = workflow.holders(case)
    return {
        "workflow_state": state, "review_note": note_text,
        "review_note_by": workflow.name_of(state.note.by_id) if state.note else None,
        "holders": holders, "deleted_count": sum(1 for h in holders if h.deleted_at),
        "send_back_form": SendBackForm(),
        "may_delete": removal.may_delete(case, current_user),
        "my_drafts": drafts.of(current_user, case.uuid) if current_user.can(EDIT) else [],
    }
