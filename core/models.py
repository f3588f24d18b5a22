"""Core's tables: users, sessions, the audit log; consent, approvals and the outbound ledger."""

from __future__ import annotations

from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import DDL, Date, ForeignKey, Index, Integer, LargeBinary, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from core import clock
from core.columns import UTCDateTime
from core.extensions import db
from core.instance_seal import SealedBase32
from core.permissions import needs_second_factor, role_can

GENESIS_HASH = "0" * 64
TOTP_SEAL = "core_user.totp_secret"


class User(UserMixin, db.Model):
    __tablename__ = "core_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    locale: Mapped[str | None] = mapped_column(String(8))
    # Sealed under the instance secret: a copy of the database alone gives no second factor.
    totp_secret: Mapped[str | None] = mapped_column(SealedBase32(TOTP_SEAL))
    # The last accepted TOTP time step: a code is accepted once, and never an older one.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.disabled_at is None

    def can(self, permission: str) -> bool:
        return self.is_active and role_can(self.role, permission)

    def needs_second_factor(self) -> bool:
        return needs_second_factor(self.role) or self.totp_secret is not None

    def must_enrol_second_factor(self) -> bool:
        return self.needs_second_factor() and self.totp_secret is None


class Invite(db.Model):
    """A one-time link an admin gives to a new user; only its hash is stored."""

    __tablename__ = "core_invite"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    username: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(20))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RecoveryCode(db.Model):
    """One unused recovery code of a user's second factor, stored only as a keyed hash under
    the instance secret (``core.recovery``); the row is deleted when the code is used."""

    __tablename__ = "core_recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("core_user.id", ondelete="CASCADE"), index=True
    )
    code_mac: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class ServerSession(db.Model):
    """A browser session. The cookie holds a random token; only its SHA-256 is stored."""

    __tablename__ = "core_session"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_user.id", ondelete="CASCADE"), index=True
    )
    data: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class LoginFailure(db.Model):
    """One sign-in attempt counted against an account: written before the password is
    checked (so that the check and the count are one step across workers) and removed when
    the attempt succeeds, so what stays are failures. The account is named only by a keyed
    hash of the username's normal form."""

    __tablename__ = "core_login_failure"
    __table_args__ = (Index("ix_core_login_failure_account_at", "account_key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_key: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditEntry(db.Model):
    """One link of the append-only, hash-chained audit log. Never holds identifying values."""

    __tablename__ = "core_audit_entry"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str | None] = mapped_column(String(64))
    target_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(db.Model):
    """The single row naming the chain's last link; updating it serialises appends."""

    __tablename__ = "core_audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


# The same statements are run by the core migration; keep both in step.
AUDIT_HEAD_SEED = f"INSERT INTO core_audit_head (id, seq, hash) VALUES (1, 0, '{GENESIS_HASH}')"  # noqa: S608
AUDIT_APPEND_ONLY_SQLITE = [
    "CREATE TRIGGER core_audit_entry_no_update BEFORE UPDATE ON core_audit_entry "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    "CREATE TRIGGER core_audit_entry_no_delete BEFORE DELETE ON core_audit_entry "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
]
AUDIT_APPEND_ONLY_POSTGRESQL = [
    "CREATE FUNCTION core_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$",
    "CREATE TRIGGER core_audit_entry_no_change BEFORE UPDATE OR DELETE ON core_audit_entry "
    "FOR EACH ROW EXECUTE FUNCTION core_audit_append_only()",
]

event.listen(AuditHead.__table__, "after_create", DDL(AUDIT_HEAD_SEED))
for _statement in AUDIT_APPEND_ONLY_SQLITE:
    event.listen(
        AuditEntry.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite")
    )
for _statement in AUDIT_APPEND_ONLY_POSTGRESQL:
    event.listen(
        AuditEntry.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql")
    )


class Consent(db.Model):
    """What the defender agreed to for one record: who gave it, to whom it may go, for what."""

    __tablename__ = "core_consent"
    __table_args__ = (Index("ix_core_consent_record", "record_type", "record_uuid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_type: Mapped[str] = mapped_column(String(64))
    record_uuid: Mapped[str] = mapped_column(String(36))
    given_by: Mapped[str] = mapped_column(String(20))  # defender, representative
    method: Mapped[str] = mapped_column(String(20))  # written, oral, message, recorded
    representative: Mapped[str | None] = mapped_column(String(20))  # family, lawyer, ...
    audiences: Mapped[str] = mapped_column(String(100))  # space-separated codes
    purposes: Mapped[str] = mapped_column(String(100))
    obtained_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # withdrawn, expired, superseded — with the withdrawal's reason code when withdrawn
    end: Mapped[str | None] = mapped_column(String(20))
    end_reason: Mapped[str | None] = mapped_column(String(30))
    ended_by: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"))

    @property
    def audience_list(self) -> list[str]:
        return self.audiences.split()

    @property
    def purpose_list(self) -> list[str]:
        return self.purposes.split()


class ConsentEvidence(db.Model):
    """What shows a consent was given: the scanned signed form, or a note of an oral consent
    — sealed under the record's data key (``core.evidence``), never federated."""

    __tablename__ = "core_consent_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    consent_id: Mapped[int] = mapped_column(
        ForeignKey("core_consent.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # scan, note
    content_type: Mapped[str | None] = mapped_column(String(50))
    size: Mapped[int] = mapped_column(Integer, default=0)
    content = mapped_column(LargeBinary, nullable=True, info={"sealed": True})
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class Approval(db.Model):
    """A reviewer's approval of the exact redacted payload of one record for one audience."""

    __tablename__ = "core_approval"
    __table_args__ = (Index("ix_core_approval_record", "record_type", "record_uuid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_type: Mapped[str] = mapped_column(String(64))
    record_uuid: Mapped[str] = mapped_column(String(36))
    audience: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer)
    payload_hash: Mapped[str] = mapped_column(String(64))
    policy_hash: Mapped[str] = mapped_column(String(64))
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_because: Mapped[str | None] = mapped_column(String(30))
    # The approved payload, sealed under the record's data key: what a reviewer compares the
    # payload of a changed record with (``core.approvals.difference``). Dropped when consent ends.
    payload: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class RecordTypeState(db.Model):
    """How far the stored records of a record type were upgraded (``core.records.upgrade``):
    the record type's version they were last brought to."""

    __tablename__ = "core_record_type_state"

    record_type: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    upgraded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class RecordWriter(db.Model):
    """Who wrote one version of a record: what review asks so that an approval means two
    people. ``writer_id`` is None for a version no known person wrote (imports, sample data,
    a deleted account)."""

    __tablename__ = "core_record_writer"
    __table_args__ = (Index("ix_core_record_writer_record", "record_type", "record_uuid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_type: Mapped[str] = mapped_column(String(64))
    record_uuid: Mapped[str] = mapped_column(String(36))
    version: Mapped[int] = mapped_column(Integer)
    writer_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"))
    written_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class LedgerEntry(db.Model):
    """One record version that left the node: to whom, when, under which consent and policy."""

    __tablename__ = "core_ledger_entry"
    __table_args__ = (Index("ix_core_ledger_entry_record", "record_type", "record_uuid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_type: Mapped[str] = mapped_column(String(64))
    record_uuid: Mapped[str] = mapped_column(String(36))
    version: Mapped[int] = mapped_column(Integer)
    audience: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(128))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    payload_hash: Mapped[str] = mapped_column(String(64))
    policy_hash: Mapped[str] = mapped_column(String(64))
    consent_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_consent.id", ondelete="SET NULL")
    )
    receipt: Mapped[str | None] = mapped_column(Text)  # the recipient's signed receipt
    receipt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
