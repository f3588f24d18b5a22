"""Node-initiated sync (protocol 1.1): a node nobody can reach sends its feed to its peers.

A node behind a home or office router cannot be pulled. It *pushes* instead: it signs a
request carrying the very page a pull would have fetched (``outbox.page``, which writes the
outbound ledger), and the receiver runs on it the checks and the transaction of a pull —
``inbox.verify_feed`` (continuity from its cursor, chain, dates, keys, payload hashes; a gap
or a fork quarantines the origin), ``inbox.apply``, receipts owed for tombstones,
``inbox.advance`` — through ``inbox.take_page``, the pull's own step. It answers with a
signed **acknowledgement** of what it now holds of that feed (up to which ``seq``, whose
entry hash), bound to the push it answers (the SHA-256 of the push's body, which holds a
random id). The sender moves its cursor for that peer (``federation_push_cursor``) only on
an acknowledgement it verified, in the transaction that also keeps the receipts the answer
brought back; so a sender killed at any moment sends again at most the page it was sending.

Which way records go with a peer (``Peer.direction``): ``both`` (each fetches from the other,
as in 1.0), ``send`` (it cannot reach this node: this node pushes to it, and still fetches
from it) or ``receive`` (this node cannot reach it: it pushes to us, and this node does not
try to fetch from it). Unset, it is decided from what is known (``direction``); a pairing
made while this node has no address sets ``send``; a peer's first push sets ``receive``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select

from core import audit, clock
from core.extensions import db
from federation import identity, inbox, keys, outbox, peers, protocol, receipts, signing
from federation.models import Key, OutboxEntry, Peer, PushCursor
from federation.protocol import GENESIS, RELAY
from federation.reasons import Refused
from federation.settings import setting

PUSH_TYPE = "rabita.push/1"
ACK_TYPE = "rabita.push-ack/1"
ANSWER_TYPE = "rabita.pushed/1"
PATH = "/federation/push"
MAX_PUSH = 32 * 1024 * 1024  # a page of 1,000 entries with their payloads
PUSH_FIELDS = frozenset({"type", "id", "to", "feed", "after", "head", "items"})
ACK_FIELDS = frozenset({"type", "from", "to", "key", "at", "feed", "after", "seq", "hash",
                        "push"})

BOTH, SEND, RECEIVE = "both", "send", "receive"
DIRECTIONS = (BOTH, SEND, RECEIVE)


# -- which way -------------------------------------------------------------------------------


def direction(peer: Peer) -> str:
    """Which way records go with ``peer``: its setting, else what is known — a peer with no
    address cannot be reached (it sends to us); otherwise each fetches from the other."""
    if peer.direction in DIRECTIONS:
        return peer.direction
    return RECEIVE if not peer.url else BOTH


def set_direction(peer: Peer, chosen: str | None, user) -> None:
    """An administrator's choice (None: decide from what is known). Audited; commits."""
    if chosen is not None and chosen not in DIRECTIONS:
        raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)} (or auto)")
    peer.direction = chosen
    audit.record("federation.direction_set", actor=user, target_type="federation.peer",
                 target_id=peer.node_id, direction=chosen or "auto")
    db.session.commit()


def pulls_from(peer: Peer) -> bool:
    return direction(peer) != RECEIVE


def pushes_to(peer: Peer) -> bool:
    return direction(peer) == SEND


# -- the sender ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ack:
    seq: int
    hash: str
    envelope: dict


def position(peer_id: int, feed: str) -> tuple[int, str]:
    """Where ``peer`` acknowledged this node's ``feed`` (0 before any acknowledgement)."""
    cursor = db.session.scalar(select(PushCursor).where(PushCursor.peer_id == peer_id,
                                                        PushCursor.feed == feed))
    return (0, GENESIS) if cursor is None else (cursor.after, cursor.last_hash)


