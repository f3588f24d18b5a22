"""Approvals as rows: the current one for a record and an audience, and ending them when
the payload they approved changes or the consent they relied on ends.

Below both the record layer (a save revokes what it changed) and consent (an ended consent
ends its approvals); ``core.review`` decides who may approve, on top of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from core import audit, clock
from core.extensions import db
from core.models import Approval


def current_approval(record, audience: str) -> Approval | None:
    return db.session.scalar(
        select(Approval)
        .where(Approval.record_type == record.__record_type__,
               Approval.record_uuid == record.uuid, Approval.audience == audience,
               Approval.revoked_at.is_(None))
        .order_by(Approval.id.desc())
    )


def revoke_if_changed(record, payload_hash: Callable[[str], str], *,
                      because: str = "payload-changed") -> list[Approval]:
    """After an edit (in its transaction): revoke the approvals of ``record`` whose payload
    no longer matches; ``payload_hash(audience)`` is the hash of what it would send now.
    ``because``: ``payload-changed`` (an edit) or ``type-changed`` (its record type's new
    version, ``core.records.upgrade``). A revoked approval keeps its payload, which the
    review page compares with the new one (``difference``)."""
    approvals = list(db.session.scalars(
        select(Approval).where(Approval.record_type == record.__record_type__,
                               Approval.record_uuid == record.uuid,
                               Approval.revoked_at.is_(None))
    ))
    revoked = []
    for approval in approvals:
        if payload_hash(approval.audience) != approval.payload_hash:
            approval.revoked_at, approval.revoked_because = clock.now(), because
            audit.record("record.approval_revoked", target_type=record.__record_type__,
                         target_id=record.uuid, audience=approval.audience, because=because)
            revoked.append(approval)
    return revoked


def revoke_for_consent(ended, standing: frozenset[str] = frozenset()) -> None:
    """When a consent ends, its approvals end with it: a new consent needs a new review, and
    the payloads they kept are dropped (nothing of what it allowed to leave stays here).
    ``standing``: the audiences whose approval stands because the consent replacing it only
    narrows it (``core.consent.narrows``: nothing new leaves, so there is nothing to review)."""
    for approval in db.session.scalars(
        select(Approval).where(Approval.record_type == ended.record_type,
                               Approval.record_uuid == ended.record_uuid)
    ):
        if approval.revoked_at is None and approval.audience in standing:
            continue
        if approval.revoked_at is None:
            approval.revoked_at, approval.revoked_because = clock.now(), f"consent-{ended.end}"
        approval.payload = None


def last_approval(record, audience: str) -> Approval | None:
    """The newest approval of ``record`` for ``audience``, revoked or not."""
    return db.session.scalar(
        select(Approval)
        .where(Approval.record_type == record.__record_type__,
               Approval.record_uuid == record.uuid, Approval.audience == audience)
        .order_by(Approval.id.desc())
    )


@dataclass(frozen=True)
class Difference:
    """One value that differs between an approved payload and the payload now: its dotted
    path (list items numbered from 1) and the two values (None: absent)."""

    path: str
    before: Any
    after: Any


def difference(before: Mapping, after: Mapping) -> list[Difference]:
    """What differs between two payloads, value by value, in the order of their fields."""
    found: list[Difference] = []
    _differ(before, after, "", found)
    return found


def _differ(before: Any, after: Any, path: str, found: list[Difference]) -> None:
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        for name in [*before, *(name for name in after if name not in before)]:
            _differ(before.get(name), after.get(name), f"{path}{name}.", found)
    elif _parts(before) and _parts(after):
        for index in range(max(len(before), len(after))):
            _differ(before[index] if index < len(before) else None,
                    after[index] if index < len(after) else None, f"{path}{index + 1}.", found)
    elif before != after:
        found.append(Difference(path.rstrip("."), before, after))


def _parts(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, Mapping) for item in value)
