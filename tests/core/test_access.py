"""Deny by default: the frozen list of endpoints that need no sign-in, and the rule itself."""

import functools
import re

import pytest

from core.access import FEDERATION_SIGNED, PUBLIC, SIGNING_IN, access_of
from core.testing import builtin_plugins

# Changing this list opens (or closes) a door: it must be a reviewed, visible change.
PUBLIC_ENDPOINTS = {
    "static",
    "auth.login",
    "auth.accept_invite",
    "home.set_language",
    "federation.static",
    "federation.node_document",  # the signed node document pairing starts from
    "federation.public_statistics",  # a hub's statistics public-aggregate consent allows
    "events.static",
    "knowledge.static",
    "knowledge.public_library",  # resources partner nodes shared and made public (a hub's)
    "knowledge.public_resource",
    "events.public_feed",  # the public events' calendar (RFC 5545): public events only
    "events.member_feed",  # a member's calendar, behind its secret token (hashed here)
}
# Reached by other nodes with a signed request, never with a session.
FEDERATION_SIGNED_ENDPOINTS = {
    "federation.outbox_page",
    "federation.inbox_hint",
    "federation.push_in",  # 1.1: a node nobody can reach sends its feed
    "federation.receipts_in",
    "federation.pair_request",
    "federation.vouched_keys",
    "federation.takedowns",
    "federation.held_entries",  # 1.1: a restored node takes its own feeds back
}
SIGNING_IN_ENDPOINTS = {
    "auth.code",
    "auth.enrol_second_factor",
    "auth.logout",
}


@pytest.fixture
def app(make_app):
    """A node with every built-in plugin on: their doors are on the frozen lists too."""
    return make_app(PLUGINS=builtin_plugins())


def test_the_lists_are_frozen_with_every_built_in_plugin_loaded(app):
    assert {"plugins.cases", "plugins.country_tn", "federation"} <= set(app.config["PLUGINS"])
    assert {rule.endpoint.split(".")[0] for rule in app.url_map.iter_rules()} >= {
        "cases", "federation"}


def marked(app, level):
    return {rule.endpoint for rule in app.url_map.iter_rules() if access_of(app, rule.endpoint) == level}


def test_the_public_endpoints_are_exactly_the_frozen_list(app):
    assert marked(app, PUBLIC) == PUBLIC_ENDPOINTS


def test_the_federation_signed_endpoints_are_exactly_the_frozen_list(app):
    assert marked(app, FEDERATION_SIGNED) == FEDERATION_SIGNED_ENDPOINTS


def test_the_signing_in_endpoints_are_exactly_the_frozen_list(app):
    assert marked(app, SIGNING_IN) == SIGNING_IN_ENDPOINTS


def _sample_url(rule):
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: "1" if "int" in m.group(0) else "x", rule.rule)


def test_every_other_endpoint_sends_strangers_to_sign_in(app, client):
    checked = 0
    for rule in app.url_map.iter_rules():
        if access_of(app, rule.endpoint) != "signed-in":
            continue
        url = _sample_url(rule)
        if "GET" in rule.methods:
            response = client.get(url)
            assert response.status_code == 302, rule.endpoint
            assert response.location.endswith("/login"), rule.endpoint
        if "POST" in rule.methods:
            token = client.csrf_token("/login")
            response = client.post(url, data={"csrf_token": token})
            assert response.status_code == 401, rule.endpoint
        checked += 1
    assert checked >= 5


def test_a_plugin_view_is_closed_unless_marked(make_app, make_plugin):
    from flask import Blueprint

    notes = Blueprint("notes", __name__)

    @notes.route("/notes")
    def index():
        return "secret notes"

    app = make_app(PLUGINS=[make_plugin("notes", register_blueprints=lambda: [notes])])
    response = app.test_client().get("/notes")
    assert response.status_code == 302 and "secret" not in response.get_data(as_text=True)


@pytest.mark.parametrize("endpoint", sorted(SIGNING_IN_ENDPOINTS - {"auth.logout"}))
def test_signing_in_pages_need_the_password_step_first(app, client, endpoint):
    url = app.url_map._rules_by_endpoint[endpoint][0].rule
    assert client.get(url).location.endswith("/login")


def test_checked_first_names_a_permission_only_where_its_check_runs_first():
    """``checked_first``: the permission of a view that is ``require_permission``'s own check;
    None for a view without one and for a view that does something of its own before it."""
    from core.access import checked_first, require_permission

    def page():
        return "page"

    checked = require_permission("manage_users")(page)

    @functools.wraps(checked)
    def reads_first(*args, **kwargs):  # a decorator around the check: it runs first
        return checked(*args, **kwargs)

    assert checked_first(checked) == "manage_users"
    assert checked_first(page) is None
    assert getattr(reads_first, "rabita_permission", None) == "manage_users"  # copied, yet
    assert checked_first(reads_first) is None
