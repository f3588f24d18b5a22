"""Federation's tables: peers, keys, this node's outbox, what it received and holds.

Nothing here holds an identifying value: payloads are what redaction let leave a node, and
peers are named by node ids (hashes of public keys) and the label an administrator chose.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    DDL,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column

from core import clock
from core.columns import UTCDateTime
from core.extensions import db

# Peer states: a pairing request waiting for this node's approval, approved, removed.
REQUESTED, APPROVED, REMOVED = "requested", "approved", "removed"


class Peer(db.Model):
    """A node this one pairs with (a partner node or the hub)."""

    __tablename__ = "federation_peer"

    id: Mapped[int] = mapped_column(primary_key=True)
    node_id: Mapped[str] = mapped_column(String(32), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    url: Mapped[str] = mapped_column(String(300), default="")
    role: Mapped[str] = mapped_column(String(10), default="node")
    state: Mapped[str] = mapped_column(String(12))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by: Mapped[int | None] = mapped_column(
        ForeignKey("core_user.id", ondelete="SET NULL")
    )
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(40))
    # The circuit breaker: consecutive failed rounds, and until when the peer is rested.
    failures: Mapped[int] = mapped_column(Integer, default=0)
    open_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hinted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # it said: pull me now
    hint_sent_heads: Mapped[str] = mapped_column(String(200), default="{}")
    # When this peer's turn in the running sync round began; None between turns.
    turn_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Which way records go (federation.push): None decides from what is known; "both" (each
    # fetches from the other), "send" (it cannot reach us: we send it our feed) or
    # "receive" (we cannot reach it: it sends us its feed). Set by an administrator, at
    # pairing, or learned from the peer's first push.
    direction: Mapped[str | None] = mapped_column(String(10))
    pushed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # its last push to us

    @property
    def approved(self) -> bool:
        return self.state == APPROVED

    @property
    def is_hub(self) -> bool:
        return self.role == "hub"


class Key(db.Model):
    """A public key of another node, and when it may sign."""

    __tablename__ = "federation_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    origin: Mapped[str] = mapped_column(String(32), index=True)
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # How it became known: pairing, a key entry of its node, or a hub's vouching.
    source: Mapped[str] = mapped_column(String(10))
    vouched_by: Mapped[str | None] = mapped_column(String(32))


class EntryColumns:
    """What every stored entry keeps: its place in a feed, what it speaks of, the signed
    canonical text and signature, and its payload (None once purged)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    feed: Mapped[str] = mapped_column(String(8))
    seq: Mapped[int] = mapped_column(Integer)
    entry_hash: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(10))
    record_type: Mapped[str | None] = mapped_column(String(64))
    record_id: Mapped[str | None] = mapped_column(String(36))
    version: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    entry: Mapped[str] = mapped_column(Text)  # the canonical text that was signed
    sig: Mapped[str] = mapped_column(String(88))
    payload: Mapped[str | None] = mapped_column(Text)  # purged (None) after a tombstone


class OutboxEntry(EntryColumns, db.Model):
    """An entry of this node's own feeds (one hash chain per audience)."""

    __tablename__ = "federation_outbox"
    __table_args__ = (
        UniqueConstraint("feed", "seq", name="uq_federation_outbox_feed_seq"),
        Index("ix_federation_outbox_record", "record_type", "record_id"),
    )

    payload_hash: Mapped[str | None] = mapped_column(String(64))
    policy_hash: Mapped[str | None] = mapped_column(String(64))
    consent_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_consent.id", ondelete="SET NULL")
    )


class ReceivedEntry(EntryColumns, db.Model):
    """An entry of another origin, as received (directly, through a hub, or in a bundle)."""

    __tablename__ = "federation_entry"
    __table_args__ = (
        UniqueConstraint("origin", "feed", "seq", name="uq_federation_entry_origin_feed_seq"),
        Index("ix_federation_entry_record", "origin", "record_id"),
    )

    origin: Mapped[str] = mapped_column(String(32))
    key_id: Mapped[str] = mapped_column(String(32))
    relay: Mapped[bool] = mapped_column(Boolean, default=False)
    received_from: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set when a later revocation shows the entry was signed by a key no longer trusted.
    invalid_reason: Mapped[str | None] = mapped_column(String(30))