def _move(peer_id: int, feed: str, ack: Ack) -> None:
    cursor = db.session.scalar(select(PushCursor).where(PushCursor.peer_id == peer_id,
                                                        PushCursor.feed == feed))
    if cursor is None:
        cursor = PushCursor(peer_id=peer_id, feed=feed)
        db.session.add(cursor)
    cursor.after, cursor.last_hash, cursor.acked_at = ack.seq, ack.hash, clock.now()


def send(peer: Peer, remote, progress=None) -> int:
    """Push every feed ``peer`` may read from this node, page by page, each page committed
    with the cursor its acknowledgement moves. Returns how many entries were acknowledged.
    At least one push per feed and round, even empty: its answer brings the receipts the
    peer holds for this node (it cannot send them: it cannot reach us)."""
    sent = 0
    for feed in peers.readable_feeds(peer):
        if feed != RELAY:  # a hub is reachable: its members fetch its relay feed
            sent += _send_feed(peer, remote, feed, progress)
    return sent


def _send_feed(peer: Peer, remote, feed: str, progress) -> int:
    size = setting("FEDERATION_PAGE_SIZE")
    sent, rewound, first = 0, False, True
    while True:
        after, _hash = position(peer.id, feed)
        items, head = outbox.page(feed, after, size, recipient=peer.node_id)
        if not items and not first:
            db.session.rollback()
            return sent
        first = False
        body = protocol.dumps({"type": PUSH_TYPE, "id": secrets.token_urlsafe(16),
                               "to": peer.node_id, "feed": feed, "after": after, "head": head,
                               "items": items})
        answer = remote.request("POST", PATH, body=body).body
        ack, brought = read_answer(answer, peer, feed, after, items, body)
        _move(peer.id, feed, ack)
        if brought is not None:
            receipts.receive(brought, peer)  # the same checks as POST /federation/receipts
        db.session.commit()  # the cursor moves with the ledger rows of what left
        if ack.seq > after:
            sent += ack.seq - after
            if progress is not None:
                progress(peer, feed, ack.seq - after, max(head - ack.seq, 0))
        elif ack.seq < after:
            if rewound:
                return sent  # it went back twice in a round: try again next round
            rewound = True  # the peer holds less than it said before: send from there
        elif items:
            return sent  # it took nothing of a page: next round
        if ack.seq >= head:
            return sent


def read_answer(answer: bytes, peer: Peer, feed: str, after: int, items: list,
                body: bytes) -> tuple[Ack, dict | None]:
    """Verify the peer's answer to the push ``body``; raise ``Refused`` (nothing moves)."""
    document = protocol.strict_loads(answer)
    if not isinstance(document, dict) or set(document) != {"type", "ack", "receipts"} or \
            document["type"] != ANSWER_TYPE:
        raise Refused("ack-invalid", "not a push answer")
    return check_ack(document["ack"], peer, feed, after, items, body), document["receipts"]


def check_ack(envelope, peer: Peer, feed: str, after: int, items: list, body: bytes) -> Ack:
    """An acknowledgement must be signed by a key of ``peer`` that could sign at its ``at``,
    name this node, and answer this push: its feed, its ``after``, its body's hash, and a
    ``seq`` with the hash of this node's own entry there (none beyond its head)."""
    raw, ack, signature = protocol.open_envelope(envelope, ACK_TYPE, "ack-invalid")
    if set(ack) != ACK_FIELDS or not all(type(ack[name]) is str for name in
                                         ("from", "to", "key", "feed", "hash", "push")) or \
            type(ack["after"]) is not int or type(ack["seq"]) is not int or ack["seq"] < 0:
        raise Refused("ack-invalid", "not an acknowledgement")
    at = protocol.parse_at(ack["at"], "ack-invalid")
    key = db.session.scalar(select(Key).where(Key.origin == peer.node_id,
                                              Key.key_id == ack["key"])) \
        if ack["from"] == peer.node_id else None
    if key is None or not keys.key_usable_at(key, at) or \
            not identity.verify(key.public_key, raw, signature):
        raise Refused("ack-invalid", "the acknowledgement's signature does not verify")
    if ack["to"] != signing.identity().node_id:
        raise Refused("push-misaddressed")
    if ack["feed"] != feed or ack["after"] != after or \
            ack["push"] != protocol.sha256_hex(body):
        raise Refused("ack-mismatch")
    # Its seq may lie beyond what this push carried (the peer pulled those entries before,
    # or got them from an earlier push this node forgot): its hash must then be this node's
    # own entry there, as always; beyond this node's head there is none.
    if ack["hash"] != _own_hash(feed, ack["seq"]):
        raise Refused("ack-mismatch", "not this node's chain")
    return Ack(ack["seq"], ack["hash"], envelope)


