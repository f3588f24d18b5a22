"""Offline bundles: the same signed entries on a USB stick, for when the network is cut.

A bundle holds every entry of the feeds one peer may read, signed as a whole by this node and
sealed to that peer's key (a NaCl sealed box), so a stick seized on the way shows nothing.
Importing runs the very checks a pull runs — continuity, chain, origin signatures, payload
hashes — page by page, each in its own transaction with the cursor; a gap or a fork
quarantines the origin as a pull's does. The file is written readable by its owner only.
"""

from __future__ import annotations

import os
from pathlib import Path

from nacl.exceptions import CryptoError
from nacl.public import SealedBox
from nacl.signing import VerifyKey
from sqlalchemy import select

from core import audit, clock
from core.extensions import db
from federation import (
    hub,
    identity,
    inbox,
    keys,
    outbox,
    peers,
    protocol,
    receipts,
    signing,
)
from federation.models import Key, Peer
from federation.protocol import RELAY
from federation.reasons import Refused
from federation.settings import is_hub, setting

MAGIC = b"RABITA-BUNDLE-1\n"
PAGE = 500


def export(peer: Peer, path: Path) -> int:
    """Write a bundle of everything ``peer`` may read from this node; return the entries.
    What leaves is written to the outbound ledger, as for a pull. Commits."""
    if not peer.approved:
        raise Refused("peer-not-approved")
    feeds, count = {}, 0
    for feed in peers.readable_feeds(peer):
        items, head = [], 0
        while True:
            if feed == RELAY:
                page, head = inbox.relay_page(len(items), PAGE)
            else:
                page, head = outbox.page(feed, len(items), PAGE, recipient=peer.node_id)
            items += page
            if len(page) < PAGE:
                break
        feeds[feed] = {"head": head, "items": items}
        count += len(items)
    own = signing.identity()
    inner = protocol.dumps({
        "type": protocol.BUNDLE_TYPE, "from": own.node_id, "to": peer.node_id,
        "at": protocol.at_text(clock.now()), "keys": [k.as_json() for k in own.keys],
        "vouch": hub.vouch() if is_hub() else None, "feeds": feeds,
    })
    signed = protocol.dumps({"bundle": inner.decode("utf-8"),
                             "sig": protocol.b64(signing.sign(inner))})
    recipient = db.session.scalar(select(Key).where(Key.origin == peer.node_id)
                                  .order_by(Key.valid_from.desc(), Key.id.desc()))
    box = SealedBox(VerifyKey(recipient.public_key).to_curve25519_public_key())
    _write_private(path, MAGIC + box.encrypt(signed))
    audit.record("federation.bundle_exported", target_type="federation.peer",
                 target_id=peer.node_id, entries=count)
    db.session.commit()
    return count


def import_bundle(path: Path) -> int:
    """Verify and apply a bundle made for this node; return how many entries it held."""
    size = path.stat().st_size
    if size > setting("FEDERATION_BUNDLE_MAX_BYTES"):
        raise Refused("too-large")
    data = path.read_bytes()
    if not data.startswith(MAGIC):
        raise Refused("bundle-invalid")
    try:
        signed = signing.open_sealed(data[len(MAGIC):])
    except (CryptoError, ValueError):
        raise Refused("bundle-not-for-us") from None
    outer = protocol.strict_loads(signed)
    if not isinstance(outer, dict) or set(outer) != {"bundle", "sig"} or \
            not isinstance(outer["bundle"], str):
        raise Refused("bundle-invalid")
    inner_bytes = outer["bundle"].encode("utf-8")
    bundle = protocol.strict_loads(inner_bytes)
    if not isinstance(bundle, dict) or bundle.get("type") != protocol.BUNDLE_TYPE or \
            set(bundle) != {"type", "from", "to", "at", "keys", "vouch", "feeds"}:
        raise Refused("bundle-invalid")
    own = signing.identity().node_id
    if bundle["to"] != own:
        raise Refused("bundle-not-for-us")
    sender = db.session.scalar(select(Peer).where(Peer.node_id == bundle["from"]))
    if sender is None or not sender.approved:
        raise Refused("peer-not-approved")
    chain = identity.read_key_chain(sender.node_id, bundle["keys"], code="bundle-invalid")
    pinned = db.session.scalar(select(Key).where(Key.key_id == sender.node_id))
    if pinned is None or pinned.public_key != chain[0].public_key:
        raise Refused("signature-invalid")
    signer = _signer_now(chain, protocol.unb64(outer["sig"], 64, "bundle-invalid"), inner_bytes)
    if signer is None:
        raise Refused("signature-invalid")
    keys.learn_keys(sender.node_id, chain, source="chain")
    if bundle["vouch"] is not None and sender.is_hub:
        hub.learn_vouched(bundle["vouch"], sender)
    feeds = bundle["feeds"]
    if not isinstance(feeds, dict) or not set(feeds) <= set(peers.feeds_to_pull(sender)):
        raise Refused("wrong-feed")
    total = 0
    try:
        for feed, content in feeds.items():
            total += _import_feed(sender, feed, content, own)
    except Refused as refused:
        if refused.code in ("gap", "fork"):  # the alert an administrator needs, as a pull's
            db.session.rollback()
            inbox.quarantine(refused.code, refused.origin or sender.node_id, sender)
            db.session.commit()
        raise
    audit.record("federation.bundle_imported", target_type="federation.peer",
                 target_id=sender.node_id, entries=total)
    db.session.commit()
    return total


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` readable by its owner only (0600), also when it exists."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def _signer_now(chain, signature: bytes, data: bytes):
    for key in chain:
        if key.revoked_at is None and identity.verify(key.public_key, data, signature):
            return key
    return None


def _import_feed(sender: Peer, feed: str, content, own: str) -> int:
    if not isinstance(content, dict) or set(content) != {"head", "items"} or \
            not isinstance(content["items"], list) or type(content["head"]) is not int:
        raise Refused("bundle-invalid")
    items = content["items"]
    after, _link = inbox.cursor_of(sender.id, feed)
    if feed == RELAY:
        items = [item for item in items if isinstance(item, dict) and
                 type(item.get("seq")) is int and item["seq"] > after]
    for start in range(0, max(len(items), 1), PAGE):
        chunk = items[start:start + PAGE]
        after, link = inbox.cursor_of(sender.id, feed)
        keys = inbox.Keys()
        if feed == RELAY:
            page = inbox.verify_relay(sender.node_id, chunk, content["head"], after, link, keys,
                                      own)
        else:
            page = inbox.verify_feed(sender.node_id, feed, chunk, content["head"], keys, own)
        applied = inbox.apply(page.items, received_from=sender.node_id,
                              relay=is_hub() and feed == protocol.HUB)
        for tombstone, to in applied.receipts:
            receipts.make(tombstone, to)
        inbox.advance(sender.id, page)
        db.session.commit()
    return len(items)
