"""The whole plugin API: every hook a plugin may implement, and what core expects back.

A plugin is a module whose functions are marked with ``@hookimpl`` and named after a hook
below. Shapes: ``register_*`` hooks return a list and are called once at start-up;
``*_items`` and ``*_results`` return things to show; past-tense hooks are notifications
whose return is ignored. Hooks take objects (a user, a record) so their signatures can
stay stable. A plugin may accept fewer arguments than a hook offers, never more.

Each docstring is the hook's reference (``docs/plugins.md`` is generated from it with
``python -m tools.hookdoc``): what to return or when it is called, then ``Args:`` (each
argument with its type), ``Returns:`` and an ``Example::``.
"""

from __future__ import annotations

import pluggy

PROJECT = "rabita"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# -- start-up: what a plugin adds to the node --------------------------------------------------


@hookspec
def register_settings():
    """Return a list of ``core.settings.Setting``: the settings the plugin reads from the config.

    Called once at start-up, before anything else of the plugin runs. A setting the instance
    config leaves out gets its default; one it gives a value of the wrong type (or outside
    ``choices``) stops start-up with a sentence. Read a setting as ``current_app.config[NAME]``.
    Names are in capitals and start with the plugin's name (``NOTES_``).

    Returns:
        list[core.settings.Setting]: name, default, what it does (``help``), and optionally
        ``kind`` (the type or types a value must be; default: the default's type) and
        ``choices``.

    Example::

        @hookimpl
        def register_settings():
            return [Setting("NOTES_PER_PAGE", 50, "notes shown on one page"),
                    Setting("NOTES_SORT", "newest", "order of the list",
                            choices=("newest", "oldest"))]
    """


@hookspec
def register_blueprints():
    """Return a list of Flask blueprints to register; each one's name must be the plugin's name.

    Called once at start-up. Every view is closed to anyone not signed in unless core marks it
    public; check permissions with ``core.access.require_permission``.

    Returns:
        list[flask.Blueprint]: usually one, named after the plugin.

    Example::

        @hookimpl
        def register_blueprints():
            from .views import blueprint  # Blueprint("notes", __name__, url_prefix="/notes")

            return [blueprint]
    """


@hookspec
def register_permissions():
    """Return a list of ``core.permissions.Permission``; each name starts with ``<plugin>.``.

    Called once at start-up. Roles are ``admin``, ``reviewer``, ``documenter`` and ``member``;
    a permission marked ``identifying=True`` also needs her second factor.

    Returns:
        list[core.permissions.Permission]: name, description, the roles that hold it.

    Example::

        @hookimpl
        def register_permissions():
            return [Permission("notes.read", _l("Read notes"), {"admin", "member"})]
    """


@hookspec
def register_commands():
    """Return a list of click commands or groups to add to the ``rabita`` command line.

    Called once at start-up. A command may not take a name core or another plugin uses; a
    group named after the plugin avoids that.

    Returns:
        list[click.Command]: commands or groups (``rabita <name> ...``).

    Example::

        @click.group("notes", help="Notes kept by the node.")
        def notes_group():
            pass

        @hookimpl
        def register_commands():
            return [notes_group]
    """


@hookspec
def register_record_types():
    """Return a list of ``core.records.RecordType``; each name starts with ``<plugin>.``.

    Called once at start-up. The schema declares each field's sharing class (start-up stops
    on an undeclared one); core then handles its consent, review, redaction and exports.

    Returns:
        list[core.records.RecordType]: name, marshmallow schema, model, version, label.

    Example::

        @hookimpl
        def register_record_types():
            from .models import Note
            from .schemas import NoteSchema

            return [RecordType("notes.note", NoteSchema, Note, label=_l("Note"))]
    """


@hookspec
def register_terms():
    """Return a list of ``core.vocabularies.Term`` for coded lists (taxonomies, laws).

    Called once at start-up. Records store a term's code; its labels are shown in the
    reader's language (``core.vocabularies.vocabulary(name)``).

    Returns:
        list[core.vocabularies.Term]: vocabulary ``<plugin>.<name>``, code, labels by
        language, and the code of a broader term (``parent``) or None.

    Example::

        @hookimpl
        def register_terms():
            return [Term("notes.mood", "calm", {"en": "Calm", "ar": "هادئ", "fr": "Calme"})]
    """


