"""Purged bytes gone from the database's files, not only from its rows.

A purge (a tombstone applied, a consent expired, a revoked key's entries dropped) empties
columns; SQLite keeps the old bytes in its write-ahead log until a checkpoint copies the WAL
back, and in the database file's free space until it is reused. So every SQLite connection
runs with ``secure_delete`` on (``core.sqlite_tuning``: freed space is overwritten with
zeros), and a transaction that purges says so (``purging()``): once it commits, the WAL is
checkpointed into the database and truncated to nothing (``PRAGMA wal_checkpoint(TRUNCATE)``).
What was purged can then no longer be read from the files. PostgreSQL keeps dead row versions
until VACUUM reclaims them (docs/confidentiality.md says what holds there).
"""

from __future__ import annotations

import time

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from core.extensions import db

PURGING = "core.erasure.purging"
ATTEMPTS = 20  # a reader in another process may hold the WAL for a moment
PAUSE = 0.05  # seconds between attempts


def purging(session: Session | None = None) -> None:
    """Say the current transaction purges something: once it commits, the purged bytes are
    taken out of the database files too (nothing is done if it rolls back)."""
    (session or db.session()).info[PURGING] = True


def truncate_wal(engine: Engine) -> bool:
    """Checkpoint SQLite's write-ahead log into the database and truncate it to zero bytes.
    Returns True once done (always, for PostgreSQL: nothing to do); False if other
    connections kept reading the log through every attempt (the next purge tries again)."""
    if engine.dialect.name != "sqlite":
        return True
    connection = engine.raw_connection()
    try:
        for _ in range(ATTEMPTS):
            cursor = connection.cursor()
            busy, _log, _copied = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            cursor.close()
            if not busy:
                return True
            time.sleep(PAUSE)
        return False
    finally:
        connection.close()


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(PURGING, False):
        truncate_wal(session.get_bind())


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, _previous) -> None:
    if not session.in_transaction():
        session.info.pop(PURGING, None)
