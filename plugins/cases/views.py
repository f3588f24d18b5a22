"""The cases pages: list with filters, detail, create and edit, tasks, attachments, export,
and finding a defender by her exact name."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from core import audit, clock, consent, keystore, records, review
from core.access import require_permission
from core.db import commit_keeping_loaded, page_number
from core.extensions import db
from core.forms import ConfirmForm, option_tags
from core.i18n import language
from core.permissions import VIEW_IDENTIFYING
from core.places import GOVERNORATE, gazetteer
from core.read_only import reads_only
from core.redaction import AUDIENCES, sharing_of
from core.redaction import _nested_schema as nested_schema
from core.vocabularies import vocabulary

from . import attachments, duplicates, editing, exports, flow, names, store, terms
from .forms import (
    GENDER_LABELS,
    INTERVENTION_STATUS_LABELS,
    KIND_LABELS,
    RELIABILITY_LABELS,
    RISK_LABELS,
    STATUS_LABELS,
    AttachmentForm,
    CaseForm,
    FindForm,
    TaskForm,
)
from .models import RISKS, STATUSES, Case, Task
from .permissions import EDIT, EXPORT, VIEW
from .schemas import CaseSchema

blueprint = Blueprint("cases", __name__, url_prefix="/cases", template_folder="templates")
LABELS = {
    "status": STATUS_LABELS, "risk": RISK_LABELS, "gender": GENDER_LABELS, "kind": KIND_LABELS,
    "intervention_status": INTERVENTION_STATUS_LABELS, "reliability": RELIABILITY_LABELS,
}


@blueprint.context_processor
def _helpers() -> dict:
    return {"labels": _labels(), "term": terms.label, "terms": terms, "sharing": sharing,
            "place_name": place_name, "option_tags": option_tags}


_LABELS_BY_LOCALE: dict[str, dict[str, dict[str, str]]] = {}


def _labels() -> dict[str, dict[str, str]]:
    """The code labels in the page's language, as plain strings: translated once per
    language and process, not each time a template shows one."""
    locale = language()
    found = _LABELS_BY_LOCALE.get(locale)
    if found is None:
        found = _LABELS_BY_LOCALE[locale] = {
            group: {code: str(label) for code, label in labels.items()}
            for group, labels in LABELS.items()
        }
    return found


@lru_cache(maxsize=128)
def sharing(path: str) -> str:
    """The sharing class of a dotted field path of the case record, for the form's marks."""
    schema = CaseSchema()
    *parents, name = path.split(".")
    for parent in parents:
        schema = nested_schema(schema.fields[parent])
    return sharing_of(schema.fields[name])


def place_name(code: str | None) -> str:
    place = gazetteer().get(code) if code else None
    return place.name(language()) if place else (code or "")


@blueprint.route("/", methods=["GET", "POST"])
@reads_only
@require_permission(VIEW)
def index():
    """The list. Words to look for come only in a POST body (with the CSRF token), never in
    the address: a page of a search is asked for by posting the words again (see list.html);
    the other filters, the sort and the page may sit in the address."""
    asked = _asked()
    filters = _filters(asked)
    exact = store.by_reference(asked.get("q", ""), current_user) if filters.words else None
    if exact is not None:
        page = store.Page([exact], 1, 1)
    else:
        page = store.listing(current_user, filters, asked.get("sort", "updated"),
                             asked.get("page", 1, type=page_number),
                             after=store.Cursor.parse(asked.get("after")),
                             before=store.Cursor.parse(asked.get("before")))
    return render_template(
        "cases/list.html", page=page, rows=_shown_rows(page.cases), filters=filters,
        args=asked, args_without_position={
            key: value for key, value in asked.items()
            if key not in ("page", "after", "before") and value},
        statuses=STATUSES, risks=RISKS, violations=_violation_options(language()),
        governorates=_governorate_options(language()),
        sort=asked.get("sort", "updated"),
    )


def _asked() -> MultiDict:
    """What the list was asked for: the posted form, or the address without any words (an
    old link's ``q`` is ignored, so words never come from an address)."""
    if request.method == "POST":
        return MultiDict((key, value) for key, value in request.form.items(multi=True)
                         if key != "csrf_token")
    return MultiDict((key, value) for key, value in request.args.items(multi=True)
                     if key != "q")


