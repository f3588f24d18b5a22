"""A sync round with many peers at once (a hub and its members): each peer's turn runs on one of
a bounded number of threads, the least recently synced peers first, and one peer that is slow
or down holds only its own thread.

Each thread has its own app context, so its own database session and connection. One thread at
a time uses the database (it holds the round's *desk*); it gives the desk up while it waits on
the network — a request, an answer, a backoff — so the other turns go on meanwhile. So SQLite's
one writer is never contended within the round, and on PostgreSQL the hub's shared rows (its
relay feed's sequence, its counts, the audit chain) are written by one transaction at a time.
Python runs one thread at a time anyway: what the threads overlap is waiting. The signatures of
every page go to the process's one checking pool (``federation.signatures``), whichever thread
read it. A turn holds its peer's lease (``federation.leases``): on a hub with several app
servers, two rounds never sync one peer at once. docs/federation.md ("Sync", "A hub with many
members").
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import update

from core import clock
from core.extensions import db
from federation import client, leases
from federation.models import Peer
from federation.reasons import REASONS
from federation.settings import setting

T = TypeVar("T")
NEVER = datetime.min.replace(tzinfo=UTC)
UNEXPECTED = "internal-error"  # what a turn that failed in this node's own code records

log = logging.getLogger(__name__)


def order(peers: list[Peer]) -> list[Peer]:
    """The peers in the order their turns start: the one whose last attempt is the oldest
    first (never tried: first of all), then by id. A round cut short (the process stopped, the
    machine rebooted) is taken up the next time where it left off, so no peer starves."""
    return sorted(peers, key=lambda peer: (peer.last_attempt_at or NEVER, peer.id))


def workers() -> int:
    """``FEDERATION_SYNC_WORKERS``, at least one."""
    return max(1, setting("FEDERATION_SYNC_WORKERS"))


def run(peers: list[Peer], turn: Callable[[Peer], T], failed: Callable[[Peer, str], T], *,
        busy: Callable[[Peer], T]) -> list[T]:
    """Run ``turn`` for each peer, ``workers()`` at a time, the least recently synced first;
    return what each gave, in the order the turns started. With several peers, a turn that
    raises is rolled back, ``failed(peer, code)`` says what it gave instead and the others go
    on; a round with one peer runs in this thread and lets what it raises through. A peer
    whose turn another process is running now (``federation.leases``: another app server)
    is left to it: ``busy(peer)`` says what it gave."""
    ordered = order(peers)
    if len(ordered) == 1:
        return [_in_turn(ordered[0].id, turn, None, busy)]
    count = min(workers(), len(ordered))
    if count <= 1:  # one worker, or no peer at all
        return [_in_turn(peer.id, turn, failed, busy) for peer in ordered]
    ids = [peer.id for peer in ordered]
    db.session.commit()  # this thread holds nothing of the database while the workers write
    app, desk = current_app._get_current_object(), Desk()
    with ThreadPoolExecutor(count, thread_name_prefix="rabita-sync") as pool:
        started = [pool.submit(_in_thread, app, desk, peer_id, turn, failed, busy)
                   for peer_id in ids]
        return [future.result() for future in started]


def _in_thread(app: Flask, desk: Desk, peer_id: int, turn: Callable[[Peer], T],
               failed: Callable[[Peer, str], T], busy: Callable[[Peer], T]) -> T:
    """One peer's turn in a worker thread: its own app context (its own session), at the
    desk except while it waits on the network. What it gives has its peer loaded: the caller
    reads it after this thread's session is gone."""
    with app.app_context(), desk.seat():
        result = _in_turn(peer_id, turn, failed, busy)
        peer = getattr(result, "peer", None)
        if peer is not None:
            db.session.refresh(peer)
        return result


def _in_turn(peer_id: int, turn: Callable[[Peer], T],
             failed: Callable[[Peer, str], T] | None, busy: Callable[[Peer], T]) -> T:
    """``turn`` holding the peer's lease, ``busy``'s result if another process holds it."""
    with leases.sync_turn(peer_id) as ours:
        if not ours:
            return busy(db.session.get(Peer, peer_id))
        return _leased_turn(peer_id, turn, failed)