def _own_hash(feed: str, seq: int) -> str | None:
    if seq == 0:
        return GENESIS
    return db.session.scalar(select(OutboxEntry.entry_hash).where(
        OutboxEntry.feed == feed, OutboxEntry.seq == seq))


# -- the receiver ----------------------------------------------------------------------------


def receive(received) -> dict:
    """``POST /federation/push`` from an approved peer (its signature, digest and nonce
    verified): check the push, then take its page as a pull would and acknowledge what this
    node now holds of that feed. A refusal writes nothing (a gap or a fork quarantines the
    origin, as a pull's does)."""
    peer = received.peer
    push = protocol.strict_loads_written(received.body)
    if not isinstance(push, dict) or set(push) != PUSH_FIELDS or push["type"] != PUSH_TYPE:
        raise Refused("bad-request", "not a push")
    if not (isinstance(push["id"], str) and 16 <= len(push["id"]) <= 64 and
            type(push["after"]) is int and push["after"] >= 0 and
            type(push["head"]) is int and push["head"] >= 0 and
            isinstance(push["items"], list) and len(push["items"]) <= inbox.MAX_ITEMS):
        raise Refused("bad-request", "not a push")
    if push["to"] != signing.identity().node_id:
        raise Refused("push-misaddressed")
    feed = push["feed"]
    if feed == RELAY or feed not in peers.feeds_to_pull(peer):
        raise Refused("feed-not-allowed")
    held, link = inbox.cursor_of(peer.id, feed)
    if push["after"] > held:
        # It starts beyond what this node holds (it was restored, or a page was lost):
        # nothing is taken, and the answer says where to start again.
        seq, last_hash = held, link
    else:
        try:
            page = inbox.verify_feed(peer.node_id, feed, push["items"], push["head"],
                                     inbox.Keys(), signing.identity().node_id, settle=False)
        except Refused as refused:
            if refused.code in ("gap", "fork"):
                db.session.rollback()
                inbox.quarantine(refused.code, refused.origin or peer.node_id, peer)
                db.session.commit()
            raise
        inbox.take_page(peer, feed, page)
        seq, last_hash = page.after, page.last_hash
    peer = db.session.get(Peer, peer.id)
    peer.pushed_at = clock.now()
    if peer.direction is None:
        peer.direction = RECEIVE  # learned: it cannot be reached, so it pushes
    return {"type": ANSWER_TYPE, "ack": acknowledge(peer, feed, push["after"], seq, last_hash,
                                                    received.body),
            "receipts": _receipts_for(peer)}


def acknowledge(peer: Peer, feed: str, after: int, seq: int, last_hash: str,
                body: bytes) -> dict:
    """This node's signed word that it holds ``peer``'s ``feed`` up to ``seq``."""
    own = signing.identity()
    text = protocol.canonical({
        "type": ACK_TYPE, "from": own.node_id, "to": peer.node_id, "key": own.current,
        "at": protocol.at_text(clock.now()), "feed": feed, "after": after, "seq": seq,
        "hash": last_hash, "push": protocol.sha256_hex(body),
    })
    return protocol.envelope(text, signing.sign(text))


def _receipts_for(peer: Peer) -> dict | None:
    """Receipts owed to a peer this node cannot reach travel back in the answer."""
    owed = receipts.pending(peer)
    if not owed:
        return None
    document = receipts.message(owed)
    receipts.delivered(owed)
    return document
