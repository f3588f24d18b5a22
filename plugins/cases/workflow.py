"""A case's way from its documenter to the coalition, as a workflow people can follow.

- **The review queue**: cases whose consent covers an audience that has no approval of the
  current version, unless a reviewer sent this version back. Reviewers see it counted on
  their home page (``dashboard_items``).
- **Sent back**: a reviewer returns a case with a note (sealed with the case's own data key,
  like its identifying values); the documenter reads it on the case; her next save puts the
  case back in the queue.
- **Where it stands and who acts next**, on the case page (``state``).
- **Where it went and whether each holder deleted it** after a withdrawal: the outbound
  ledger's recipients, each with its signed deletion receipt or not (``holders``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Integer, String, func, select
from sqlalchemy.orm import Mapped, mapped_column

from core import audit, clock, consent, keystore, records, references
from core.approvals import current_approval
from core.columns import UTCDateTime
from core.extensions import db
from core.models import Approval, Consent, LedgerEntry, User
from core.plugins import plugin_manager
from core.records import sealed_column
from core.redaction import AUDIENCES

from .models import REFERENCE_PREFIX, Case
from .store import may_open

SENT_BACK = "sent-back"
MAX_NOTE = 4000
AGGREGATE = "public-aggregate"  # counts only: no copy of the case is held


class ReviewNote(db.Model):
    """A reviewer sent a version of a case back, with a note the documenter reads."""

    __tablename__ = "cases_review_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str | None] = mapped_column(String(36), unique=True)  # binds the sealed note
    case_id: Mapped[int] = mapped_column(ForeignKey("cases_case.id", ondelete="CASCADE"),
                                         index=True)
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(20), default=SENT_BACK)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    note = sealed_column()


class NoteRefused(ValueError):
    pass


def send_back(case: Case, reviewer, note: str) -> ReviewNote:
    """Return ``case`` to its documenter with ``note`` (in the current transaction)."""
    note = (note or "").strip()
    if not note:
        raise NoteRefused(_l("Write what the documenter should change."))
    if len(note) > MAX_NOTE:
        raise NoteRefused(_l("The note is too long."))
    row = ReviewNote(case_id=case.id, version=case.version, by_id=reviewer.id, at=clock.now())
    db.session.add(row)
    records.set_identifying(case, row, "note", note)
    audit.record("cases.sent_back", actor=reviewer, target_type="cases.case",
                 target_id=case.uuid, version=case.version)
    return row


def last_note(case: Case) -> ReviewNote | None:
    return db.session.scalar(select(ReviewNote).where(ReviewNote.case_id == case.id)
                             .order_by(ReviewNote.id.desc()))


def note_text(case: Case, note: ReviewNote) -> str | None:
    """The note as written (None while the node is locked)."""
    if not keystore.keystore().unlocked:
        return None
    return records.identifying_value(case, note, "note")


def waiting(case: Case) -> list[str]:
    """The audiences ``case`` waits to be approved for (its consent covers them, and no
    approval covers its current version); none if a reviewer sent this version back."""
    note = last_note(case)
    if note is not None and note.version == case.version:
        return []
    return _unapproved(case)


def _unapproved(case: Case) -> list[str]:
    """The audiences ``case``'s consent covers that no approval of its version covers."""
    found = []
    for audience in AUDIENCES:
        if consent.allows(case, audience) is None:
            continue
        approval = current_approval(case, audience)
        if approval is None or approval.version != case.version:
            found.append(audience)
    return found


@dataclass(frozen=True)
class Queued:
    """What the queue shows of a case and needs to know who may open it (not the case)."""

    COLUMNS = ("id", "uuid", "version", "origin", "restricted", "assigned_to_id",
               "reference_code", "title")

    id: int
    uuid: str
    version: int
    origin: str
    restricted: bool
    assigned_to_id: int | None
    reference_code: str
    title: str  # scrubbed, as lists show it

    @classmethod
    def columns(cls):
        return tuple(getattr(Case, name) for name in cls.COLUMNS)

    @property
    def reference(self) -> str:
        return references.shown(REFERENCE_PREFIX, self.reference_code)


