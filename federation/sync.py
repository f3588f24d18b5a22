"""Pull sync: fetch each approved peer's feeds page by page, verify, apply, move the cursor.

One page, one transaction: the entries, the held records and the cursor commit together. The
next page is asked for while one is written (``client.PeerClient.ask``), so a node killed at
any moment re-fetches at most the page it was working on and the one it had asked for ahead;
nothing is lost or applied twice. A gap or a fork
quarantines the origin and alerts the administrators (audit log and the peers page). After
pulling, a round sends the peer the receipts owed to it and, when this node has new entries
for it, a push hint. Failures count toward the peer's circuit breaker.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from core import audit, clock, keystore
from core.extensions import db
from federation import (
    catchup,
    client,
    hub,
    inbox,
    outbox,
    peers,
    protocol,
    push,
    receipts,
    rounds,
    signing,
    takedown,
)
from federation.incoming import forget_expired_nonces
from federation.models import Peer, Quarantine
from federation.protocol import RELAY
from federation.reasons import Refused
from federation.settings import setting

Progress = Callable[[Peer, str, int, int], None]  # peer, feed, items done, items to go
HELD_ELSEWHERE = "another process is syncing it now"


@dataclass
class Outcome:
    peer: Peer
    pulled: int = 0
    pages: int = 0
    error: str | None = None
    skipped: bool = False
    sent_receipts: int = 0
    pushed: int = 0  # entries the peer acknowledged (federation.push)
    notes: list[str] = field(default_factory=list)


@catchup.first  # a restored node takes its own feeds back before its first round (or raises)
def sync(only: Peer | None = None, progress: Progress | None = None) -> list[Outcome]:
    """One round with every approved peer (or one); returns what happened with each.
    Raises ``core.keystore.NodeLocked`` at once while the node is locked (it signs every
    request), touching no peer."""
    if not keystore.keystore().unlocked:
        raise keystore.NodeLocked()
    from federation import sealing  # a hub's member: its encryption key, for sealed relay

    sealing.announce()
    outcomes = rounds.run([only] if only is not None else peers.approved(),
                          lambda peer: sync_peer(peer, progress), _failed_turn,
                          busy=_held_elsewhere)
    sealing.seal_pending()  # to members whose encryption keys this round brought
    inbox.purge_expired()
    forget_expired_nonces()
    db.session.commit()
    return outcomes


def sync_peer(peer: Peer, progress: Progress | None = None) -> Outcome:
    outcome = Outcome(peer)
    now = clock.now()
    if peer.open_until is not None and peer.open_until > now:
        outcome.error, outcome.skipped = "circuit-open", True
        return outcome
    if not push.pulls_from(peer):  # it cannot be reached: it pushes to us (federation.push)
        outcome.skipped = True
        return outcome
    if not peer.url:
        outcome.error, outcome.skipped = "unreachable", True  # behind NAT: it pulls from us
        return outcome
    peer_id = peer.id
    remote = client.PeerClient(peer.url, peer=peer)
    try:
        if peer.is_hub:  # its takedowns first: a withheld member's relayed records arrive held
            takedown.follow(peer, remote)
        for feed in peers.feeds_to_pull(peer):
            _pull(peer, remote, feed, outcome, progress)
        if push.pushes_to(peer):  # it cannot reach this node: send it our feed
            outcome.pushed = push.send(peer, remote, progress)
        outcome.sent_receipts = _send_receipts(peer, remote)
        if not push.pushes_to(peer):
            _send_hint(peer, remote)
    except Refused as refused:
        db.session.rollback()
        peer = db.session.get(Peer, peer_id)
        outcome.peer, outcome.error = peer, refused.code
        if refused.code in ("gap", "fork"):
            inbox.quarantine(refused.code, refused.origin or peer.node_id, peer)
        _failed(peer, refused.code)
        db.session.commit()
        return outcome
    peer.last_attempt_at = peer.last_success_at = clock.now()
    peer.failures, peer.open_until, peer.last_error, peer.hinted_at = 0, None, None, None
    db.session.commit()
    return outcome


def _pull(peer: Peer, remote: client.PeerClient, feed: str, outcome: Outcome,
          progress: Progress | None) -> None:
    own = signing.identity().node_id
    size = setting("FEDERATION_PAGE_SIZE")
    after, link = inbox.cursor_of(peer.id, feed)
    asked = remote.ask("/federation/outbox", feed=feed, after=after, limit=size)
    while asked is not None:
        raw_items, head = inbox.read_page(asked.body(), feed, after)
        if not raw_items and head <= after:
            return  # nothing new: a round that changes nothing writes nothing
        # The page's signatures are checked on other cores while it is read and written (and
        # its payloads' index words worked out); apply settles them before anything is
        # announced, relayed or committed.
        page = _verify(peer, remote, feed, raw_items, head, after, link, own)
        more = after < page.after < head  # not the end, nor a page that moved nothing
        # The next page is asked for now: the peer serves it while this one is written (if
        # this one is refused, it is dropped unread).
        asked = remote.ask("/federation/outbox", feed=feed, after=page.after, limit=size) \
            if more else None
        inbox.take_page(peer, feed, page)
        db.session.commit()  # the cursor moves only with the writes it covers
        outcome.pulled += len(raw_items)
        outcome.pages += 1
        if progress is not None:
            progress(peer, feed, len(raw_items), max(head - page.after, 0))
        after, link = page.after, page.last_hash


def _verify(peer, remote, feed, raw_items, head, after, link, own) -> inbox.Page:
    """Everything but the signatures, which are left for ``inbox.apply`` to settle."""
    keys = inbox.Keys()
    if feed != RELAY:
        return inbox.verify_feed(peer.node_id, feed, raw_items, head, keys, own, settle=False)
    try:
        return inbox.verify_relay(peer.node_id, raw_items, head, after, link, keys, own,
                                  settle=False)
    except inbox.UnknownKeys:
        # Members this node never paired with: the hub vouches for their keys.
        hub.learn_vouched(protocol.strict_loads(remote.get("/federation/keys")), peer)
        db.session.flush()
        return inbox.verify_relay(peer.node_id, raw_items, head, after, link, inbox.Keys(),
                                  own, settle=False)


def _send_receipts(peer: Peer, remote: client.PeerClient) -> int:
    owed = receipts.pending(peer)
    if not owed:
        return 0
    remote.post("/federation/receipts", receipts.message(owed))
    receipts.delivered(owed)
    db.session.commit()
    return len(owed)


def _send_hint(peer: Peer, remote: client.PeerClient) -> None:
    """Tell the peer this node has entries it has not been told of (pull stays the truth)."""
    heads = outbox.heads()
    readable = {feed: heads.get(feed, 0) for feed in peers.readable_feeds(peer)}
    if all(seq <= peers.heads_sent(peer).get(feed, 0) for feed, seq in readable.items()):
        return
    remote.post("/federation/inbox", {"type": protocol.HINT_TYPE, "heads": readable})
    peer.hint_sent_heads = json.dumps(readable, sort_keys=True)
    db.session.commit()


def _take_hint(peer: Peer, progress: Progress | None) -> Outcome:
    """A peer's push hint, taken at once as a round's turn (another server may take it too)."""
    return rounds.run([peer], lambda peer: sync_peer(peer, progress), _failed_turn,
                      busy=_held_elsewhere)[0]


def _held_elsewhere(peer: Peer) -> Outcome:
    """Another process (another app server's round) is syncing the peer now: left to it."""
    return Outcome(peer, skipped=True, notes=[HELD_ELSEWHERE])


def _failed_turn(peer: Peer, code: str) -> Outcome:
    """A turn that failed in this node's own code (``federation.rounds``): counted like any."""
    _failed(peer, code)
    db.session.commit()
    return Outcome(peer, error=code)


def _failed(peer: Peer, code: str) -> None:
    """Count a failed round; after several in a row, rest the peer, longer each time."""
    peer.last_attempt_at, peer.last_error = clock.now(), code
    peer.failures = (peer.failures or 0) + 1
    threshold = setting("FEDERATION_FAILURES_BEFORE_REST")
    if peer.failures >= threshold:
        rest = min(setting("FEDERATION_REST") * 2 ** (peer.failures - threshold),
                   setting("FEDERATION_MAX_REST"))
        peer.open_until = clock.now() + timedelta(seconds=rest)


def release(origin: str, user) -> bool:
    """An administrator lifts a quarantine (after finding out what happened). Commits."""
    found = db.session.scalar(select(Quarantine).where(Quarantine.origin == origin))
    if found is None:
        return False
    db.session.delete(found)
    audit.record("federation.released", actor=user, target_type="federation.peer",
                 target_id=origin)
    db.session.commit()
    return True


def quarantined() -> list[Quarantine]:
    return list(db.session.scalars(select(Quarantine).order_by(Quarantine.at)))


def every(seconds: float, only: Peer | None, progress: Progress | None,
          rounds: int | None = None, tick: float = 1.0) -> None:
    """Sync every ``seconds`` (``rounds`` times, or for ever); in between, a peer's push hint
    starts its round at once."""
    done = 0
    while rounds is None or done < rounds:
        started = time.monotonic()
        with suppress(keystore.NodeLocked):  # a locked round waits for the unlock
            sync(only, progress)
        done += 1
        while time.monotonic() - started < seconds:
            time.sleep(tick)
            db.session.rollback()  # see what other processes committed (hints)
            hinted = [p for p in peers.approved() if p.hinted_at is not None
                      and (only is None or p.id == only.id)]
            for peer in hinted:
                _take_hint(peer, progress)