@blueprint.route("/new", methods=["GET", "POST"])
@require_permission(EDIT)
def new():
    if request.method == "POST" and not keystore.keystore().unlocked:
        return _locked_form(CaseForm(), None)  # what she typed stays on her screen
    keystore.keystore().keyring()  # a locked node cannot seal: say so before the form
    restored, draft = flow.form_for(None)
    form = editing.prepare(restored or CaseForm())
    answer, draft = flow.drafting(form, None)
    if answer:
        return answer
    if answer is None and form.validate_on_submit() and editing.check(form, None, current_user):
        case = records.new(Case, current_user)
        editing.apply(case, form)
        flow.saved(draft)
        store.save(case, current_user, action="record.created")
        flash(_("The case is saved."), "success")
        duplicates.warn(case, form.defender.form.real_name.data, current_user)
        names.index(case.defender, form.defender.form.real_name.data)
        db.session.commit()  # the name's words, the search's audit entry
        return redirect(url_for("cases.detail", uuid=case.uuid))
    return render_template("cases/form.html", form=form, case=None, draft=draft,
                           unvalidated=answer is False or restored is not None)


def _locked_form(form: CaseForm, case: Case | None):
    """A case form sent while the node is locked: shown again as she sent it, with why it
    could not be saved (the banner names who can unlock); nothing is lost or stored."""
    editing.prepare(form, case)
    return render_template("cases/form.html", form=form, case=case, locked_form=True,
                           draft=request.form.get("draft"), unvalidated=True), 503


@blueprint.route("/<uuid>")
@require_permission(VIEW)
def detail(uuid: str):
    case = store.get(uuid, current_user, whole=True)
    revealed = None
    if current_user.can(VIEW_IDENTIFYING) and keystore.keystore().unlocked:
        revealed = records.reveal(case, current_user)
        commit_keeping_loaded()  # the audit record; the case is shown as it was revealed
    with consent.read_once():  # the page asks of its consent many times
        return render_template(
            "cases/detail.html", case=case, revealed=revealed,
            shown=records.texts_for(case, current_user),
            consent=consent.current(case), shareability=_shareability(case),
            task_form=TaskForm(), attachment_form=AttachmentForm(), confirm_form=ConfirmForm(),
            tasks=_tasks(case, revealed is not None),
            files=attachments.listing(case, revealed is not None),
            locked=not keystore.keystore().unlocked, today=clock.now().date(),
            **flow.detail_context(case),
        )


@blueprint.route("/<uuid>/edit", methods=["GET", "POST"])
@require_permission(EDIT)
def edit(uuid: str):
    case = store.get(uuid, current_user)
    if request.method == "POST" and not keystore.keystore().unlocked:
        return _locked_form(CaseForm(), case)
    restored, draft = flow.form_for(case)
    form = editing.prepare(restored or CaseForm(), case)
    answer, draft = flow.drafting(form, case)
    if answer:
        return answer
    if request.method == "GET" and restored is None:
        editing.fill(form, case, records.reveal(case, current_user, purpose="edit"))
        db.session.commit()
        editing.prepare(form, case)
    elif answer is None and restored is None and form.validate_on_submit() and \
            editing.check(form, case, current_user):
        editing.apply(case, form)
        flow.saved(draft)
        store.save(case, current_user)
        names.index(case.defender, form.defender.form.real_name.data)
        db.session.commit()
        flash(_("The case is saved."), "success")
        return redirect(url_for("cases.detail", uuid=case.uuid))
    return render_template("cases/form.html", form=form, case=case, draft=draft,
                           unvalidated=answer is False or restored is not None)


@blueprint.route("/<uuid>/tasks", methods=["POST"])
@require_permission(EDIT)
def add_task(uuid: str):
    case = store.get(uuid, current_user)
    form = TaskForm()
    if not form.validate_on_submit():
        flash(_("Write what the task is."), "error")
        return redirect(url_for("cases.detail", uuid=uuid))
    task = Task(due_on=form.due_on.data, assigned_to_id=current_user.id)
    case.tasks.append(task)
    records.set_identifying(case, task, "description", form.description.data.strip())
    audit.record("cases.task_added", actor=current_user, target_type="cases.case",
                 target_id=case.uuid)
    db.session.commit()
    return redirect(url_for("cases.detail", uuid=uuid, _anchor="tasks"))


@blueprint.route("/<uuid>/tasks/<task_uuid>/done", methods=["POST"])
@require_permission(EDIT)
def finish_task(uuid: str, task_uuid: str):
    case = store.get(uuid, current_user)
    task = next((t for t in case.tasks if t.uuid == task_uuid), None)
    if task is None or not ConfirmForm().validate_on_submit():
        abort(404 if task is None else 400)
    task.done_at = clock.now()
    db.session.commit()
    flash(_("The task is marked done. If that was a mistake, press “Not done” beside it."),
          "success")
    return redirect(url_for("cases.detail", uuid=uuid, _anchor="tasks"))


