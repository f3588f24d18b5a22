"""The home dashboard, search across plugins, and the language switcher."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core import i18n, wording
from core.access import public
from core.dashboard import SEARCH_PAGE, NavItem
from core.extensions import db
from core.forms import LanguageForm
from core.permissions import MANAGE_KEYS, MANAGE_USERS, READ_AUDIT, READ_LEDGER
from core.plugins import plugin_manager
from core.text import Query

blueprint = Blueprint("home", __name__)

MAX_QUERY = 200


@blueprint.route("/")
def index():
    items = _flatten(plugin_manager().hook.dashboard_items(user=current_user))
    return render_template("home/index.html", items=sorted(items, key=lambda i: i.order))


@blueprint.route("/search", methods=["GET", "POST"])
def search():
    """Search every plugin. The words come only in a POST body (with the CSRF token): never
    in the address, where a browser's history, autocomplete or a proxy's log would keep
    them; a ``q`` in the address is ignored."""
    text = request.form.get("q", "")[:MAX_QUERY].strip() if request.method == "POST" else ""
    results = []
    if text:
        query = Query(text)
        results = _flatten(plugin_manager().hook.search_results(query=query, user=current_user))
    pages = max(1, -(-len(results) // SEARCH_PAGE))
    number = min(max(1, request.form.get("page", 1, type=int)), pages)
    shown = results[(number - 1) * SEARCH_PAGE:number * SEARCH_PAGE]
    return render_template("home/search.html", q=text, results=shown, count=len(results),
                           number=number, pages=pages, first=(number - 1) * SEARCH_PAGE + 1)


@blueprint.route("/language", methods=["POST"])
@public
def set_language():
    form = LanguageForm()
    choice = request.form.get("language", "")
    response = redirect(_local_path(request.form.get("next", "")))
    if form.validate_on_submit() and choice in current_app.config["LANGUAGES"]:
        session["locale"] = choice
        i18n.remember(response, choice)
        if current_user.is_authenticated:
            current_user.locale = choice
            db.session.commit()
    return response


@blueprint.route("/help")
def glossary():
    """A short glossary, linked from each form and the review page: the sharing marks,
    audiences, purposes and roles, each in a sentence."""
    return render_template("home/glossary.html", **wording.glossary())


# Core's own menu entries: made once per process (their labels are translated as shown).
CORE_NAVIGATION = (
    NavItem(_l("Users"), "admin.users_page", MANAGE_USERS, order=900),
    NavItem(_l("Node key"), "keys.keys_page", MANAGE_KEYS, order=905),
    NavItem(_l("Audit log"), "admin.audit_log", READ_AUDIT, order=910),
    NavItem(_l("Outbound ledger"), "keys.ledger_page", READ_LEDGER, order=920),
)


def navigation(user) -> list[NavItem]:
    """Menu entries from plugins and core, keeping only those the user may open."""
    items = _flatten(plugin_manager().hook.navigation_items(user=user))
    items += CORE_NAVIGATION
    visible = [item for item in items if item.permission is None or user.can(item.permission)]
    return sorted(visible, key=lambda item: item.order)


def _flatten(lists) -> list:
    return [item for items in lists for item in items]


def _local_path(target: str) -> str:
    """Only ever redirect within this site: a path, never another host."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("home.index")
    return target


@blueprint.app_context_processor
def _menu() -> dict:
    return {"nav_items": navigation(current_user) if current_user.is_authenticated else []}
