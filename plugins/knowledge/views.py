"""The library's pages: browse (filters by type, language, tag and audience, and the search
box), tag pages, a resource's page with its translations side by side, the editor with its
preview (no script: the preview is the form sent back), files, and earlier versions."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from core import audit, keystore, records
from core.access import public, require_permission
from core.extensions import db
from core.models import Approval
from core.permissions import VIEW_IDENTIFYING

from . import attachments, catalogue, search, store
from .forms import AttachmentForm, ResourceForm, SearchForm, TestimonyForm
from .labels import AUDIENCE_LABELS, KIND_LABELS, LANGUAGE_LABELS, LICENCE_LABELS
from .models import TESTIMONY_KINDS, Entry, EntryTag, KnowledgeTestimony, Resource
from .permissions import TESTIMONIES, VIEW, WRITE
from .render import markdown

blueprint = Blueprint("knowledge", __name__, url_prefix="/knowledge", template_folder="templates",
                      static_folder="static")
LABELS = {"kind": KIND_LABELS, "language": LANGUAGE_LABELS, "audience": AUDIENCE_LABELS,
          "licence": LICENCE_LABELS}
MAX_PAGE = 1000
SHARING_AUDIENCES = ("peers", "hub")


@blueprint.app_template_filter("knowledge_markdown")
def _markdown(text):
    return markdown(text)


@blueprint.context_processor
def _labels():
    return {"labels": LABELS}


# -- browse ---------------------------------------------------------------------------------


@blueprint.route("/", methods=["GET", "POST"])
@require_permission(VIEW)
def index():
    """Browse (GET: filters in the address) or search (POST: the words only in the body,
    with the CSRF token — never in the address, where history or a proxy's log keeps them;
    a ``q`` in the address is ignored)."""
    if request.method == "POST" and not SearchForm().validate_on_submit():
        abort(400)
    return _browse(tag=None)


@blueprint.route("/tags/<tag>", methods=["GET", "POST"])
@require_permission(VIEW)
def tag(tag: str):
    if request.method == "POST" and not SearchForm().validate_on_submit():
        abort(400)
    if not catalogue.folded_tag(tag):
        abort(404)
    return _browse(tag=tag)


def _browse(tag: str | None):
    allowed = store.kinds_for(current_user)
    filters = _filters(allowed)
    if tag is not None:
        filters["tag"] = tag
    per_page = current_app.config["KNOWLEDGE_PER_PAGE"]
    page = _page_number()
    q = (request.form.get("q") or "").strip() if request.method == "POST" else ""
    error = None
    if q:
        try:
            hits, total = search.results(
                q, kinds=[filters["kind"]] if filters["kind"] else list(allowed),
                languages=[filters["language"]] if filters["language"] else [],
                tags=[catalogue.folded_tag(filters["tag"])] if filters["tag"] else [],
                audiences=[filters["audience"]] if filters["audience"] else [],
                limit=per_page, offset=(page - 1) * per_page)
        except search.SearchError as refused:
            hits, total, error = [], 0, str(refused)
        found = [(hit.entry, hit.snippet) for hit in hits]
    else:
        entries, total = _listed(filters, allowed, page, per_page)
        found = [(entry, None) for entry in entries]
    return render_template(
        "knowledge/index.html", found=found, total=total, page=page, per_page=per_page,
        filters=filters, words=q, error=error, tag=tag, kinds=allowed,
        cap=search.COUNT_CAP, popular=_popular_tags(allowed),
        writable=current_user.can(WRITE), testimonies=current_user.can(TESTIMONIES),
        search_form=SearchForm())


def _asked(name: str) -> str:
    """A filter or the page, from the search form's body (POST) or the address (GET)."""
    return ((request.form if request.method == "POST" else request.args).get(name) or "")


def _filters(allowed) -> dict[str, str]:
    asked = {name: _asked(name).strip()
             for name in ("kind", "language", "audience", "tag")}
    return {"kind": asked["kind"] if asked["kind"] in allowed else "",
            "language": asked["language"] if asked["language"] in LANGUAGE_LABELS else "",
            "audience": asked["audience"] if asked["audience"] in AUDIENCE_LABELS else "",
            "tag": asked["tag"][:60]}


def _page_number() -> int:
    text = _asked("page") or "1"
    return int(text) if text.isascii() and text.isdigit() and 0 < int(text) <= MAX_PAGE else 1


def _listed(filters: dict, allowed, page: int, per_page: int) -> tuple[list[Entry], int]:
    query = select(Entry).where(Entry.kind.in_(
        [filters["kind"]] if filters["kind"] else list(allowed)))
    if filters["language"]:
        query = query.where(Entry.language == filters["language"])
    if filters["audience"]:
        query = query.where(Entry.audience == filters["audience"])
    if filters["tag"]:
        query = query.where(Entry.id.in_(select(EntryTag.entry_id).where(
            EntryTag.tag == catalogue.folded_tag(filters["tag"]))))
    # Counted up to the cap, as a search is: a count of every matching entry grows with
    # the library (a third of 100,000 for one language).
    total = db.session.scalar(select(func.count()).select_from(
        query.with_only_columns(Entry.id).limit(search.COUNT_CAP + 1).subquery()))
    entries = db.session.scalars(query.order_by(Entry.updated_at.desc(), Entry.id.desc())
                                 .offset((page - 1) * per_page).limit(per_page)).all()
    return list(entries), total


