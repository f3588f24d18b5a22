"""A restored node takes its own feeds back from its peers before it signs anything again.

Each peer that reads one of this node's feeds holds that feed's entries as this node signed
them. The restored node asks each (``GET /federation/held?feed=&after=``, signed like every
request, answered signed) for the entries of its own feed it holds after the restored head,
and the head it holds (its sequence number and entry hash). It checks every entry as a pull
checks a page — canonical bytes, the chain from its own head on, dates, this node's own key
and signature, payload hashes — and puts them back in its outbox unchanged, so the chain goes
on from the real head; a tombstone among them purges its record's payloads again, and keeps
the record from re-entering that feed (``outbox.retracted``). A peer whose head is not in this
node's chain is a fork (``fork``): nothing of it is taken. Once every peer answered (or an
administrator chose to go on without those that cannot), the node is caught up and signs
again. What others sent it since the backup comes back with the next pulls, whose cursors are
the backup's: their tombstones are applied again. docs/federation.md ("Catching up after a
restore").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import wraps
from typing import ParamSpec, TypeVar

from sqlalchemy import select, update

from core import audit, clock, erasure, keystore
from core.extensions import db
from core.models import Consent
from federation import client, identity, outbox, peers, protocol, push, restored, signing
from federation.models import Chain, OutboxEntry, OutboxHead, Peer, ReceivedEntry
from federation.protocol import GENESIS, HUB, KEY, PEERS, TOMBSTONE
from federation.reasons import Refused
from federation.settings import is_hub
from federation.signatures import verify

HELD_TYPE = "rabita.held/1"
HELD_PATH = "/federation/held"
MAX_ITEMS = 1000
_FIELDS = {"type", "origin", "feed", "after", "head", "hash", "items"}
P, T = ParamSpec("P"), TypeVar("T")


@dataclass
class CatchUp:
    """What a catch-up did: entries taken back per feed, and the peers it could not ask or
    whose answer it refused (node id → reason code)."""

    taken: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    done: bool = False


# -- on the peer: what it holds of the asker's feed ------------------------------------------


def held(asker: Peer, feed: str, after: int, limit: int) -> dict:
    """The entries of ``asker``'s own ``feed`` this node holds after ``after``, as it received
    them, and the head it holds. Only a feed this node reads from ``asker``."""
    if feed not in protocol.ENTRY_FEEDS or feed not in peers.feeds_to_pull(asker):
        raise Refused("feed-not-allowed")
    rows = db.session.execute(
        select(ReceivedEntry.seq, ReceivedEntry.entry, ReceivedEntry.sig, ReceivedEntry.payload)
        .where(ReceivedEntry.origin == asker.node_id, ReceivedEntry.feed == feed,
               ReceivedEntry.seq > after)
        .order_by(ReceivedEntry.seq).limit(limit)).all()
    chain = db.session.scalar(select(Chain).where(Chain.origin == asker.node_id,
                                                  Chain.feed == feed))
    return {"type": HELD_TYPE, "origin": asker.node_id, "feed": feed, "after": after,
            "head": chain.last_seq if chain else 0,
            "hash": chain.last_hash if chain else GENESIS,
            "items": [{"seq": seq, "entry": entry, "sig": sig, "payload": payload}
                      for seq, entry, sig, payload in rows]}


# -- on the restored node ----------------------------------------------------------------------


def catch_up(without: frozenset[str] = frozenset()) -> CatchUp:
    """Take this node's own entries back from every approved peer that reads one of its
    feeds (but those named in ``without``, whose node ids an administrator chose to go on
    without). Caught up — signing again — only if every other peer answered and every answer
    checked. Commits what each checked page brings; a refused page writes nothing."""
    outcome = CatchUp()
    if restored.pending() is None:
        outcome.done = True
        return outcome
    for peer in peers.approved():
        if feeds_held_by(peer) and peer.node_id not in without:
            _ask(peer, outcome)
    if not outcome.failed:
        _caught_up(without, outcome)
    return outcome


def _ask(peer: Peer, outcome: CatchUp) -> None:
    """Take back what ``peer`` holds of this node's feeds; a refusal is noted for it."""
    try:
        if not peer.url or push.direction(peer) == push.RECEIVE:
            raise Refused("unreachable", "this node does not reach the peer")
        remote = client.PeerClient(peer.url, peer=peer)
        for feed in feeds_held_by(peer):
            outcome.taken[feed] = outcome.taken.get(feed, 0) + take_back(remote, feed)
    except Refused as refused:
        db.session.rollback()
        outcome.failed[peer.node_id] = refused.code
        audit.record("federation.catch_up_refused", target_type="federation.peer",
                     target_id=peer.node_id, reason=refused.code)
        db.session.commit()