@hookspec
def register_places():
    """Return a list of ``core.places.Place`` (countries, governorates, localities).

    Called once at start-up; country plugins bring their places. Generalisation coarsens a
    place up this tree (a locality to its governorate or country).

    Returns:
        list[core.places.Place]: code, kind, names by language, parent code, aliases.

    Example::

        @hookimpl
        def register_places():
            return [Place("DZ", "country", {"en": "Algeria", "ar": "الجزائر"}),
                    Place("DZ-16", "governorate", {"en": "Algiers"}, parent="DZ")]
    """


@hookspec
def register_phone_regions():
    """Return a list of ISO 3166 region codes whose phone numbers scrubbing must find.

    Called once at start-up; country plugins name their own country.

    Returns:
        list[str]: two-letter region codes, e.g. ``["TN"]``.

    Example::

        @hookimpl
        def register_phone_regions():
            return ["DZ"]
    """


@hookspec
def register_scrub_patterns():
    """Return a list of ``core.scrub.ScrubPattern`` (national ID formats) to scrub from text.

    Called once at start-up. A pattern is matched against the digits of each run of numbers in
    an open text (separators dropped); a match is replaced by ``[redacted]``.

    Returns:
        list[core.scrub.ScrubPattern]: a name ``<plugin>.<what>`` and a regular expression.

    Example::

        @hookimpl
        def register_scrub_patterns():
            return [ScrubPattern("country_dz.nin", r"(?<!\\d)\\d{18}(?!\\d)")]
    """


# -- pages ------------------------------------------------------------------------------------


@hookspec
def navigation_items(user):
    """Return a list of ``core.dashboard.NavItem`` to show in the menu to ``user``.

    Called for every page that shows the menu; an item whose permission she lacks is left out
    by core.

    Args:
        user (core.models.User): the signed-in person the menu is for.

    Returns:
        list[core.dashboard.NavItem]: label, endpoint, permission, order.

    Example::

        @hookimpl
        def navigation_items(user):
            return [NavItem(_l("Notes"), "notes.index", "notes.read", order=30)]
    """


@hookspec
def dashboard_items(user):
    """Return a list of ``core.dashboard.DashboardItem`` to show on ``user``'s home page.

    Called when she opens the home page; check her permissions yourself.

    Args:
        user (core.models.User): the signed-in person whose home page it is.

    Returns:
        list[core.dashboard.DashboardItem]: title, template, its context, order.

    Example::

        @hookimpl
        def dashboard_items(user):
            if not user.can("notes.read"):
                return []
            return [DashboardItem(_l("Notes"), "notes/_dashboard.html", {"count": 3})]
    """


@hookspec
def search_results(query, user):
    """Return a list of ``core.dashboard.SearchResult`` matching ``query`` that ``user`` may see.

    Called when she searches from the menu. Show only what she may open, and open texts in
    their scrubbed form (``core.records.texts_for(record, None)``). Return every hit up to
    ``core.dashboard.SEARCH_LIMIT``, best first, not a page: the search page counts them and
    pages them itself.

    Args:
        query (core.text.Query): what she typed (``text``) and its Arabic-aware folded form
            (``folded``, ``terms``).
        user (core.models.User): the signed-in person searching.

    Returns:
        list[core.dashboard.SearchResult]: kind, title, url, a short excerpt.

    Example::

        @hookimpl
        def search_results(query, user):
            if not user.can("notes.read"):
                return []
            return [SearchResult(_l("Note"), note.title, url_for("notes.index"))
                    for note in find_notes(query.terms)]
    """


# -- records, consent, redaction (policy hooks can only tighten) ----------------------------


