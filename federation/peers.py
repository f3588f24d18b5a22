"""Peers: pairing out of band, approval on both sides, and who may read which feed.

No trust on first use. An administrator adds a peer by its address and the fingerprint its
administrator read to her; the node fetches the peer's signed document and refuses it unless
the key matches. Adding is her approval; the node then asks the peer to pair, and the peer's
administrator approves by typing *this* node's fingerprint. Each side serves its feeds only
to peers it approved, and pulls only from them: until both approve, nothing flows.

Anyone can make keys, so requests from strangers are bounded three ways: each client (one
address, known only in memory under a key that changes every hour) may leave a few new
requests an hour; a request waits ``FEDERATION_PENDING_DAYS`` at most and is then forgotten;
and at most ``FEDERATION_MAX_PENDING`` wait at once. An administrator refuses them all in
one action.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import delete, func, select

from core import audit, clock, throttle
from core.extensions import db
from federation import client, identity, keys, protocol, signing
from federation.identity import NodeDocument
from federation.models import APPROVED, REMOVED, REQUESTED, Chain, Key, Peer
from federation.protocol import HUB, PEERS, RELAY
from federation.reasons import Refused
from federation.settings import is_hub, setting

EXTENSION = "federation.requests_by_client"


class PairingError(ValueError):
    """Pairing cannot go on as asked; the message says why (for the administrator)."""


class AmbiguousPeer(PairingError):
    """Several peers answer to what the administrator typed; the message names them."""


# -- who may read what ----------------------------------------------------------------------


def readable_feeds(peer: Peer) -> tuple[str, ...]:
    """The feeds ``peer`` may read from this node: the hub reads the hub feed; a partner
    node reads the partner feed, and a hub's members its relay feed."""
    if peer.is_hub:
        return (HUB,)
    return (PEERS, RELAY) if is_hub() else (PEERS,)


def feeds_to_pull(peer: Peer) -> tuple[str, ...]:
    """The feeds this node reads from ``peer``."""
    if is_hub() and not peer.is_hub:
        return (HUB,)
    return (RELAY,) if peer.is_hub else (PEERS,)


def approved() -> list[Peer]:
    return list(db.session.scalars(select(Peer).where(Peer.state == APPROVED)
                                   .order_by(Peer.id)))


MIN_PREFIX = 4  # characters of a node id that may stand for it


def find(reference: str) -> Peer | None:
    """A peer by its node id, else by its label, else by the first characters of its node id
    (at least ``MIN_PREFIX``): the first of these that names anyone decides, so a label is
    never shadowed by node ids that begin with the same letters. None if nobody matches;
    ``AmbiguousPeer`` if several peers do."""
    reference = (reference or "").strip()
    if not reference:
        return None
    peer = db.session.scalar(select(Peer).where(Peer.node_id == reference))
    if peer is not None:
        return peer
    labelled = _one_of(select(Peer).where(Peer.label == reference), reference)
    if labelled is not None or len(reference) < MIN_PREFIX:
        return labelled
    return _one_of(select(Peer).where(Peer.node_id.startswith(reference.lower(), autoescape=True)),
                   reference)


def _one_of(query, reference: str) -> Peer | None:
    found = list(db.session.scalars(query.order_by(Peer.id)))
    if len(found) > 1:
        raise AmbiguousPeer(f"{reference!r} names {len(found)} peers: " + ", ".join(
            f"{peer.node_id} ({peer.label or '-'})" for peer in found) +
            ". Give more of the node id.")
    return found[0] if found else None


def everyone() -> list[Peer]:
    return list(db.session.scalars(select(Peer).order_by(Peer.state, Peer.label, Peer.id)))


def fingerprint_of(peer: Peer) -> str:
    genesis = db.session.scalar(select(Key).where(Key.key_id == peer.node_id))
    return identity.fingerprint(genesis.public_key)


# -- pairing --------------------------------------------------------------------------------


def add(url: str, fingerprint: str, label: str, user, *, document: dict | None = None,
        send_request: bool = True) -> Peer:
    """Add (and approve) a peer whose administrator read us ``fingerprint``; then ask it to
    pair. Nothing is stored when the key does not match. Commits."""
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise PairingError("Give the peer's address, starting with https:// or http://.")
    document = document if document is not None else client.fetch_document(url)
    peer_document = identity.read_node_document(document)
    typed = identity.normalise_fingerprint(fingerprint)
    if typed != peer_document.fingerprint:
        raise Refused("fingerprint-mismatch")
    if peer_document.node_id == signing.identity().node_id:
        raise PairingError("That is this node's own address.")
    peer = _store(peer_document, url, label)
    if not setting("FEDERATION_URL") and peer.direction is None:
        peer.direction = "send"  # nobody can reach this node: it sends (federation.push)
    if peer.state != APPROVED:
        peer.state, peer.approved_at = APPROVED, clock.now()
        peer.approved_by = getattr(user, "id", None)
        audit.record("federation.peer_approved", actor=user, target_type="federation.peer",
                     target_id=peer.node_id)
    db.session.commit()
    if send_request:
        request_pairing(peer)
    return peer


def request_pairing(peer: Peer) -> str:
    """Ask ``peer`` to pair with this node; return its answer (requested or approved)."""
    own = identity.node_document()
    answer = client.PeerClient(peer.url, peer=peer).post(
        "/federation/pair", {"type": protocol.PAIR_TYPE, "document": own, "to": peer.node_id})
    state = protocol.strict_loads(answer).get("state")
    return state if state in (REQUESTED, APPROVED) else "unknown"