def _caught_up(without: frozenset[str], outcome: CatchUp) -> None:
    """The node signs again; the consents that ended meanwhile get their tombstones now."""
    state = restored.pending()
    state.caught_up_at = clock.now()
    state.how = ("peers-without: " + " ".join(sorted(without)))[:400] if without else "peers"
    audit.record("federation.caught_up", target_type="federation.node",
                 **{f"taken_{feed}": count for feed, count in outcome.taken.items()})
    db.session.commit()
    outcome.done = True
    settle(state.restored_at)


def settle(since: datetime) -> int:
    """What waited while the node could not sign, done now as core's hooks would have: the
    records of consents that ended are tombstoned, those of consents recorded since (a
    narrower consent's new terms) shared. Returns how many consents."""
    ended = list(db.session.scalars(select(Consent).where(Consent.ended_at >= since)
                                    .order_by(Consent.ended_at, Consent.id)))
    for consent in ended:
        outbox.consent_ended(consent, consent.end)
    recorded = list(db.session.scalars(select(Consent).where(
        Consent.recorded_at >= since, Consent.ended_at.is_(None)).order_by(Consent.id)))
    for consent in recorded:
        outbox.share_consented(consent)
    return len(ended) + len(recorded)


def first(round_of_sync: Callable[P, T]) -> Callable[P, T]:
    """Wrap a sync round: a restored node catches up before it (``before_signing``)."""

    @wraps(round_of_sync)
    def caught_up_first(*args: P.args, **kwargs: P.kwargs) -> T:
        before_signing()
        return round_of_sync(*args, **kwargs)

    return caught_up_first


def before_signing() -> None:
    """Before a sync round: a restored node catches up first. Raises ``FeedsBehind``, naming
    the peers it could not take its feeds back from, if it could not (``NodeLocked`` while
    the node is locked: it asks nobody)."""
    if restored.pending() is None:
        return
    if not signing.unlocked():
        raise keystore.NodeLocked()
    outcome = catch_up()
    if not outcome.done:
        raise restored.FeedsBehind(
            "This node was restored from a backup and could not take its own feeds back from "
            + ", ".join(f"{_name(node_id)} ({code})" for node_id, code in outcome.failed.items())
            + ": it signs nothing until it has. Sync again when they can be reached, or go on "
            "without them: rabita federation catch-up --without PEER.")


def _name(node_id: str) -> str:
    peer = peers.find(node_id)
    return peer.label or node_id if peer is not None else node_id


def feeds_held_by(peer: Peer) -> tuple[str, ...]:
    """This node's own feeds that ``peer`` reads (and so holds): the hub the ``hub`` feed, a
    partner node the ``peers`` feed. A hub's members read its relay feed, not taken back."""
    if peer.is_hub:
        return (HUB,)
    return () if is_hub() else (PEERS,)


def take_back(remote, feed: str) -> int:
    """Page by page, the entries of this node's ``feed`` that ``remote`` holds beyond this
    node's head; each page checked whole, then put back and committed. Returns how many."""
    taken = 0
    while True:
        seq, last_hash, last_at = _head(feed)
        body = remote.get(HELD_PATH, feed=feed, after=seq, limit=MAX_ITEMS)
        answer = read_held(body, feed, seq)
        items = verify_own(answer["items"], feed, seq, last_hash, last_at)
        if not items:
            _check_head(feed, answer["head"], answer["hash"], seq)
            return taken
        _put_back(feed, items)
        db.session.commit()
        taken += len(items)


def read_held(body: bytes, feed: str, after: int) -> dict:
    answer = protocol.strict_loads_written(body)
    if not isinstance(answer, dict) or set(answer) != _FIELDS or answer["type"] != HELD_TYPE:
        raise Refused("bad-request", "not an answer of held entries")
    if answer["origin"] != signing.identity().node_id:
        raise Refused("wrong-origin")
    if answer["feed"] != feed:
        raise Refused("wrong-feed")
    if answer["after"] != after or type(answer["head"]) is not int or answer["head"] < 0 or \
            not isinstance(answer["hash"], str) or not protocol.HEX64.match(answer["hash"]) or \
            not isinstance(answer["items"], list) or len(answer["items"]) > MAX_ITEMS:
        raise Refused("bad-request", "the answer does not answer the request")
    if answer["head"] > after and not answer["items"]:
        raise Refused("gap")  # it says it holds more, and sends none of it
    return answer