class HeldRecord(db.Model):
    """What this node holds of one shared record: its newest version, or its tombstone."""

    __tablename__ = "federation_record"
    __table_args__ = (
        UniqueConstraint("origin", "record_id", name="uq_federation_record_origin_record_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    origin: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[str] = mapped_column(String(36))
    record_type: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    feed: Mapped[str] = mapped_column(String(8))
    seq: Mapped[int] = mapped_column(Integer)  # the entry (origin, feed, seq) now held
    expires_on: Mapped[date | None] = mapped_column(Date)
    tombstoned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    tombstone_reason: Mapped[str | None] = mapped_column(String(12))
    # The held payload's words and facets, for the list's search and filters
    # (federation.shared): " word word ... " folded, " country=TN violation=threats ... ".
    # None while no payload of it is held (a tombstone, a purge).
    words: Mapped[str | None] = mapped_column(Text)
    facets: Mapped[str | None] = mapped_column(Text)

    @property
    def payload(self) -> str | None:
        """The held payload's JSON text (None once purged)."""
        return db.session.scalar(
            select(ReceivedEntry.payload).where(ReceivedEntry.origin == self.origin,
                                                ReceivedEntry.feed == self.feed,
                                                ReceivedEntry.seq == self.seq)
        )


class Chain(db.Model):
    """How far this node has followed one origin's feed: the last entry it accepted."""

    __tablename__ = "federation_chain"
    __table_args__ = (UniqueConstraint("origin", "feed", name="uq_federation_chain_origin_feed"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    origin: Mapped[str] = mapped_column(String(32))
    feed: Mapped[str] = mapped_column(String(8))
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))
    last_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Cursor(db.Model):
    """Where this node's pull of one peer's feed stands; written with the entries it covers."""

    __tablename__ = "federation_cursor"
    __table_args__ = (UniqueConstraint("peer_id", "feed", name="uq_federation_cursor_peer_feed"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    peer_id: Mapped[int] = mapped_column(ForeignKey("federation_peer.id", ondelete="CASCADE"))
    feed: Mapped[str] = mapped_column(String(8))
    after: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))  # for the relay feed: its link
    remote_head: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PushCursor(db.Model):
    """How far a peer acknowledged storing this node's feed that this node pushes to it;
    moved only by a verified acknowledgement (federation.push)."""

    __tablename__ = "federation_push_cursor"
    __table_args__ = (
        UniqueConstraint("peer_id", "feed", name="uq_federation_push_cursor_peer_feed"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    peer_id: Mapped[int] = mapped_column(ForeignKey("federation_peer.id", ondelete="CASCADE"))
    feed: Mapped[str] = mapped_column(String(8))
    after: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RelayItem(db.Model):
    """A hub's relay feed: member entries passed on unchanged, in the hub's own order."""

    __tablename__ = "federation_relay"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("federation_entry.id", ondelete="CASCADE"), unique=True
    )
    link: Mapped[str] = mapped_column(String(64))  # SHA-256 of the previous link + entry hash


class Nonce(db.Model):
    """A signature nonce already accepted, kept until its signature expires."""

    __tablename__ = "federation_nonce"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Receipt(db.Model):
    """A holder's signed deletion receipt: made here, received, or passed on by a hub."""

    __tablename__ = "federation_receipt"

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_hash: Mapped[str] = mapped_column(String(64), unique=True)
    holder: Mapped[str] = mapped_column(String(32))
    origin: Mapped[str] = mapped_column(String(32), index=True)
    record_type: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[str] = mapped_column(String(36))
    version: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    envelope: Mapped[str] = mapped_column(Text)
    deliver_to: Mapped[str | None] = mapped_column(String(32), index=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Quarantine(db.Model):
    """An origin whose feed showed a gap or a fork: nothing more is taken from it."""

    __tablename__ = "federation_quarantine"

    id: Mapped[int] = mapped_column(primary_key=True)
    origin: Mapped[str] = mapped_column(String(32), unique=True)
    reason: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    seen_from: Mapped[str | None] = mapped_column(String(32))


class OutboxHead(db.Model):
    """The last entry of each of this node's feeds (and a hub's relay feed); updating it
    serialises appends."""

    __tablename__ = "federation_outbox_head"

    feed: Mapped[str] = mapped_column(String(8), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# The same rows are inserted by federation's first migration; keep both in step.
OUTBOX_HEAD_SEED = (
    "INSERT INTO federation_outbox_head (feed, seq, hash) VALUES "
    "('peers', 0, '" + "0" * 64 + "'), ('hub', 0, '" + "0" * 64 + "'), "
    "('relay', 0, '" + "0" * 64 + "')"
)
event.listen(OutboxHead.__table__, "after_create", DDL(OUTBOX_HEAD_SEED))