def receive_request(document: NodeDocument, client: str | None = None) -> Peer:
    """A node asked to pair (its request is verified): keep it waiting for approval. A node
    an administrator removed stays removed until she adds it again herself. A new request
    is refused (``too-many-requests``) when ``client`` (its address) left its share this
    hour, or when the waiting room is full; expired requests are forgotten first."""
    existing = db.session.scalar(select(Peer).where(Peer.node_id == document.node_id))
    if existing is not None and existing.state == REMOVED:
        return existing
    if existing is not None and existing.state == REQUESTED and _expired(existing):
        forget_requests([existing])
        existing = None
    if existing is None:
        forget_requests(expired_requests())
        if waiting_count() >= setting("FEDERATION_MAX_PENDING"):
            raise Refused("too-many-requests")
        if requests_by_client().take(client) is not None:
            raise Refused("too-many-requests", "this client asked too often; try in an hour")
    peer = _store(document, document.url, existing.label if existing else "")
    if existing is None:
        audit.record("federation.pair_requested", target_type="federation.peer",
                     target_id=peer.node_id)
    return peer


def waiting() -> list[Peer]:
    """Pairing requests waiting for an administrator (not expired), the oldest first."""
    return list(db.session.scalars(
        select(Peer).where(Peer.state == REQUESTED, Peer.requested_at > _expiry_horizon())
        .order_by(Peer.requested_at, Peer.id)))


def waiting_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Peer).where(
        Peer.state == REQUESTED, Peer.requested_at > _expiry_horizon()))


def expires_at(peer: Peer) -> datetime:
    return peer.requested_at + timedelta(days=setting("FEDERATION_PENDING_DAYS"))


def expired_requests() -> list[Peer]:
    return list(db.session.scalars(select(Peer).where(
        Peer.state == REQUESTED, Peer.requested_at <= _expiry_horizon())))


def refuse_all(user) -> int:
    """Refuse every waiting request at once (a flood of them, or none worth keeping): each is
    forgotten with the keys it brought, so its node may ask again. Audited; commits.
    Returns how many were refused."""
    pending = list(db.session.scalars(select(Peer).where(Peer.state == REQUESTED)))
    forget_requests(pending)
    audit.record("federation.pair_requests_refused", actor=user, count=len(pending))
    db.session.commit()
    return len(pending)


def forget_requests(pending: list[Peer]) -> None:
    """Delete requests that were never approved, and the keys they brought, unless entries of
    that node are already held (its keys then still check them)."""
    if not pending:
        return
    node_ids = [peer.node_id for peer in pending]
    db.session.execute(delete(Key).where(
        Key.origin.in_(node_ids), Key.source == "pairing",
        Key.origin.not_in(select(Chain.origin))).execution_options(synchronize_session=False))
    for peer in pending:
        db.session.delete(peer)
    db.session.flush()


def _expiry_horizon() -> datetime:
    return clock.now() - timedelta(days=setting("FEDERATION_PENDING_DAYS"))


def _expired(peer: Peer) -> bool:
    return peer.requested_at <= _expiry_horizon()


def requests_by_client(app: Flask | None = None) -> throttle.ClientFailures:
    """This process's count of new pairing requests by client, over the last hour (each
    worker keeps its own). Clients are named as the sign-in throttle names them: by an HMAC
    of the address under a key that lives in memory only and is replaced every hour."""
    app = app or current_app
    found = app.extensions.get(EXTENSION)
    if found is None:
        per_hour = setting("FEDERATION_REQUESTS_PER_CLIENT", app)
        found = app.extensions.setdefault(
            EXTENSION, throttle.ClientFailures(((timedelta(hours=1), per_hour),)))
    return found


def approve(peer: Peer, fingerprint: str, user) -> None:
    """Approve a waiting request once the administrator typed the fingerprint she was read.
    Commits."""
    if identity.normalise_fingerprint(fingerprint) != fingerprint_of(peer):
        raise Refused("fingerprint-mismatch")
    peer.state, peer.approved_at = APPROVED, clock.now()
    peer.approved_by = getattr(user, "id", None)
    audit.record("federation.peer_approved", actor=user, target_type="federation.peer",
                 target_id=peer.node_id)
    db.session.commit()


def remove(peer: Peer, user) -> None:
    """Stop serving and pulling this peer (what it already holds, it holds). Commits."""
    peer.state = REMOVED
    audit.record("federation.peer_removed", actor=user, target_type="federation.peer",
                 target_id=peer.node_id)
    db.session.commit()


def _store(document: NodeDocument, url: str, label: str) -> Peer:
    peer = db.session.scalar(select(Peer).where(Peer.node_id == document.node_id))
    if peer is None:
        peer = Peer(node_id=document.node_id, state=REQUESTED, requested_at=clock.now())
        db.session.add(peer)
    peer.url = url or peer.url or ""
    peer.role = document.role
    peer.label = (label or peer.label or document.name or "")[:100]
    keys.learn_keys(document.node_id, document.keys, source="pairing")
    db.session.flush()
    return peer


def heads_sent(peer: Peer) -> dict:
    return json.loads(peer.hint_sent_heads or "{}")
