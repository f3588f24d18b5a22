"""Other nodes' public keys: learning them (at pairing, from a key chain, vouched by a hub),
whether a key may sign now or at a given moment, and resolving the key id of a signed
message for the transport, including through the ``Rabita-Keys`` chain header.

Below both the peers (pairing stores a peer's keys) and the client (every answer is
verified with these resolvers).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from core import clock
from core.extensions import db
from federation import identity, protocol, signing
from federation.identity import KeyInfo
from federation.models import Key, Peer
from federation.reasons import Refused

KEYS_HEADER = "Rabita-Keys"  # a node's key chain, when its current key is not its first


def learn_keys(origin: str, keys, *, source: str, vouched_by: str | None = None) -> int:
    """Remember keys of ``origin`` this node did not know (revocations only tighten)."""
    learned = 0
    for info in keys:
        known = db.session.scalar(select(Key).where(Key.key_id == info.key_id))
        if known is None:
            db.session.add(Key(origin=origin, key_id=info.key_id, public_key=info.public_key,
                               valid_from=info.valid_from, superseded_at=info.superseded_at,
                               revoked_at=info.revoked_at, source=source,
                               vouched_by=vouched_by))
            learned += 1
        elif known.origin == origin:
            known.superseded_at = _earliest(known.superseded_at, info.superseded_at)
            known.revoked_at = _earliest(known.revoked_at, info.revoked_at)
    return learned


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    return a if b is None or a <= b else b


def key_usable_now(key: Key | KeyInfo) -> bool:
    """Whether ``key`` may sign a message now: not revoked, and not replaced by a newer key
    (from its switch on, a superseded key signs nothing: docs/federation.md, "Keys")."""
    now = clock.now()
    return (key.revoked_at is None or key.revoked_at > now) and \
        (key.superseded_at is None or key.superseded_at >= now)


def key_usable_at(key: Key | KeyInfo, moment: datetime) -> bool:
    """Whether ``key`` could sign something dated ``moment`` (a receipt's ``at``)."""
    return (key.revoked_at is None or key.revoked_at > moment) and \
        (key.superseded_at is None or key.superseded_at >= moment) and \
        key.valid_from <= moment


def transport_key_resolver(peer: Peer | None = None):
    """Resolve the key id of a signed message to a public key of a paired node (of ``peer``
    only, when given): revoked keys resolve to nothing."""

    def resolve(key_id: str) -> bytes | None:
        query = select(Key).join(Peer, Peer.node_id == Key.origin).where(Key.key_id == key_id)
        if peer is not None:
            query = query.where(Key.origin == peer.node_id)
        key = db.session.scalar(query)
        return key.public_key if key is not None and key_usable_now(key) else None

    return resolve


def keys_header() -> str | None:
    """This node's key chain for the ``Rabita-Keys`` header, once it has rotated its key."""
    own = signing.identity()
    if len(own.keys) == 1:
        return None
    return protocol.b64(protocol.canonical([key.as_json() for key in own.keys]))


def read_keys_header(value: str | None) -> tuple[str, list[KeyInfo]] | None:
    """A peer's key chain from its ``Rabita-Keys`` header, checked from its pinned first key."""
    if not value or len(value) > 16384:
        return None
    try:
        keys = protocol.strict_loads(protocol.unb64(value))
        if not isinstance(keys, list) or not keys or not isinstance(keys[0], dict):
            return None
        origin = keys[0].get("key_id")
        pinned = db.session.scalar(select(Key).join(Peer, Peer.node_id == Key.origin)
                                   .where(Key.key_id == origin, Key.origin == origin))
        chain = identity.read_key_chain(origin, keys)
    except Refused:
        return None
    if pinned is None or chain[0].public_key != pinned.public_key:
        return None
    return origin, chain


def resolver_with_chain(peer: Peer | None, header: str | None):
    """Like ``transport_key_resolver``, also trusting keys a peer's header chains to the key
    pinned at pairing (a peer that rotated its key before this node read its feed)."""
    plain = transport_key_resolver(peer)
    learned: list = []

    def resolve(key_id: str) -> bytes | None:
        found = plain(key_id)
        if found is not None:
            return found
        chain = read_keys_header(header)
        if chain is None or (peer is not None and chain[0] != peer.node_id):
            return None
        key = next((k for k in chain[1] if k.key_id == key_id), None)
        if key is None or not key_usable_now(key):
            return None
        learned.append(chain)
        return key.public_key

    resolve.learned = learned
    return resolve


def remember_chain(resolve) -> None:
    """After a message verified with a chained key was accepted: remember those keys."""
    for origin, chain in getattr(resolve, "learned", []):
        learn_keys(origin, chain, source="chain")
