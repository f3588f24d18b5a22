"""Approvals as rows: the current one for a record and an audience, and ending them when
the payload they approved changes or the consent they relied on ends.

Below both the record layer (a save revokes what it changed) and consent (an ended consent
ends its approvals); ``core.review`` decides who may approve, on top of them.
"""

from __future__ import annotations

from collections.abc import Callable

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


def revoke_if_changed(record, payload_hash: Callable[[str], str]) -> list[Approval]:
    """After an edit (in its transaction): revoke the approvals of ``record`` whose payload
    no longer matches; ``payload_hash(audience)`` is the hash of what it would send now."""
    approvals = list(db.session.scalars(
        select(Approval).where(Approval.record_type == record.__record_type__,
                               Approval.record_uuid == record.uuid,
                               Approval.revoked_at.is_(None))
    ))
    revoked = []
    for approval in approvals:
        if payload_hash(approval.audience) != approval.payload_hash:
            approval.revoked_at, approval.revoked_because = clock.now(), "payload-changed"
            audit.record("record.approval_revoked", target_type=record.__record_type__,
                         target_id=record.uuid, audience=approval.audience,
                         because="payload-changed")
            revoked.append(approval)
    return revoked


def revoke_for_consent(ended) -> None:
    """When a consent ends, its approvals end with it: a new consent needs a new review."""
    for approval in db.session.scalars(
        select(Approval).where(Approval.record_type == ended.record_type,
                               Approval.record_uuid == ended.record_uuid,
                               Approval.revoked_at.is_(None))
    ):
        approval.revoked_at, approval.revoked_because = clock.now(), f"consent-{ended.end}"
