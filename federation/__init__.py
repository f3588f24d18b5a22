"""Federation between nodes (docs/federation.md), a built-in plugin. This file is the table of
contents: the hooks by which federation joins a node. Each module's docstring says its one
concern (``signing`` alone holds private keys, ``client`` alone speaks HTTP)."""

from flask_babel import lazy_gettext as _l

from core.dashboard import NavItem
from core.hookspecs import hookimpl
from federation import (  # noqa: F401 (pages)
    operations,
    outbox,
    sealing,
    signing,
    statistics,
    statistics_views,
    sync_now,
    takedown,
)
from federation import shared as shared_records
from federation.cli import COMMANDS
from federation.permissions import MANAGE, PERMISSIONS, READ_SHARED
from federation.settings import SETTINGS, is_hub
from federation.views import blueprint


@hookimpl
def register_blueprints():
    return [blueprint]  # statistics_views adds its pages to it


@hookimpl
def register_commands():
    return COMMANDS


@hookimpl
def register_settings():
    return SETTINGS + statistics.SETTINGS


@hookimpl
def register_permissions():
    return PERMISSIONS


@hookimpl
def navigation_items(user):
    items = [NavItem(_l("Shared with us"), "federation.shared_page", READ_SHARED, order=70),
             NavItem(_l("Partner nodes"), "federation.peers_page", MANAGE, order=80)]
    if is_hub():  # the hub's pages: a member node has no statistics to show
        items += [NavItem(_l("Statistics"), "federation.statistics_page", READ_SHARED, order=72),
                  NavItem(_l("Hub operations"), "federation.operations_page", MANAGE, order=82)]
    return items


@hookimpl
def node_id(app):
    return signing.identity(app).node_id if signing.has_identity(app) else None


@hookimpl
def node_labels(node_ids):
    return shared_records.origin_names(node_ids)


@hookimpl
def node_initialised(app):
    app.config["NODE_ID"] = signing.create_identity(app).node_id


@hookimpl
def record_approved(record, approval):
    outbox.share(record, approval.audience)
    sealing.seal_pending([record.uuid])  # for the hub to relay, if its consent leaves it out


@hookimpl
def record_saved(record, user):
    outbox.share_all(record)  # record types shared without review, and edits
    sealing.seal_pending([record.uuid])


@hookimpl
def shared_record_purged(shared):
    statistics.forget(shared.origin, shared.record_id)
    shared_records.forget(shared.origin, shared.record_id)


@hookimpl
def consent_recorded(consent):
    outbox.share_consented(consent)
    sealing.seal_pending([consent.record_uuid])


@hookimpl
def consent_ended(consent, reason):
    outbox.consent_ended(consent, reason)
