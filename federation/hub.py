"""The hub role: vouching for members' keys, so a node can verify records relayed from
members it never paired with. (What the hub relays, and to whom, is decided where entries
are applied: ``federation.inbox``; statistics come in a later issue.)

A vouch is a document signed by the hub listing, for each member it paired with, the keys it
knows and when each may sign. A node trusts it only from a hub it paired with itself, and
never over keys it pinned by pairing directly with that member.
"""

from __future__ import annotations

from sqlalchemy import select

from core import clock
from core.extensions import db
from federation import identity, protocol, signing
from federation.identity import KeyInfo
from federation.keys import key_usable_now, learn_keys
from federation.models import APPROVED, Key, Peer
from federation.reasons import Refused

MAX_MEMBERS = 1000


def vouch(members: list[str] | None = None) -> dict:
    """The hub's signed list of its members' keys (all members, or those named)."""
    query = select(Peer).where(Peer.state == APPROVED, Peer.role == "node")
    if members is not None:
        query = query.where(Peer.node_id.in_(members))
    listed = []
    for member in db.session.scalars(query.order_by(Peer.node_id)):
        keys = db.session.scalars(select(Key).where(Key.origin == member.node_id)
                                  .order_by(Key.valid_from, Key.id))
        listed.append({"node_id": member.node_id, "keys": [
            KeyInfo(k.key_id, k.public_key, k.valid_from, k.superseded_at,
                    k.revoked_at).as_json() for k in keys]})
    own = signing.identity()
    text = protocol.canonical({"type": protocol.VOUCH_TYPE, "hub": own.node_id,
                               "key": own.current, "at": protocol.at_text(clock.now()),
                               "members": listed})
    return protocol.envelope(text, signing.sign(text))


def read_vouch(document, hub: Peer) -> dict[str, list[KeyInfo]]:
    """Check a vouch from ``hub`` (a hub this node paired with); return the keys it lists."""
    raw, body, signature = protocol.open_envelope(document, protocol.VOUCH_TYPE)
    if set(body) != {"type", "hub", "key", "at", "members"} or body["hub"] != hub.node_id or \
            not isinstance(body["members"], list) or len(body["members"]) > MAX_MEMBERS:
        raise Refused("bad-request", "not a vouch")
    signer = db.session.scalar(select(Key).where(Key.key_id == body["key"],
                                                 Key.origin == hub.node_id))
    if signer is None or not key_usable_now(signer) or \
            not identity.verify(signer.public_key, raw, signature):
        raise Refused("signature-invalid", "the vouch does not verify")
    result = {}
    for member in body["members"]:
        if not isinstance(member, dict) or set(member) != {"node_id", "keys"} or \
                not isinstance(member["node_id"], str) or \
                not protocol.NODE_ID.match(member["node_id"]):
            raise Refused("bad-request", "not a vouch")
        keys = [_key(k) for k in member["keys"]] if isinstance(member["keys"], list) else None
        if not keys or keys[0].key_id != member["node_id"]:
            raise Refused("bad-request", "a member's first key is not its own")
        result[member["node_id"]] = keys
    return result


def _key(value) -> KeyInfo:
    if not isinstance(value, dict) or set(value) != {
            "key_id", "public_key", "valid_from", "superseded_at", "revoked_at"}:
        raise Refused("bad-request", "not a key")
    public = protocol.unb64(value["public_key"], 32)
    if identity.key_id_of(public) != value["key_id"]:
        raise Refused("bad-request", "a key id does not match its key")

    def at(name):
        return None if value[name] is None else protocol.parse_at(value[name], "bad-request")

    return KeyInfo(value["key_id"], public, at("valid_from"), at("superseded_at"),
                   at("revoked_at"))


def learn_vouched(document, hub: Peer) -> int:
    """Remember members' keys a hub vouches for, except of nodes paired with directly."""
    learned = 0
    direct = set(db.session.scalars(select(Peer.node_id)))
    for member, keys in read_vouch(document, hub).items():
        if member in direct or member == signing.identity().node_id:
            continue  # pinned by our own pairing: a hub's word does not replace it
        learned += learn_keys(member, keys, source="vouch", vouched_by=hub.node_id)
    return learned
