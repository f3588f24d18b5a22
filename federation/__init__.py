"""Federation between nodes (see docs/federation.md); joins the app as a built-in plugin.

This file is the table of contents: the hooks by which federation joins a node. The work is
done in one module per concern: ``signing`` (the only one with private keys), ``identity``,
``protocol``, ``transport``, ``client`` (the only HTTP client), ``incoming``, ``outbox``,
``inbox``, ``peers``, ``sync``, ``receipts``, ``hub``, ``bundles``, ``shared`` (what partners
shared, for people to read).
"""

from flask_babel import lazy_gettext as _l

from core.dashboard import NavItem
from core.hookspecs import hookimpl
from core.permissions import ADMIN, DOCUMENTER, MEMBER, REVIEWER, Permission

MANAGE = "federation.manage"
READ_SHARED = "federation.read_shared"


@hookimpl
def register_blueprints():
    from federation.views import blueprint

    return [blueprint]


@hookimpl
def register_commands():
    from federation.cli import COMMANDS

    return COMMANDS


@hookimpl
def register_settings():
    from federation.settings import SETTINGS

    return SETTINGS


@hookimpl
def register_permissions():
    return [
        Permission(MANAGE, _l("Pair with other nodes and the hub, and watch their sync"),
                   {ADMIN}),
        Permission(READ_SHARED, _l("Read the redacted records partner nodes shared"),
                   {ADMIN, REVIEWER, DOCUMENTER, MEMBER}),
    ]


@hookimpl
def navigation_items(user):
    return [NavItem(_l("Shared with us"), "federation.shared_page", READ_SHARED, order=70),
            NavItem(_l("Partner nodes"), "federation.peers_page", MANAGE, order=80)]


@hookimpl
def node_id(app):
    from federation import signing

    return signing.identity(app).node_id if signing.has_identity(app) else None


@hookimpl
def node_initialised(app):
    from federation import signing

    app.config["NODE_ID"] = signing.create_identity(app).node_id


@hookimpl
def record_approved(record, approval):
    from federation import outbox

    outbox.share(record, approval.audience)


@hookimpl
def record_saved(record, user):
    from federation import outbox

    outbox.share_all(record)  # record types shared without review, and edits


@hookimpl
def consent_recorded(consent):
    from federation import outbox

    outbox.share_consented(consent)


@hookimpl
def consent_ended(consent, reason):
    from federation import outbox

    outbox.consent_ended(consent, reason)
