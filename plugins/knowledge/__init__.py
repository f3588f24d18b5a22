"""Knowledge: the coalition's library — guides, reports, toolkits, legal analyses, statements,
safety advice (resources, about no person) and testimonies of shared experience (about a
person: consent, review, texts sealed at rest), in Arabic, French and English, with their
translations side by side, files, earlier versions, and the resources partner nodes share.

This file is the plugin's table of contents: hook implementations only.
"""

from __future__ import annotations

from flask import url_for
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l

from core.dashboard import DashboardItem, NavItem, SearchResult
from core.hookspecs import hookimpl
from core.records import RecordType
from core.settings import Setting

from . import catalogue, search, store
from .forms import NOT_ON_FORM, ResourceForm, TestimonyForm
from .labels import KIND_LABELS, LANGUAGE_LABELS
from .models import KnowledgeTestimony, Resource
from .permissions import PERMISSIONS, VIEW
from .schemas import ResourceSchema, TestimonySchema
from .views import blueprint


@hookimpl
def register_settings():
    return [Setting("KNOWLEDGE_PER_PAGE", 30, "resources shown on a page of the library"),
            Setting("KNOWLEDGE_MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024,
                    "the largest file (PDF or image) a resource may have, in bytes")]


@hookimpl
def register_blueprints():
    return [blueprint]


@hookimpl
def register_permissions():
    return PERMISSIONS


@hookimpl
def register_record_types():
    return [RecordType(Resource.__record_type__, ResourceSchema, Resource, version=1,
                       label=_l("Resource"), form=ResourceForm, not_on_form=NOT_ON_FORM,
                       data_subject=False),
            RecordType(KnowledgeTestimony.__record_type__, TestimonySchema, KnowledgeTestimony,
                       version=1, label=_l("Testimony"), form=TestimonyForm,
                       not_on_form=NOT_ON_FORM)]


@hookimpl
def navigation_items(user):
    return [NavItem(_l("Library"), "knowledge.index", VIEW, order=55)]


@hookimpl
def dashboard_items(user):
    if not user.can(VIEW):
        return []
    entries = catalogue.new_in_coalition(store.kinds_for(user))
    return [DashboardItem(_l("New in the coalition"), "knowledge/_dashboard.html",
                          {"entries": entries, "kinds": KIND_LABELS}, order=40)]


@hookimpl
def search_results(query, user):
    if not user.can(VIEW):
        return []
    try:
        hits, _total = search.results(query.text, kinds=list(store.kinds_for(user)), limit=10)
    except search.SearchError:
        return []
    return [SearchResult(KIND_LABELS.get(hit.entry.kind, hit.entry.kind), hit.entry.title,
                         url_for("knowledge.detail", resource_uuid=hit.entry.record_uuid),
                         (hit.entry.summary or "")[:200]) for hit in hits]


@hookimpl
def record_saved(record, user):
    catalogue.saved(record)


@hookimpl
def shared_record_received(shared):
    catalogue.received(shared)


@hookimpl
def shared_record_purged(shared):
    catalogue.purged(shared)


@hookimpl
def public_page_sections(locale):
    entries = catalogue.public_entries()
    if not entries:
        return []
    with force_locale(locale):
        title = gettext("Library: public resources")
        lines = [f"{entry.title} — {KIND_LABELS[entry.kind]}, "
                 f"{LANGUAGE_LABELS[entry.language]}"
                 + (f" ({entry.byline})" if entry.byline else "")
                 + (f": {entry.summary[:300]}" if entry.summary else "")
                 for entry in entries]
    return [{"title": title, "lines": lines}]
