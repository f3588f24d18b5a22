"""Federation between nodes (docs/federation.md), a built-in plugin. This file is the table of
contents: the hooks by which federation joins a node. Each module's docstring says its one
concern (``signing`` alone holds private keys, ``client`` alone speaks HTTP)."""

from core.hookspecs import hookimpl
from federation import (  # noqa: F401 (pages)
    operations,
    outbox,
    restored,
    sealing,
    signing,
    statistics,
    statistics_views,
    sync_now,
    takedown,
)
from federation import shared as shared_records
from federation.cli import COMMANDS
from federation.permissions import PERMISSIONS
from federation.settings import SETTINGS
from federation.views import blueprint, navigation


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
    return navigation()


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
def node_restored(app, taken_at):
    restored.mark(app, taken_at)  # it signs nothing until it took its feeds back (catchup)


@hookimpl
def share_blockers(record, audience):
    return restored.blockers()  # a restored node shares nothing before it caught up


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
