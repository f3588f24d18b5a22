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
