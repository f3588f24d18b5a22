"""Whether this node was restored from a backup and has not yet caught up with its own feeds.

A node restored from an archive older than its last sync has signed entries its peers hold and
it no longer does. Signing again from where the archive stops would fork its feeds, and every
peer would quarantine it. So ``rabita restore`` marks the node *restored* (core's
``node_restored`` hook), and from then on the outbox signs nothing (``refuse_while_behind``)
until ``federation.catchup`` has taken its own entries back from its peers and the hub.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, mapped_column

from core import audit, clock
from core.columns import UTCDateTime
from core.extensions import db
from federation import signing

BLOCKER = "federation.feeds_behind"


class FeedsBehind(Exception):
    """This node was restored and has not caught up with its own feeds: it signs no entry."""

    def __init__(self, message: str = "This node was restored from a backup and has not yet "
                 "taken its own feeds back from its peers: it signs nothing until it has "
                 "(rabita federation catch-up)."):
        super().__init__(message)


class Restored(db.Model):
    """One restore of this node: when, from a backup taken when, and when it caught up."""

    __tablename__ = "federation_restored"

    id: Mapped[int] = mapped_column(primary_key=True)
    restored_at: Mapped[datetime] = mapped_column(UTCDateTime)
    backup_taken_at: Mapped[str] = mapped_column(String(32), default="")
    caught_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # How it caught up: "peers" (its entries taken back), or the peers an administrator chose
    # to go on without (their node ids, space-separated, after "peers-without:").
    how: Mapped[str | None] = mapped_column(String(400))


def mark(app, backup_taken_at: str = "") -> Restored | None:
    """Called once the restored database is in place: a node with a federation key signs
    nothing from now on until it caught up. Commits."""
    if not signing.has_identity(app):
        return None
    made = Restored(restored_at=clock.now(), backup_taken_at=backup_taken_at[:32])
    db.session.add(made)
    audit.record("federation.restored", target_type="federation.node")
    db.session.commit()
    return made


def pending() -> Restored | None:
    """The restore not yet caught up with, or None (the usual case)."""
    return db.session.scalar(select(Restored).where(Restored.caught_up_at.is_(None))
                             .order_by(Restored.id).limit(1))


def blockers() -> list[str]:
    """Core's ``share_blockers``: while behind, nothing may be approved or shared (so a
    reviewer's approval is refused before anything is saved)."""
    return [BLOCKER] if pending() is not None else []


def refuse_while_behind() -> None:
    """Raise ``FeedsBehind`` if this node may not sign an entry now."""
    if pending() is not None:
        raise FeedsBehind()
