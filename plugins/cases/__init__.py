"""Cases: documenting violations against women human rights defenders (the reference plugin).

This file is the plugin's table of contents: hook implementations only.
"""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l

from core.dashboard import SEARCH_LIMIT, DashboardItem, NavItem, SearchResult
from core.hookspecs import hookimpl
from core.permissions import REVIEW_RECORDS
from core.records import RecordType, texts_for

from . import drafts, search, store, workflow, workflow_views  # noqa: F401 (tables, routes)
from .commands import cases_group
from .forms import NOT_ON_FORM, STATUS_LABELS, CaseForm
from .models import Case
from .permissions import EDIT, PERMISSIONS, VIEW
from .schemas import CaseSchema
from .terms import declared
from .upgrades import CHANGES
from .views import blueprint


@hookimpl
def register_blueprints():
    return [blueprint]


@hookimpl
def register_permissions():
    return PERMISSIONS


@hookimpl
def register_record_types():
    return [RecordType("cases.case", CaseSchema, Case, version=2, label=_l("Case"), review=True,
                       form=CaseForm, not_on_form=NOT_ON_FORM, changes=CHANGES)]


@hookimpl
def access_blockers(record, user):
    if record.__record_type__ != "cases.case" or store.may_open(record, user):
        return []
    return ["need-to-know"]


@hookimpl
def register_terms():
    return list(declared())


@hookimpl
def register_commands():
    return [cases_group]


@hookimpl
def navigation_items(user):
    return [NavItem(_l("Cases"), "cases.index", VIEW, order=10)]


@hookimpl
def dashboard_items(user):
    if not user.can(VIEW):
        return []
    context = {"counts": store.counts_by_status(user), "statuses": STATUS_LABELS}
    items = [DashboardItem(_l("Cases"), "cases/_dashboard.html", context, order=10)]
    if user.can(REVIEW_RECORDS):
        waiting = workflow.queue(user)
        items.append(DashboardItem(_l("Review queue"), "cases/_queue_dashboard.html",
                                   {"waiting": waiting[:5], "count": len(waiting)}, order=5))
    if user.can(EDIT):
        mine = drafts.of(user, any_case=True)
        if mine:
            items.append(DashboardItem(_l("Your drafts"), "cases/_drafts_dashboard.html",
                                       {"drafts": mine[:5], "where": drafts.where}, order=6))
    return items


@hookimpl
def search_results(query, user):
    if not user.can(VIEW):
        return []
    exact = store.by_reference(query.text, user)  # a case's reference, as people type it
    rows = [exact] if exact else store.matching(user, search.query_terms(query.text),
                                                SEARCH_LIMIT)
    cases = store.full_cases(rows)
    results = []
    for row in rows:
        case = cases[row.id]
        shown = texts_for(case, None)  # scrubbed, as in lists
        results.append(SearchResult(_l("Case"), f"{case.reference} · {shown(case, 'title')}",
                                    url_for("cases.detail", uuid=case.uuid),
                                    (shown(case, "summary") or "")[:200]))
    return results