@hookspec
def record_saved(record, user):
    """Called after a record's new version is committed; ``user`` is who saved it.

    Args:
        record (core.records.RecordMixin): the saved record (a model instance of any
            registered record type; ``record.__record_type__`` says which).
        user (core.models.User | None): who saved it; None for a command or a system task.

    Returns:
        None: the return value is ignored.

    Example::

        @hookimpl
        def record_saved(record, user):
            if record.__record_type__ == "notes.note":
                refresh_note_counts()
    """


@hookspec
def redacted_fields(record, audience):
    """Return a list of dotted field paths of ``record`` to withhold from ``audience``.

    Called each time a payload is prepared for review, sharing or sending. Results of every
    plugin are unioned: a plugin can only withhold more, never less.

    Args:
        record (core.records.RecordMixin): the record about to be redacted.
        audience (str): who would receive it: ``"peers"``, ``"hub"`` or
            ``"public-aggregate"`` (``core.redaction.AUDIENCES``).

    Returns:
        list[str]: field paths such as ``"title"`` or ``"incidents.place"``.

    Example::

        @hookimpl
        def redacted_fields(record, audience):
            return ["place"] if audience == "public-aggregate" else []
    """


@hookspec
def share_blockers(record, audience):
    """Return a list of reason codes that forbid ``record`` to leave for ``audience``.

    Called each time a payload is prepared for review, sharing or sending. Any reason from any
    plugin blocks the whole record.

    Args:
        record (core.records.RecordMixin): the record that would leave.
        audience (str): ``"peers"``, ``"hub"`` or ``"public-aggregate"``.

    Returns:
        list[str]: reason codes ``<plugin>.<reason>``; empty when the plugin has none.

    Example::

        @hookimpl
        def share_blockers(record, audience):
            return ["notes.minor"] if getattr(record, "about_a_minor", False) else []
    """


@hookspec
def access_blockers(record, user):
    """Return a list of reason codes that keep ``user`` from opening ``record`` (need to know).

    Asked by ``core.records.find`` and ``core.records.may_open``, the one lookup that every
    record page uses. Any reason from any plugin hides the record: it answers 404, exactly as
    a record that does not exist.

    Args:
        record (core.records.RecordMixin): the record she asks to open.
        user (core.models.User): the signed-in person asking.

    Returns:
        list[str]: reason codes; empty when the plugin does not keep her out.

    Example::

        @hookimpl
        def access_blockers(record, user):
            if record.__record_type__ == "cases.case" and record.restricted \\
                    and record.assigned_to_id != user.id:
                return ["restricted"]
            return []
    """


@hookspec
def record_approved(record, approval):
    """Called after a reviewer's approval of ``record``'s payload for one audience commits.

    Args:
        record (core.records.RecordMixin): the approved record.
        approval (core.models.Approval): what was approved: ``audience``, ``version``,
            ``payload_hash``, ``approved_by`` (a user id), ``approved_at``.

    Returns:
        None: the return value is ignored.

    Example::

        @hookimpl
        def record_approved(record, approval):
            if approval.audience == "hub":
                queue_for_the_hub(record.uuid, approval.version)
    """


@hookspec
def consent_recorded(consent):
    """Called after a new consent for a record commits.

    Args:
        consent (core.models.Consent): who gave it (``given_by``), for which audiences
            (``audience_list``) and purposes, until when (``expires_on``), and the record
            (``record_type``, ``record_uuid``).

    Returns:
        None: the return value is ignored.

    Example::

        @hookimpl
        def consent_recorded(consent):
            if "hub" in consent.audience_list:
                remind_reviewers(consent.record_type, consent.record_uuid)
    """


@hookspec
def consent_ended(consent, reason):
    """Called after a consent ends (``reason``: withdrawn, expired or superseded) commits.

    Args:
        consent (core.models.Consent): the consent that ended.
        reason (str): ``"withdrawn"``, ``"expired"`` or ``"superseded"``.

    Returns:
        None: the return value is ignored.

    Example::

        @hookimpl
        def consent_ended(consent, reason):
            if reason == "withdrawn":
                forget_copies_of(consent.record_uuid)
    """


# -- the node ---------------------------------------------------------------------------------