def verify_own(raw_items: list, feed: str, seq: int, prev: str,
               prev_at: datetime | None) -> list[tuple[protocol.Entry, str, bytes | None]]:
    """Check entries of this node's own ``feed`` following its head ``seq`` / ``prev``: each
    canonical, the next in the chain, dated no earlier, signed by a key of this node that
    could sign then, its payload matching its hash."""
    own = signing.identity()
    keys = {key.key_id: identity.KeyInfo(
        key.key_id, key.public_key, protocol.parse_at(key.valid_from),
        protocol.parse_at(key.superseded_at) if key.superseded_at else None,
        protocol.parse_at(key.revoked_at) if key.revoked_at else None) for key in own.keys}
    checked = []
    for raw in raw_items:
        if not isinstance(raw, dict) or set(raw) != {"seq", "entry", "sig", "payload"} or \
                not isinstance(raw["entry"], str) or type(raw["seq"]) is not int:
            raise Refused("bad-request", "bad item")
        entry = protocol.read_entry(raw["entry"].encode("utf-8"))
        payload = protocol.read_payload(raw["payload"], entry)
        if entry.origin != own.node_id:
            raise Refused("wrong-origin")
        if entry.feed != feed:
            raise Refused("wrong-feed")
        if raw["seq"] != entry.seq or entry.seq != seq + 1:
            raise Refused("gap")
        if entry.prev != prev:
            raise Refused("fork")
        if prev_at is not None and entry.at < prev_at:
            raise Refused("time-regression")
        key = keys.get(entry.key)
        if key is None or not verify(key.public_key, entry.raw,
                                     protocol.unb64(raw["sig"], 64, "entry-signature-invalid")):
            raise Refused("entry-signature-invalid")
        problem = key.may_sign_at(entry.at)
        if problem:
            raise Refused(problem)
        if entry.kind == KEY and entry.key_event["action"] == "rotate" and \
                entry.key_event["key_id"] not in keys:
            # A signing key made after the backup: its private half is not in the archive.
            # (An encryption key announced since is lost too, but harmlessly: the node
            # announces a new one, to which others seal from then on.)
            raise Refused("key-superseded", "the node's key changed after the backup")
        checked.append((entry, raw["sig"], payload))
        seq, prev, prev_at = entry.seq, entry.hash, entry.at
    return checked


def _head(feed: str) -> tuple[int, str, datetime | None]:
    head = db.session.get(OutboxHead, feed)
    return head.seq, head.hash, head.at


def _check_head(feed: str, head: int, head_hash: str, seq: int) -> None:
    """A peer that holds no more than this node: its head must be in this node's chain."""
    if head > seq:
        raise Refused("gap")
    ours = GENESIS if head == 0 else db.session.scalar(
        select(OutboxEntry.entry_hash).where(OutboxEntry.feed == feed, OutboxEntry.seq == head))
    if ours != head_hash:
        raise Refused("fork")


def _put_back(feed: str, items: list[tuple[protocol.Entry, str, bytes | None]]) -> None:
    for entry, sig, payload in items:
        db.session.add(OutboxEntry(
            feed=feed, seq=entry.seq, entry_hash=entry.hash, kind=entry.kind, at=entry.at,
            record_type=entry.record_type, record_id=entry.record_id, version=entry.version,
            entry=entry.raw.decode("utf-8"), sig=sig,
            payload=None if payload is None else payload.decode("utf-8"),
            payload_hash=entry.payload_hash))
    last = items[-1][0]
    db.session.execute(update(OutboxHead).where(OutboxHead.feed == feed)
                       .values(seq=last.seq, hash=last.hash, at=last.at))
    db.session.flush()
    withdrawn = {entry.record_id for entry, _sig, _payload in items if entry.kind == TOMBSTONE}
    if withdrawn:  # a tombstone is final here too: its record's payloads go again
        db.session.execute(update(OutboxEntry).where(OutboxEntry.feed == feed,
                                                     OutboxEntry.record_id.in_(withdrawn))
                           .values(payload=None))
        erasure.purging()
