"""The whole plugin API: every hook a plugin may implement, and what core expects back.

A plugin is a module whose functions are marked with ``@hookimpl`` and named after a hook
below. Shapes: ``register_*`` hooks return a list and are called once at start-up;
``*_items`` and ``*_results`` return things to show; past-tense hooks are notifications
whose return is ignored. Hooks take objects (a user, a record) so their signatures can
stay stable. A plugin may accept fewer arguments than a hook offers, never more.
"""

from __future__ import annotations

import pluggy

PROJECT = "rabita"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_blueprints():
    """Return a list of Flask blueprints to register; each one's name must be the plugin's name."""


@hookspec
def register_permissions():
    """Return a list of ``core.permissions.Permission``; each name starts with ``<plugin>.``."""


@hookspec
def register_commands():
    """Return a list of click commands or groups to add to the ``rabita`` command line."""


@hookspec
def navigation_items(user):
    """Return a list of ``core.dashboard.NavItem`` to show in the menu to ``user``."""


@hookspec
def dashboard_items(user):
    """Return a list of ``core.dashboard.DashboardItem`` to show on ``user``'s home page."""


@hookspec
def search_results(query, user):
    """Return a list of ``core.dashboard.SearchResult`` matching ``query`` that ``user`` may see.

    ``query`` is a ``core.text.Query``: the raw text and its Arabic-aware normal form.
    """


@hookspec
def register_record_types():
    """Return a list of ``core.records.RecordType``; each name starts with ``<plugin>.``."""


@hookspec
def record_saved(record, user):
    """Called after a record's new version is committed; ``user`` is who saved it."""


# -- records, consent, redaction (policy hooks can only tighten) ----------------------------


@hookspec
def register_places():
    """Return a list of ``core.places.Place`` (countries, governorates, localities)."""


@hookspec
def register_phone_regions():
    """Return a list of ISO 3166 region codes whose phone numbers scrubbing must find."""


@hookspec
def register_scrub_patterns():
    """Return a list of ``core.scrub.ScrubPattern`` (national ID formats) to scrub from text."""


@hookspec
def redacted_fields(record, audience):
    """Return a list of dotted field paths of ``record`` to withhold from ``audience``.

    Results of every plugin are unioned: a plugin can only withhold more, never less.
    """


@hookspec
def share_blockers(record, audience):
    """Return a list of reason codes that forbid ``record`` to leave for ``audience``.

    Any reason from any plugin blocks the whole record.
    """


@hookspec
def access_blockers(record, user):
    """Return a list of reason codes that keep ``user`` from opening ``record`` (need to know).

    Asked by ``core.records.find`` and ``core.records.may_open``, the one lookup that every
    record page uses. Any reason from any plugin hides the record: it answers 404, exactly as
    a record that does not exist. Example (a restricted case is for those assigned to it)::

        @hookimpl
        def access_blockers(record, user):
            if record.__record_type__ == "cases.case" and record.restricted \
                    and record.assigned_to_id != user.id:
                return ["restricted"]
            return []
    """


@hookspec
def record_approved(record, approval):
    """Called after a reviewer's approval of ``record``'s payload for one audience commits."""


@hookspec
def consent_ended(consent, reason):
    """Called after a consent ends (``reason``: withdrawn, expired or superseded) commits."""


@hookspec
def register_terms():
    """Return a list of ``core.vocabularies.Term`` for coded lists (taxonomies, laws)."""


@hookspec
def consent_recorded(consent):
    """Called after a new consent for a record commits."""


# -- the node ---------------------------------------------------------------------------------


@hookspec(firstresult=True)
def node_id(app):
    """Return this node's id (federation derives it from the node's key); stops at the first
    non-None result. Without one, a node is ``NODE_ID`` from its config ("local")."""


@hookspec
def node_initialised(app):
    """Called once by ``rabita init``, after the instance folder, keyring and database exist."""


# -- records other nodes shared ---------------------------------------------------------------


@hookspec
def shared_record_received(shared):
    """Called inside the transaction that stores a newer version of a record another node
    shared (a ``core.records.SharedRecord``); derive from it only what may be deleted again."""


@hookspec
def shared_record_purged(shared):
    """Called inside the transaction that purges a record another node shared (a tombstone,
    an expired consent or a revoked key): delete everything derived from it (indexes, caches)."""