def queue(user) -> list[tuple[Queued, list[str]]]:
    """The cases waiting for a reviewer that ``user`` may open, each with its audiences,
    oldest consent first: what ``waiting`` says of each, worked out in three queries for all
    (a reviewer's home page runs it)."""
    node, today = current_app.config["NODE_ID"], clock.now().date()
    given = db.session.execute(
        select(*Queued.columns(), Consent.audiences, Consent.obtained_on, Consent.expires_on)
        .join(Consent, (Consent.record_uuid == Case.uuid)
              & (Consent.record_type == Case.__record_type__))
        .where(Consent.ended_at.is_(None), Case.origin == node)
        .order_by(Consent.recorded_at, Consent.id)).all()
    if not given:
        return []
    given = [(Queued(*row[:len(Queued.COLUMNS)]), *row[len(Queued.COLUMNS):]) for row in given]
    uuids = {row[0].uuid for row in given}
    approved = {(uuid, audience, version) for uuid, audience, version in db.session.execute(
        select(Approval.record_uuid, Approval.audience, Approval.version)
        .where(Approval.record_type == Case.__record_type__, Approval.record_uuid.in_(uuids),
               Approval.revoked_at.is_(None)))}
    newest = select(func.max(ReviewNote.id)).group_by(ReviewNote.case_id)
    sent_back = {(case_id, version) for case_id, version in db.session.execute(
        select(ReviewNote.case_id, ReviewNote.version).where(ReviewNote.id.in_(newest)))}
    found, seen = [], set()
    for case, audiences, obtained_on, expires_on in given:
        if case.id in seen or (case.id, case.version) in sent_back:
            continue
        seen.add(case.id)
        if obtained_on > today or (expires_on is not None and expires_on <= today):
            continue
        audiences = [audience for audience in AUDIENCES if audience in audiences.split()
                     and (case.uuid, audience, case.version) not in approved]
        if audiences and may_open(case, user):
            found.append((case, audiences))
    return found


@dataclass(frozen=True)
class State:
    """Where a case stands: ``stage`` (a code) and its words, and who acts next."""

    stage: str
    said: str
    next_by: str
    note: ReviewNote | None = None


def state(case: Case) -> State:
    given = consent.current(case)
    note = last_note(case)
    if given is None:
        ended = db.session.scalar(select(func.count()).select_from(Consent).where(
            Consent.record_type == case.__record_type__, Consent.record_uuid == case.uuid))
        if ended:
            return State("withdrawn", str(_l("Consent ended: the case is not shared, and its "
                                             "holders are asked to delete their copies.")),
                         str(_l("No one: the holders delete their copies.")))
        return State("private", str(_l("Kept on this node only: no consent to share.")),
                     str(_l("The documenter, if the defender agrees to share it: record her "
                            "consent.")))
    if note is not None and note.version == case.version:
        return State(SENT_BACK, str(_l("Sent back by a reviewer.")),
                     str(_l("The documenter: change what the note asks, then save.")), note)
    if _unapproved(case):  # waiting: the note was not about this version (above)
        return State("waiting", str(_l("Waiting for review.")),
                     str(_l("A reviewer who did not write it.")))
    if _sent(case):
        return State("shared", str(_l("Approved and shared.")),
                     str(_l("No one: partner nodes take it at their next sync.")))
    return State("approved", str(_l("Approved: it leaves at the next sync.")),
                 str(_l("No one: partner nodes take it at their next sync; an administrator "
                        "can sync now.")))


def _sent(case: Case) -> bool:
    return db.session.scalar(select(LedgerEntry.id).where(
        LedgerEntry.record_type == case.__record_type__, LedgerEntry.record_uuid == case.uuid,
        LedgerEntry.version == case.version, LedgerEntry.audience != AGGREGATE)
        .limit(1)) is not None


@dataclass(frozen=True)
class Holder:
    name: str  # the label its administrator chose, or its id's start
    node_id: str
    last_version: int
    sent_at: datetime
    deleted_at: datetime | None  # its signed deletion receipt arrived


def holders(case: Case) -> list[Holder]:
    """Every node a copy of ``case`` went to (the outbound ledger; counts alone are not a
    copy), and whether its signed receipt says it deleted it."""
    rows = db.session.execute(
        select(LedgerEntry.recipient, func.max(LedgerEntry.version),
               func.max(LedgerEntry.sent_at))
        .where(LedgerEntry.record_type == case.__record_type__,
               LedgerEntry.record_uuid == case.uuid, LedgerEntry.audience != AGGREGATE)
        .group_by(LedgerEntry.recipient)).all()
    names = _peer_names([row[0] for row in rows])
    found = []
    for recipient, version, sent_at in rows:
        latest = db.session.scalar(select(func.max(LedgerEntry.receipt_at)).where(
            LedgerEntry.record_type == case.__record_type__,
            LedgerEntry.record_uuid == case.uuid, LedgerEntry.recipient == recipient,
            LedgerEntry.version == version))
        found.append(Holder(names.get(recipient) or recipient[:12], recipient, version, sent_at,
                            latest))
    return sorted(found, key=lambda holder: holder.name)


def _peer_names(node_ids: list[str]) -> dict[str, str]:
    """The names administrators gave the holders (federation's peers), where known."""
    if not node_ids:
        return {}
    return plugin_manager().hook.node_labels(node_ids=set(node_ids)) or {}


def reviewer_names(case: Case) -> dict[int, str]:
    """Who approved it, by name (the case page says who did what)."""
    return dict(db.session.execute(
        select(User.id, User.username).join(Approval, Approval.approved_by == User.id)
        .where(Approval.record_type == case.__record_type__,
               Approval.record_uuid == case.uuid)).all())


def name_of(user_id: int | None) -> str:
    user = db.session.get(User, user_id) if user_id else None
    return user.username if user is not None else "—"
