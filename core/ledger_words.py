"""The outbound ledger as people read it: one row per sending (a record version to one
recipient for one audience), each part in words — what the record is and its reference, the
audience, the recipient by the name its administrator gave it, and what its receipt means:
a receipt is a holder's signed word that it *deleted* the record, so a record still shared
has none to await; one withdrawn awaits it, until it arrives."""

from __future__ import annotations

from collections import defaultdict

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.extensions import db
from core.forms import AUDIENCE_LABELS
from core.models import Consent, LedgerEntry
from core.plugins import plugin_manager
from core.records import record_types

AGGREGATE = "public-aggregate"
HELD = _l("held: no deletion asked")
AWAITED = _l("withdrawn: deletion not yet confirmed")
COUNTS_ONLY = _l("counts only: nothing to delete")


def shown(entries: list[LedgerEntry]) -> list[dict]:
    """``entries`` (newest first) as the ledger page lists them, a sending once."""
    kept, seen = [], set()
    for entry in entries:
        key = (entry.record_type, entry.record_uuid, entry.version, entry.audience,
               entry.recipient)
        if key not in seen:
            seen.add(key)
            kept.append(entry)
    references = _references(kept)
    names = _recipient_names({entry.recipient for entry in kept})
    covered = _covered({entry.record_uuid for entry in kept})
    rows = []
    for entry in kept:
        known = _known(entry.record_type)
        withdrawn = entry.record_uuid not in covered and (known is None or known.data_subject)
        rows.append({
            "entry": entry,
            "what": str(known.label) if known is not None and known.label else
            entry.record_type,
            "reference": references.get((entry.record_type, entry.record_uuid))
            or entry.record_uuid[:8],
            "audience": str(AUDIENCE_LABELS.get(entry.audience, entry.audience)),
            "recipient": names.get(entry.recipient) or entry.recipient[:12],
            "receipt": None if entry.receipt_at else str(
                COUNTS_ONLY if entry.audience == AGGREGATE else
                AWAITED if withdrawn else HELD),
        })
    return rows


def _references(entries: list[LedgerEntry]) -> dict[tuple[str, str], str]:
    """Each record's reference (C-…), for the record types whose model has one."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for entry in entries:
        wanted[entry.record_type].add(entry.record_uuid)
    found = {}
    for name, uuids in wanted.items():
        known = _known(name)
        model = known.model if known is not None else None
        if model is None or not hasattr(model, "reference"):
            continue
        for record in db.session.scalars(select(model).where(model.uuid.in_(uuids))):
            found[(name, record.uuid)] = record.reference
    return found


def _known(name: str):
    registry = record_types()
    return registry.get(name) if name in registry else None


def _covered(uuids: set[str]) -> set[str]:
    """The records among ``uuids`` with a consent in force (the others were withdrawn, or
    ended: their holders are asked to delete them)."""
    if not uuids:
        return set()
    return set(db.session.scalars(select(Consent.record_uuid).where(
        Consent.record_uuid.in_(uuids), Consent.ended_at.is_(None))))


def _recipient_names(node_ids: set[str]) -> dict[str, str]:
    """The names administrators gave the recipients (federation's peers), where known."""
    if not node_ids:
        return {}
    return plugin_manager().hook.node_labels(node_ids=node_ids) or {}
