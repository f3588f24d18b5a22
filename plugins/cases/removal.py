"""Deleting a case, and merging a duplicate into the case it repeats.

A deleted case is gone from this node — its rows, sealed values, drafts, search document and
counts — with its reason in the audit log. If it was shared, its consent is withdrawn first,
so every holder receives a signed tombstone and deletes its copy (as after any withdrawal);
its receipts keep arriving in the outbound ledger. Deleting a case that was approved to
leave needs the unlocked node (the tombstone must be signed), as withdrawing does.

Merging moves what the duplicate says — its incidents, support and tasks, its files — into
the case it repeats (each value sealed again under that case's own key: a sealed value is
bound to its record), then deletes the duplicate as above, its reason "duplicate" and the
case it went into named in the audit log.
"""

from __future__ import annotations

from collections import Counter

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, text, update

from core import audit, consent, erasure, records
from core.extensions import db
from core.models import Approval

from . import editing, store
from .drafts import Draft
from .forms import CaseForm
from .models import Attachment, Case, Task
from .schemas import IncidentSchema, InterventionSchema

REASONS = {
    "duplicate": _l("It repeats another case"),
    "recorded-in-error": _l("It was recorded in error"),
    "defender-request": _l("She asked for it to be deleted"),
    "other": _l("Another reason"),
}
# The consent's withdrawal reason (core.consent) for each reason to delete.
WITHDRAWAL = {"defender-request": "defender-request", "recorded-in-error": "recorded-in-error",
              "duplicate": "recorded-in-error", "other": "other"}


class Refused(ValueError):
    pass


def may_delete(case: Case, user) -> bool:
    """Its author, its assigned documenter, reviewers and administrators."""
    return editing.may_change_access(case, user)


def delete_case(case: Case, user, reason: str, *, merged_into: Case | None = None) -> None:
    """Delete ``case`` (commits); withdraws its consent first if it has one."""
    if reason not in REASONS:
        raise Refused(_l("Choose a reason from the list."))
    if not may_delete(case, user):
        raise Refused(_l("Only the case's author, its assigned documenter, a reviewer or an "
                         "administrator can delete it."))
    given = consent.current(case)
    if given is not None:
        try:
            consent.withdraw(given, reason=WITHDRAWAL[reason], user=user)  # tombstones
        except consent.ConsentError as error:
            db.session.rollback()
            raise Refused(str(error)) from None
    uuid = case.uuid
    store.retally(store.tally_key(case, committed=True), None)
    store.retally_facets(store.facet_tally_keys(case), Counter())
    if db.engine.dialect.name == "sqlite":  # the FTS table has no foreign key
        db.session.execute(text("DELETE FROM cases_search WHERE rowid = :id"), {"id": case.id})
    db.session.execute(delete(Draft).where(Draft.case_uuid == uuid))
    db.session.execute(update(Approval).where(  # sealed under the key that goes with it
        Approval.record_type == case.__record_type__, Approval.record_uuid == uuid)
        .values(payload=None))
    db.session.delete(case)
    audit.record("cases.deleted", actor=user, target_type=case.__record_type__, target_id=uuid,
                 reason=reason, merged_into=merged_into.uuid if merged_into else None)
    erasure.purging()
    db.session.commit()


def merge(duplicate: Case, into: Case, user) -> None:
    """Move what ``duplicate`` says into ``into``, then delete it (commits)."""
    if duplicate.id == into.id:
        raise Refused(_l("A case cannot be merged into itself."))
    if not (may_delete(duplicate, user) and store.may_open(into, user)):
        raise Refused(_l("Only the case's author, its assigned documenter, a reviewer or an "
                         "administrator can merge it."))
    form = editing.prepare(CaseForm(formdata=None), into)
    editing.fill(form, into, records.values(into, identifying=True))
    said = records.values(duplicate, identifying=True)
    _add_parts(form.incidents, duplicate.incidents, said.get("incidents") or [], IncidentSchema)
    _add_parts(form.interventions, duplicate.interventions, said.get("interventions") or [],
               InterventionSchema)
    editing.apply(into, form)
    for task in duplicate.tasks:
        moved = Task(due_on=task.due_on, done_at=task.done_at,
                     assigned_to_id=task.assigned_to_id, created_at=task.created_at)
        into.tasks.append(moved)
        records.set_identifying(into, moved, "description",
                                records.identifying_value(duplicate, task, "description"))
    for attachment in duplicate.attachments:
        moved = Attachment(content_type=attachment.content_type, size=attachment.size,
                           uploaded_at=attachment.uploaded_at,
                           uploaded_by=attachment.uploaded_by)
        into.attachments.append(moved)
        records.set_identifying(into, moved, "filename",
                                records.identifying_value(duplicate, attachment, "filename"))
        records.set_identifying_bytes(into, moved, "content", records.identifying_bytes(
            duplicate, attachment, "content"))
    store.save(into, user)
    audit.record("cases.merged", actor=user, target_type=into.__record_type__,
                 target_id=into.uuid, duplicate=duplicate.uuid)
    delete_case(duplicate, user, "duplicate", merged_into=into)


def _add_parts(field_list, rows, revealed: list, schema) -> None:
    """Append the duplicate's parts to the form's list, as new rows of the other case."""
    while field_list.entries and field_list.entries[-1].form.is_blank():
        field_list.pop_entry()  # the empty row fill offers to add one
    by_uuid = {item.get("uuid"): item for item in revealed}
    for row in rows:
        entry = field_list.append_entry()
        editing._fill_part(entry.form, row, by_uuid.get(row.uuid, {}), schema)
        entry.form.uuid.data = ""  # a new part of the case it joins
