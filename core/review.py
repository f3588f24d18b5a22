"""Review before sharing: a reviewer who wrote none of it approves the exact redacted
payload, audience by audience. An edit that changes a payload revokes its approval.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from core import audit, clock, consent, keystore
from core.approvals import current_approval, difference, last_approval
from core.extensions import db
from core.models import Approval, RecordWriter
from core.permissions import REVIEW_RECORDS
from core.plugins import plugin_manager
from core.records import approved_payload, redaction, review_required, seal_payload, type_of


class ReviewError(ValueError):
    """The approval cannot be given; the message says why."""


@dataclass(frozen=True)
class Shareability:
    ok: bool
    reason: str  # a stable code: shareable, no-consent, blocked, not-approved, locked

    def __bool__(self) -> bool:
        return self.ok


def writers_since_approval(record, audience: str) -> set[int | None]:
    """Who wrote the versions of ``record`` that an approval for ``audience`` now covers:
    those since the last approval of an earlier version (every version if none was ever
    approved; approving the current version again covers what its first approval did).
    ``None`` stands for a version no known person wrote."""
    last = db.session.scalar(
        select(func.max(Approval.version))
        .where(Approval.record_type == record.__record_type__,
               Approval.record_uuid == record.uuid, Approval.audience == audience,
               Approval.version < record.version)
    ) or 0
    written = dict(db.session.execute(
        select(RecordWriter.version, RecordWriter.writer_id)
        .where(RecordWriter.record_type == record.__record_type__,
               RecordWriter.record_uuid == record.uuid, RecordWriter.version > last)
    ).all())
    # Versions saved before writers were recorded: the first is its author's, others unknown.
    for version in range(last + 1, record.version + 1):
        written.setdefault(version, record.author_id if version == 1 else None)
    return set(written.values())


def why_not_approver(record, audience: str, reviewer) -> str | None:
    """Why ``reviewer`` may not approve ``record`` for ``audience`` (a sentence), or None.

    An approval means two people: she must not have written any version it would cover,
    and someone else must be known to have written it."""
    if not reviewer.can(REVIEW_RECORDS):
        return str(_l("Only a reviewer can approve what leaves the node."))
    writers = writers_since_approval(record, audience)
    if reviewer.id in writers:
        return str(_l("You wrote or edited this record since it was last approved for this "
                      "audience, so another reviewer must approve it."))
    if not writers - {None}:
        return str(_l("No one else is known to have written this version (sample data, an "
                      "import or a deleted account). A documenter must check and save it "
                      "before it can be approved."))
    return None


def _no_cover(record):
    """Why nothing covers the audience asked for: no consent, or (a record about no
    person, an event) the audience its organiser chose does not include it."""
    if consent.has_data_subject(record):
        return _l("There is no consent for this audience.")
    return _l("The audience its organiser chose does not include this one.")


def approve(record, audience: str, reviewer) -> Approval:
    """Approve what ``audience`` would receive now; commits, then announces it."""
    refusal = why_not_approver(record, audience, reviewer)
    if refusal is not None:
        raise ReviewError(refusal)
    if consent.allows(record, audience) is None:
        raise ReviewError(_no_cover(record))
    prepared = redaction(record, audience)
    if prepared.blocked:
        raise ReviewError(_l("A sharing rule blocks this record for this audience."))
    previous = current_approval(record, audience)
    if previous is not None:
        previous.revoked_at, previous.revoked_because = clock.now(), "replaced"
    _forget_approved_payloads(record, audience)
    approval = Approval(
        record_type=record.__record_type__, record_uuid=record.uuid, audience=audience,
        version=record.version, payload_hash=prepared.payload_hash,
        policy_hash=prepared.policy_hash, approved_by=reviewer.id,
        payload=seal_payload(record, audience, prepared.payload),
    )
    db.session.add(approval)
    db.session.flush()
    audit.record("record.approved", actor=reviewer, target_type=record.__record_type__,
                 target_id=record.uuid, audience=audience, version=record.version)
    db.session.commit()
    plugin_manager().hook.record_approved(record=record, approval=approval)
    return approval


def _forget_approved_payloads(record, audience: str) -> None:
    """Only the newest approval of an audience keeps its payload (to compare with)."""
    db.session.execute(
        update(Approval).where(Approval.record_type == record.__record_type__,
                               Approval.record_uuid == record.uuid,
                               Approval.audience == audience, Approval.payload.is_not(None))
        .values(payload=None)
    )


@dataclass(frozen=True)
class Changed:
    """What changed in the payload for an audience since it was last approved: why the
    approval ended (``payload-changed``: an edit; ``type-changed``: its record type's new
    version) and the differences (``core.approvals.Difference``)."""

    because: str
    version: int  # the record's version that was approved
    differences: tuple


def changed_since_approval(record, audience: str, payload: dict) -> Changed | None:
    """For a record whose last approval for ``audience`` was revoked because its payload
    changed: what differs between the approved payload and ``payload`` (what would leave
    now). None when there is nothing to compare (never approved, approved as it is, or the
    approved payload was not kept)."""
    last = last_approval(record, audience)
    if last is None or last.revoked_because not in ("payload-changed", "type-changed"):
        return None
    before = approved_payload(record, last)
    if before is None:
        return None
    return Changed(last.revoked_because, last.version, tuple(difference(before, payload)))


def shareable(record, audience: str) -> Shareability:
    """May ``record`` leave for ``audience`` now, and if not, why (a stable code)."""
    if consent.allows(record, audience) is None:
        return Shareability(False, "no-consent")
    if not keystore.keystore().unlocked:
        return Shareability(False, "locked")
    prepared = redaction(record, audience)
    if prepared.blocked:
        return Shareability(False, "blocked")
    if review_required(type_of(record)):
        approval = current_approval(record, audience)
        if approval is None or approval.payload_hash != prepared.payload_hash:
            return Shareability(False, "not-approved")
    return Shareability(True, "shareable")
