"""Which process syncs a peer now: one turn per peer at a time, across every app server of a
hub that shares one PostgreSQL database (docs/operations.md, "A hub on several servers").

On PostgreSQL a turn holds a session-level advisory lock, named by the database schema and the
peer, on a connection of its own (outside any transaction and outside the sessions' pool) for
as long as the turn lasts. The database lets one session hold it; a second server's timer, a
'Sync now' or a push hint meets it held and leaves that peer to the turn already running. The
lock goes with its session: a server that dies or loses the database mid-turn leaves no stale
lease, and nothing expires under a long first sync. On SQLite (one server by nature) every
turn may run: it is the simple path the node always had, and one page's unique rows still
refuse a second writer.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from core.extensions import db

# The lock's first key names this database schema's sync turns (two hubs may share one
# database in schemas of their own), the second the peer's id.
_TAKE = text("SELECT pg_try_advisory_lock(hashtext('rabita.sync-turn:' || current_schema()), "
             ":peer_id)")
_GIVE_BACK = text("SELECT pg_advisory_unlock(hashtext('rabita.sync-turn:' || current_schema()), "
                  ":peer_id)")


EXTENSION = "rabita.leases"


@contextmanager
def sync_turn(peer_id: int) -> Iterator[bool]:
    """Hold the turn with ``peer_id`` while the block runs: gives True if this process holds
    it, False if another process (another app server) is syncing that peer now."""
    if db.engine.dialect.name != "postgresql":
        yield True
        return
    connection = _engine().connect().execution_options(isolation_level="AUTOCOMMIT")
    held = False
    try:
        held = bool(connection.scalar(_TAKE, {"peer_id": peer_id}))
        yield held
    finally:
        _give_back(connection, peer_id, held)


def _engine() -> Engine:
    """The app's engine for leases: its own connections, outside the pool the sessions share
    (a round's turns would need twice their number from it), each closed with its turn."""
    app = current_app._get_current_object()
    found = app.extensions.get(EXTENSION)
    if found is None:
        found = app.extensions.setdefault(EXTENSION, create_engine(
            db.engine.url, poolclass=NullPool, hide_parameters=True))
    return found


def _give_back(connection, peer_id: int, held: bool) -> None:
    """Unlock (however the turn ended) and close the connection: its session ends, and a
    lock it might still hold with it."""
    try:
        if held:
            connection.execute(_GIVE_BACK, {"peer_id": peer_id})
    except DBAPIError:
        connection.invalidate()
    finally:
        connection.close()