@hookspec(firstresult=True)
def node_id(app):
    """Return this node's id (federation derives it from the node's key).

    Without one, a node is ``NODE_ID`` from its config ("local").

    Called once at start-up, after the plugins are loaded.

    Args:
        app (flask.Flask): the node being built.

    Returns:
        str | None: the node's id, or None to leave it to another plugin or the config.

    Example::

        @hookimpl
        def node_id(app):
            return read_identity(app).node_id if has_identity(app) else None
    """


@hookspec(firstresult=True)
def node_labels(node_ids):
    """Return the names this node's administrators gave other nodes, for pages that name
    them (the outbound ledger's recipients) instead of showing their ids.

    Args:
        node_ids (set[str]): the other nodes' ids to name.

    Returns:
        dict[str, str] | None: a name by node id, for those that have one; None to leave it
        to another plugin (a node with no such plugin shows ids).

    Example::

        @hookimpl
        def node_labels(node_ids):
            return {peer.node_id: peer.label for peer in find_peers(node_ids) if peer.label}
    """


@hookspec
def node_initialised(app):
    """Called once by ``rabita init``, after the instance folder, keyring and database exist.

    The node is unlocked while it runs, so keys made now are wrapped by the node key.

    Args:
        app (flask.Flask): the new node (an app context is active).

    Returns:
        None: the return value is ignored.

    Example::

        @hookimpl
        def node_initialised(app):
            create_node_identity(app)
    """


@hookspec
def node_restored(app, taken_at):
    """Called once by ``rabita restore``, after the backup's database is in place and migrated.

    The node's data is as it was when the backup was taken; what it did since is lost here,
    though others may hold it (federation marks the node to take its own feeds back before it
    signs again).

    Args:
        app (flask.Flask): the restored node (an app context is active; the node is locked).
        taken_at (str): when the backup was taken (ISO 8601, UTC).

    Returns:
        None: the return value is ignored.

    Example::

        @hookimpl
        def node_restored(app, taken_at):
            remember_restore(taken_at)
    """


# -- records other nodes shared ---------------------------------------------------------------


@hookspec
def shared_record_received(shared):
    """Called inside the transaction that stores a newer version of a record another node
    shared; derive from it only what may be deleted again.

    Args:
        shared (core.records.SharedRecord): ``origin``, ``record_type``, ``record_id``,
            ``version`` and ``payload`` (the redacted payload as a dict).

    Returns:
        None: the return value is ignored.

    Example::

        @hookimpl
        def shared_record_received(shared):
            if shared.record_type == "notes.note":
                index_shared_note(shared.origin, shared.record_id, shared.payload)
    """


@hookspec
def shared_record_purged(shared):
    """Called inside the transaction that purges a record another node shared (a tombstone,
    an expired consent or a revoked key): delete everything derived from it (indexes, caches).

    Args:
        shared (core.records.SharedRecord): the purged record: act on its ``origin``,
            ``record_type`` and ``record_id`` (its ``payload`` may already be None).

    Returns:
        None: the return value is ignored.

    Example::

        @hookimpl
        def shared_record_purged(shared):
            if shared.record_type == "notes.note":
                unindex_shared_note(shared.origin, shared.record_id)
    """


@hookspec
def public_page_sections(locale):
    """Called when a hub draws its public page (``/public/statistics``, no sign-in): what a
    plugin adds to it — the public calendar of events, the library. The page is the same for
    everyone and cached, so a section holds only what anyone may read, never anything about
    who asks, no link to a signed-in page and no record-level data of a person.

    Args:
        locale (str): the page's language ("ar", "en", "fr"): titles and lines in it.

    Returns:
        list[dict] | None: sections, each ``{"title": str, "lines": list[str]}`` (plain text,
        escaped by the page; at most a few dozen lines), or None to add nothing.

    Example::

        @hookimpl
        def public_page_sections(locale):
            coming = shared.public_events(clock.now(), clock.now() + timedelta(days=90))
            return [{"title": _("Coming events"),
                     "lines": [f"{o.starts_at:%Y-%m-%d} {o.event.title} ({o.event.city})"
                               for o in coming]}]
    """