POPULAR_AMONG = 2000  # the newest entries whose tags the library's tag cloud counts


def _popular_tags(allowed, limit: int = 20) -> list[tuple[str, int]]:
    """The most used tags (folded) among the newest entries she may read (a bounded count,
    whatever the library's size)."""
    newest = select(Entry.id).where(Entry.kind.in_(list(allowed))).order_by(
        Entry.updated_at.desc()).limit(POPULAR_AMONG).subquery()
    rows = db.session.execute(
        select(EntryTag.tag, func.count()).where(EntryTag.entry_id.in_(select(newest.c.id)))
        .group_by(EntryTag.tag).order_by(func.count().desc(), EntryTag.tag).limit(limit)).all()
    return [(row[0], row[1]) for row in rows]


# -- one resource ---------------------------------------------------------------------------


def _entry_for(resource_uuid: str) -> Entry:
    """The entry of ``resource_uuid`` she may read (this node's first), else 404."""
    entry = store.readable_entry(resource_uuid, current_user)
    if entry is None:
        abort(404)
    return entry


def _record_for(entry: Entry):
    """The record of a local entry, through core's access check (404 as a missing one)."""
    return records.find(entry.record_type, entry.record_uuid, current_user)


@blueprint.route("/r/<resource_uuid>")
@require_permission(VIEW)
def detail(resource_uuid: str):
    entry = _entry_for(resource_uuid)
    record = _record_for(entry) if entry.local else None
    shown = _shown(entry, record)
    revealed = None
    if record is not None and current_user.can(VIEW_IDENTIFYING) and keystore.keystore().unlocked:
        revealed = records.reveal(record, current_user)
        db.session.commit()
    translations = [other for other in _translations(entry)]
    files = attachments.listing(record) if record is not None and keystore.keystore().unlocked \
        else []
    return render_template(
        "knowledge/detail.html", entry=entry, record=record, shown=shown, revealed=revealed,
        translations=[(other, _shown(other, None)) for other in translations],
        files=files, attachment_form=AttachmentForm(),
        versions=store.versions_of(record) if record is not None else [],
        sharing=_sharing(record) if record is not None else [],
        writable=record is not None and current_user.can(WRITE) and (
            record.__record_type__ == Resource.__record_type__ or current_user.can(TESTIMONIES)),
        testimony=entry.record_type == KnowledgeTestimony.__record_type__)


def _sharing(record) -> list[dict]:
    """Per audience, the version last approved to leave and whether it still stands: after
    an edit, what was approved stays what was shared until a reviewer approves the new one."""
    found = []
    for audience in SHARING_AUDIENCES:
        last = db.session.scalar(select(Approval).where(
            Approval.record_type == record.__record_type__, Approval.record_uuid == record.uuid,
            Approval.audience == audience).order_by(Approval.id.desc()).limit(1))
        if last is not None:
            found.append({"audience": audience, "version": last.version,
                          "standing": last.revoked_at is None,
                          "edited": last.revoked_because == "payload-changed"})
    return found


def _shown(entry: Entry, record) -> dict:
    """The texts she is shown: a resource's as written (kept in clear: meant to be read); a
    testimony's as ``records.texts_for`` says (as written only to those who may see
    identifying data, on an unlocked node; scrubbed otherwise); a shared one's as its
    payload came."""
    if record is None or not isinstance(record, KnowledgeTestimony):  # a resource's: clear
        source = entry if record is None else record
        return {name: getattr(source, name) for name in ("title", "summary", "body", "tags")}
    shown = records.texts_for(record, current_user)
    return {name: shown(record, name) for name in ("title", "summary", "body", "tags")}


def _translations(entry: Entry) -> list[Entry]:
    allowed = store.kinds_for(current_user)
    return list(db.session.scalars(
        select(Entry).where(Entry.translation_group == entry.translation_group,
                            Entry.id != entry.id, Entry.kind.in_(list(allowed)))
        .order_by(Entry.language, Entry.id).limit(6)))


# -- writing --------------------------------------------------------------------------------


def _form_class(testimony: bool):
    return TestimonyForm if testimony else ResourceForm


@blueprint.route("/new", methods=["GET", "POST"])
@require_permission(WRITE)
def new():
    testimony = request.args.get("type") == "testimony"
    if testimony and not current_user.can(TESTIMONIES):
        abort(403)
    keystore.keystore().keyring()  # a locked node cannot seal: say so before the form
    form = _form_class(testimony)()
    if request.method == "GET" and request.args.get("translation_of"):
        form.translation_of.data = request.args["translation_of"][:36]
    return _editor(form, None, testimony)


