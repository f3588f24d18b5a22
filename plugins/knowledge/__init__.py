"""Knowledge: the coalition's library — guides, reports, toolkits, legal analyses, statements,
safety advice (resources, about no person) and testimonies of shared experience (about a
person: consent, review, texts sealed at rest), in Arabic, French and English, with their
translations side by side, files, earlier versions, and the resources partner nodes share.

This file is the plugin's table of contents: hook implementations only.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core.dashboard import NavItem
from core.hookspecs import hookimpl
from core.records import RecordType
from core.settings import Setting

from .forms import NOT_ON_FORM, ResourceForm, TestimonyForm
from .models import Resource, Testimony
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
            RecordType(Testimony.__record_type__, TestimonySchema, Testimony, version=1,
                       label=_l("Testimony"), form=TestimonyForm, not_on_form=NOT_ON_FORM)]


@hookimpl
def navigation_items(user):
    return [NavItem(_l("Library"), "knowledge.index", VIEW, order=55)]