@blueprint.route("/<uuid>/attachments", methods=["POST"])
@require_permission(EDIT)
def upload(uuid: str):
    case = store.get(uuid, current_user)
    form = AttachmentForm()
    if not form.validate_on_submit():
        flash(_("Choose a file to upload."), "error")
        return redirect(url_for("cases.detail", uuid=uuid, _anchor="files"))
    try:
        attachments.add(case, form.file.data, current_user)
    except attachments.Refused as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        flash(_("The file is stored, encrypted."), "success")
    return redirect(url_for("cases.detail", uuid=uuid, _anchor="files"))


@blueprint.route("/<uuid>/attachments/<file_uuid>")
@require_permission(VIEW_IDENTIFYING)
def download(uuid: str, file_uuid: str):
    case = store.get(uuid, current_user)
    return attachments.download(case, file_uuid, current_user)


@blueprint.route("/export.<fmt>", methods=["GET", "POST"])
@require_permission(EXPORT)
def export(fmt: str):
    if fmt not in exports.FORMATS:
        abort(404)
    asked = _asked()
    identifying = asked.get("identifying") == "1"  # core checks who may have it
    return exports.response(fmt, current_user, _filters(asked), identifying,
                            headings_in_words=asked.get("headings") == "words")


@blueprint.route("/find", methods=["GET", "POST"])
@require_permission(VIEW_IDENTIFYING)
def find():
    """The name is posted (with the CSRF token): it never sits in an address, a browser's
    history or a proxy's log."""
    form = FindForm()
    found = None
    if form.validate_on_submit():
        found = names.find(form.name.data, current_user)  # whole words, any part of it
        db.session.commit()
        form.name.data = ""  # not written back into the page the browser keeps
    return render_template("cases/find.html", form=form, found=found)


def _filters(args: MultiDict) -> store.Filters:
    return store.Filters(
        status=args.get("status", ""), risk=args.get("risk", ""),
        violation=args.get("violation", ""), governorate=args.get("governorate", ""),
        date_from=_date(args.get("from")), date_to=_date(args.get("to")),
        words=store.search.query_terms(args.get("q", "")[:200]),
    )


def _shown_rows(rows: list[store.Row]) -> list[dict]:
    """What the list shows: titles and pseudonyms in their scrubbed form (kept in clear; a
    case written before texts were sealed is scrubbed here), term labels in her language —
    worked out here, once, rather than call by call in the template."""
    unsealed = store.full_cases([row for row in rows if not row.sealed])
    taxonomy, locale, labels = vocabulary(terms.VIOLATIONS), language(), _labels()
    return [{
        "row": row,
        "title": _listed(unsealed.get(row.id), "title", row.title),
        "pseudonym": _listed(unsealed.get(row.id), "pseudonym", row.pseudonym) or "—",
        "violations": [taxonomy.label(code, locale) for code in row.violations],
        "status": labels["status"].get(row.status, row.status),
        "risk": labels["risk"].get(row.risk, row.risk),
    } for row in rows]


def _listed(case: Case | None, attribute: str, clear: str | None) -> str | None:
    """A list's text: the scrubbed form kept in clear, or, for a case whose texts are not
    sealed yet, scrubbed now (hidden while the node is locked)."""
    if case is None:
        return clear
    row = case if attribute == "title" else case.defender
    return records.texts_for(case, None)(row, attribute) if row is not None else clear


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        flash(_("A date was not understood and was left out: use the calendar."), "error")
        return None


def _violation_options(locale: str) -> tuple[tuple[str, str], ...]:
    """(code, label) of every violation type, for the list's filter."""
    return tuple((c.value, c.label) for c in editing.violation_choices(locale) if c.value)


def _governorate_options(locale: str) -> tuple[tuple[str, str], ...]:
    return _governorates(gazetteer(), locale)


@lru_cache(maxsize=16)
def _governorates(places, locale: str) -> tuple[tuple[str, str], ...]:
    """(code, name) of every governorate by name, once per gazetteer and language."""
    return tuple(sorted(((p.code, p.name(locale)) for p in places.offered(GOVERNORATE)),
                        key=lambda item: item[1]))


def _shareability(case: Case) -> dict:
    if not keystore.keystore().unlocked:
        return {}
    return {audience: review.shareable(case, audience) for audience in AUDIENCES}


def _tasks(case: Case, reveal: bool) -> list[dict]:
    return [
        {"task": task, "description": records.identifying_value(case, task, "description")
         if reveal else None}
        for task in case.tasks
    ]