@blueprint.route("/r/<resource_uuid>/edit", methods=["GET", "POST"])
@require_permission(WRITE)
def edit(resource_uuid: str):
    entry = _entry_for(resource_uuid)
    if not entry.local:
        abort(404)
    record = _record_for(entry)
    testimony = isinstance(record, KnowledgeTestimony)
    if testimony and not current_user.can(TESTIMONIES):
        abort(404)
    form = _form_class(testimony)(data=None if request.method == "POST"
                                  else _form_data(record))
    return _editor(form, record, testimony)


def _form_data(record) -> dict:
    written = records.reveal(record, current_user, purpose="edit") \
        if current_user.can(VIEW_IDENTIFYING) else records.values(record, identifying=False)
    db.session.commit()
    return {**written, "tags": ", ".join(written.get("tags") or []),
            "authors": "\n".join(written.get("authors") or []),
            "published_on": record.published_on}


def _editor(form, record, testimony: bool):
    """Show the editor; on POST, preview (``preview`` pressed) or save."""
    preview = None
    if request.method == "POST" and form.validate_on_submit():
        if request.form.get("preview"):
            preview = {"title": form.title.data, "summary": form.summary.data,
                       "body": form.body.data}
        else:
            try:
                saved = store.write(record, form.data, current_user,
                                    upload=request.files.get("file"))
            except (store.KnowledgeError, attachments.Refused) as error:
                db.session.rollback()
                flash(str(error), "error")
                return _form_page(form, record, testimony, None), 400
            flash(_("Saved."), "success")
            return redirect(url_for(".detail", resource_uuid=saved.uuid))
    status = 400 if request.method == "POST" and preview is None else 200
    return _form_page(form, record, testimony, preview), status


def _form_page(form, record, testimony: bool, preview):
    return render_template("knowledge/form.html", form=form, record=record,
                           testimony=testimony, preview=preview,
                           testimony_kinds=TESTIMONY_KINDS)


@blueprint.route("/r/<resource_uuid>/files", methods=["POST"])
@require_permission(WRITE)
def add_file(resource_uuid: str):
    entry = _entry_for(resource_uuid)
    if not entry.local:
        abort(404)
    record = _record_for(entry)
    form = AttachmentForm()
    if not form.validate_on_submit():
        flash(_("Choose a file."), "error")
        return redirect(url_for(".detail", resource_uuid=record.uuid)), 303
    try:
        file = attachments.checked(form.file.data)
        attachments.attach(record, file, current_user)
        db.session.commit()
    except attachments.Refused as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for(".detail", resource_uuid=record.uuid)), 303
    flash(_("The file is attached."), "success")
    return redirect(url_for(".detail", resource_uuid=record.uuid)), 303


@blueprint.route("/r/<resource_uuid>/files/<attachment_uuid>")
@require_permission(VIEW)
def download(resource_uuid: str, attachment_uuid: str):
    entry = _entry_for(resource_uuid)
    if not entry.local:
        abort(404)
    return attachments.download(_record_for(entry), attachment_uuid, current_user)


@blueprint.route("/r/<resource_uuid>/versions/<int:version_number>")
@require_permission(VIEW)
def version(resource_uuid: str, version_number: int):
    """An earlier version: a resource's texts to every reader; a testimony's (as written)
    only to those who may see identifying data (audited). Names never."""
    entry = _entry_for(resource_uuid)
    if not entry.local or version_number >= 2**31:
        abort(404)
    record = _record_for(entry)
    kept = next((v for v in store.versions_of(record) if v.version == version_number), None)
    if kept is None or not keystore.keystore().unlocked:
        abort(404)
    if isinstance(record, KnowledgeTestimony):
        if not current_user.can(VIEW_IDENTIFYING):
            abort(404)
        audit.record("record.identifying_viewed", actor=current_user,
                     target_type=record.__record_type__, target_id=record.uuid,
                     purpose="version")
        db.session.commit()
    values = store.version_values(record, kept)
    return render_template("knowledge/version.html", entry=entry, record=record, kept=kept,
                           values=values)


# -- public reading (no sign-in) ------------------------------------------------------------


@blueprint.route("/public/")
@public
def public_library():
    """What partner nodes shared and their authors made public (a reviewer approved each
    before it left its node): readable by anyone, as on a hub. Never a testimony, never
    this node's own unreviewed text."""
    return render_template("knowledge/public.html", entries=catalogue.public_entries(),
                           entry=None, shown=None)


@blueprint.route("/public/<resource_uuid>")
@public
def public_resource(resource_uuid: str):
    entry = catalogue.public_entry(resource_uuid)
    if entry is None:
        abort(404)
    return render_template("knowledge/public.html", entries=None, entry=entry,
                           shown=_shown(entry, None))