def _leased_turn(peer_id: int, turn: Callable[[Peer], T],
                 failed: Callable[[Peer, str], T] | None) -> T:
    """``turn`` with the peer marked as syncing meanwhile; a failure of this node's own code
    becomes ``failed``'s result (unless there is no ``failed``: then it is raised)."""
    peer = db.session.get(Peer, peer_id)
    begin(peer)
    try:
        result = turn(peer)
    except Exception as error:
        if failed is None:
            raise
        db.session.rollback()
        log.warning("A sync turn failed in this node's own code (%s); the round goes on.",
                    type(error).__name__)
        result = failed(db.session.get(Peer, peer_id), UNEXPECTED)
    finally:
        end(peer_id)
    return result


def begin(peer: Peer) -> None:
    """Mark ``peer`` as syncing now (the operations page shows it). Commits."""
    _mark(peer.id, clock.now())


def end(peer_id: int) -> None:
    """The turn is over, however it ended (what it left uncommitted is rolled back). Commits."""
    db.session.rollback()
    _mark(peer_id, None)


def _mark(peer_id: int, moment: datetime | None) -> None:
    # One statement, not the ORM's load and flush: a round with nothing new is mostly this.
    db.session.execute(update(Peer).where(Peer.id == peer_id)
                       .values(turn_started_at=moment).execution_options(
                           synchronize_session=False))
    db.session.commit()


class Desk:
    """The database, for one thread at a time: a thread sits at it while it works and gets up
    while it waits on the network (``client.waiting``), so another can sit down."""

    def __init__(self):
        self._lock = threading.Lock()

    @contextmanager
    def seat(self) -> Iterator[None]:
        with self._lock:
            token = client.waiting.set(self.away)
            try:
                yield
            finally:
                client.waiting.reset(token)

    @contextmanager
    def away(self) -> Iterator[None]:
        self._lock.release()
        try:
            yield
        finally:
            self._lock.acquire()


# -- what the operations page says of a peer's turns ------------------------------------------

SYNCING, SYNCED, FAILED, RESTING, NEVER_SYNCED = "syncing", "synced", "failed", "resting", "never"
STATES = {SYNCING: _l("Syncing"), SYNCED: _l("Synced"), FAILED: _l("Failed"),
          RESTING: _l("Resting"), NEVER_SYNCED: _l("Never synced")}
# The errors a round meets most, in words an administrator acts on; others in the protocol's.
ERRORS = {
    "unreachable": _l("It could not be reached (no answer in time, or no connection)."),
    "server-error": _l("It answered with an error of its own."),
    "node-locked": _l("It is locked: its administrator has to unlock it."),
    "circuit-open": _l("It failed several times in a row; it is rested before a retry."),
    "signature-invalid": _l("Its answer's signature did not verify."),
    "peer-not-approved": _l("It has not approved this node (or removed it)."),
    "gap": _l("Entries are missing from its feed: it is quarantined."),
    "fork": _l("Its feed has two different entries in one place: it is quarantined."),
    "quarantined": _l("It is quarantined until an administrator acts."),
    UNEXPECTED: _l("This node failed while syncing it (see the sync's log)."),
}


@dataclass(frozen=True)
class TurnState:
    """A peer's sync as words: its state, since when, and its last error (code and words)."""

    state: str
    since: datetime | None
    error: str | None
    error_words: str | None

    @property
    def words(self) -> str:
        return str(STATES[self.state])


def state_of(peer: Peer, now: datetime) -> TurnState:
    """Syncing (its turn in a round has begun), resting (its circuit is open), failed (its
    last turn did), synced, or never synced."""
    error = peer.last_error
    words = None if error is None else str(ERRORS.get(error) or (
        REASONS[error].message if error in REASONS else error))
    if peer.turn_started_at is not None:
        return TurnState(SYNCING, peer.turn_started_at, error, words)
    if peer.open_until is not None and peer.open_until > now:
        return TurnState(RESTING, peer.open_until, error, words)
    if error is not None:
        return TurnState(FAILED, peer.last_attempt_at, error, words)
    if peer.last_success_at is not None:
        return TurnState(SYNCED, peer.last_success_at, None, None)
    return TurnState(NEVER_SYNCED, None, None, None)
