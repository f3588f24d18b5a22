"""Sealed relay (protocol 1.1): a record whose consent covers partner nodes but not the hub
travels through the hub as ciphertext that only its recipient nodes can open.

- Each node that pairs with a hub has an **encryption key** (X25519; the private half is
  wrapped by the node key like the signing keys, and only ``federation.signing`` touches it),
  announced by a signed ``key`` entry ``{"action": "encrypt", ...}`` in its ``hub`` feed,
  which the hub relays like every key entry. A ``revoke`` key entry naming it ends it.
- The origin seals the payload it gives partner nodes (the ``peers`` entry's, byte for byte)
  once, with a random content key (XChaCha20-Poly1305, bound to origin, record and version),
  and seals that key to each member's current encryption key (a NaCl sealed box). The
  ``sealed`` entry in the ``hub`` feed signs the hash of that sealed text (``payload_hash``:
  what the hub checks), the recipients and ``content_hash`` = SHA-256(content key ‖ payload),
  which a recipient checks after opening it and which tells nobody else anything.
- The hub verifies the entry like any (origin signature, chain, order, canonical bytes, the
  sealed text against its hash and its form), keeps and relays the sealed text, and never
  holds, counts or shows it. A recipient opens its box; any other member keeps the entry
  alone. Tombstones are those of any record.

Nothing here touches a private key; the crypto is PyNaCl's (libsodium).
"""

from __future__ import annotations

import json
import secrets

from nacl import bindings
from nacl.exceptions import CryptoError
from nacl.public import PublicKey, SealedBox
from sqlalchemy import func, select
from sqlalchemy.orm import defer

from core import audit, clock
from core.extensions import db
from federation import outbox, protocol, signing
from federation.models import OutboxEntry, Peer, ReceivedEntry
from federation.protocol import HUB, KEY, PEERS, RECORD, SEALED, SEALED_TYPE, TOMBSTONE, Entry
from federation.reasons import Refused
from federation.settings import is_hub

CONTENT_AAD = b"rabita.sealed/1\x00"
KEY_BYTES = 32
NONCE_BYTES = 24


# -- sealing and opening --------------------------------------------------------------------


def binding(origin: str, record_id: str, version: int) -> bytes:
    """The associated data of a sealed payload: a ciphertext opens only as the payload of
    that origin's record, at that version."""
    return CONTENT_AAD + f"{origin}\x00{record_id}\x00{version}".encode("ascii")


def content_hash(content_key: bytes, payload: bytes) -> str:
    return protocol.sha256_hex(content_key + payload)


def seal(payload: bytes, recipients: dict[str, tuple[str, bytes]], *, origin: str,
         record_id: str, version: int, content_key: bytes | None = None,
         nonce: bytes | None = None) -> tuple[bytes, str]:
    """Seal ``payload`` (canonical text) to ``recipients`` (node id -> (encryption key id,
    public key)); return the sealed text and its ``content_hash``. ``content_key`` and
    ``nonce`` are random unless given (test vectors)."""
    content_key = content_key or secrets.token_bytes(KEY_BYTES)
    nonce = nonce or secrets.token_bytes(NONCE_BYTES)
    ciphertext = bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        payload, binding(origin, record_id, version), nonce, content_key)
    boxes = [{"to": node, "key": recipients[node][0],
              "box": protocol.b64(SealedBox(PublicKey(recipients[node][1])).encrypt(content_key))}
             for node in sorted(recipients)]
    text = protocol.canonical({"type": SEALED_TYPE, "boxes": boxes, "nonce": protocol.b64(nonce),
                               "ciphertext": protocol.b64(ciphertext)})
    return text, content_hash(content_key, payload)


def open_payload(entry: Entry, sealed: bytes | None, own_node_id: str) -> bytes | None:
    """The payload of a sealed entry for this node (its checked canonical text), or None
    when there is none for it (not a recipient, or purged). ``sealed`` was checked against
    the entry's hash and its form (``protocol.read_payload``). A box that does not open,
    a ciphertext that does not, or a payload other than the one the origin signed:
    ``sealed-invalid``."""
    if sealed is None or own_node_id not in entry.sealed["to"]:
        return None
    value = json.loads(sealed)
    box = next(box for box in value["boxes"] if box["to"] == own_node_id)
    content_key = signing.open_content_key(protocol.unb64(box["box"]), box["key"])
    if content_key is None:
        raise Refused("sealed-invalid", "the box does not open with this node's key")
    return open_with(entry, value, content_key)


def open_with(entry: Entry, value: dict, content_key: bytes) -> bytes:
    """Open a sealed payload with its content key and check it against the entry."""
    try:
        payload = bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
            protocol.unb64(value["ciphertext"]), binding(entry.origin, entry.record_id,
                                                         entry.version),
            protocol.unb64(value["nonce"]), content_key)
    except CryptoError:
        raise Refused("sealed-invalid", "the ciphertext does not open") from None
    if content_hash(content_key, payload) != entry.sealed["content_hash"]:
        raise Refused("sealed-invalid", "not the payload its origin signed")
    found = protocol.read_canonical(payload, "sealed-invalid")
    if not isinstance(found, dict):
        raise Refused("sealed-invalid", "a payload must be an object")
    return payload


# -- this node's encryption key -------------------------------------------------------------


def current_key() -> signing.EncryptionKey | None:
    """This node's current encryption key (the newest not revoked), if any."""
    live = [k for k in signing.identity().encryption if k.revoked_at is None]
    return live[-1] if live else None


def _has_hub() -> bool:
    return db.session.scalar(select(Peer.id).where(Peer.role == "hub", Peer.state == "approved")
                             .limit(1)) is not None


def announce() -> signing.EncryptionKey | None:
    """A member node of a hub that has no encryption key: make one and announce it in its
    ``hub`` feed (each sync round asks). Commits. None when nothing was done."""
    if is_hub() or not signing.unlocked() or current_key() is not None or not _has_hub():
        return None
    return _new_key()


def _new_key() -> signing.EncryptionKey:
    key = signing.create_encryption_key()
    outbox.append(HUB, KEY, {"key_event": {"action": "encrypt", "key_id": key.key_id,
                                           "public_key": protocol.b64(key.public_key)}})
    audit.record("federation.encryption_key", target_type="federation.key",
                 target_id=key.key_id)
    db.session.commit()
    return key


def rotate() -> signing.EncryptionKey | None:
    """With the signing key's rotation: a new encryption key, announced (if there was one)."""
    if current_key() is None:
        return None
    return _new_key()


def revoke(key_id: str, since=None) -> signing.EncryptionKey:
    """Declare one of this node's encryption keys untrusted (from ``since``; now by default)
    in its ``hub`` feed, and announce a new one: origins seal nothing more to it. Commits."""
    if all(k.key_id != key_id for k in signing.identity().encryption):
        raise signing.SigningError("This node has no such encryption key. Nothing was changed.")
    moment = (since or clock.now()).replace(microsecond=0)
    signing.revoke_encryption_key(key_id, moment)
    outbox.append(HUB, KEY, {"key_event": {"action": "revoke", "key_id": key_id,
                                           "revoked_at": protocol.at_text(moment)}})
    audit.record("federation.encryption_key_revoked", target_type="federation.key",
                 target_id=key_id)
    db.session.commit()
    return _new_key()


# -- other nodes' encryption keys -------------------------------------------------------------


def recipient_keys() -> dict[str, tuple[str, bytes]]:
    """The members this node may seal to: node id -> (key id, public key) of the newest
    encryption key each announced in a signed ``key`` entry (relayed by the hub) and did not
    revoke. Hubs and this node are not recipients."""
    own = signing.identity().node_id
    hubs = set(db.session.scalars(select(Peer.node_id).where(Peer.role == "hub")))
    announced: dict[str, list[tuple[str, bytes]]] = {}
    revoked: set[str] = set()
    for origin, text in db.session.execute(
            select(ReceivedEntry.origin, ReceivedEntry.entry)
            .where(ReceivedEntry.kind == KEY, ReceivedEntry.feed == HUB,
                   ReceivedEntry.invalid_reason.is_(None))
            .order_by(ReceivedEntry.origin, ReceivedEntry.seq)):
        event = json.loads(text)["key_event"]
        if event["action"] == "encrypt":
            announced.setdefault(origin, []).append(
                (event["key_id"], protocol.unb64(event["public_key"])))
        elif event["action"] == "revoke":
            revoked.add(event["key_id"])
    found = {}
    for origin, keys in announced.items():
        live = [key for key in keys if key[0] not in revoked]
        if live and origin != own and origin not in hubs:
            found[origin] = live[-1]
    return found


# -- the origin: sealing what partner nodes may read ----------------------------------------


def seal_pending(record_ids: list[str] | None = None) -> int:
    """Seal for the hub each record this node shares with partner nodes under a consent that
    does not cover the hub, to every member with a current encryption key it has not yet
    sealed this version to; tombstone the sealed copy of a record partner nodes may no
    longer read. After a share (``record_ids``) and each sync round. Commits. Returns how
    many entries were made."""
    if is_hub() or not signing.unlocked() or not _has_hub():
        return 0
    newest = select(OutboxEntry.record_id, func.max(OutboxEntry.seq).label("seq")) \
        .where(OutboxEntry.feed == PEERS, OutboxEntry.record_id.is_not(None))
    if record_ids is not None:
        newest = newest.where(OutboxEntry.record_id.in_(record_ids))
    newest = newest.group_by(OutboxEntry.record_id).subquery()
    shared = list(db.session.scalars(select(OutboxEntry).options(defer(OutboxEntry.payload)).join(
        newest, (OutboxEntry.record_id == newest.c.record_id) &
        (OutboxEntry.seq == newest.c.seq)).where(OutboxEntry.feed == PEERS)))
    if not shared:
        return 0
    recipients = recipient_keys()
    made = 0
    in_hub = _hub_entries([entry.record_id for entry in shared])
    for entry in shared:
        hub_entries = in_hub.get(entry.record_id, [])
        last = hub_entries[-1] if hub_entries else None
        if last is not None and last.kind != SEALED:
            continue  # the record itself is in the hub feed (its consent covers the hub)
        if entry.kind == TOMBSTONE:
            if last is not None:  # partner nodes may no longer read it: nor through the hub
                made += len(outbox.tombstone(entry.record_type, entry.record_id,
                                             json.loads(entry.entry)["reason"], [HUB]))
            continue
        body = json.loads(entry.entry)
        if entry.kind != RECORD or HUB in body["consent"]["audiences"]:
            continue
        done = {node for sealed in hub_entries if sealed.id > entry.id
                for node in json.loads(sealed.entry)["sealed"]["to"]}
        missing = {node: key for node, key in recipients.items() if node not in done}
        if missing and entry.payload is not None:  # (read only now: deferred)
            _seal_entry(entry, body, missing)
            made += 1
    if made:
        # Once per round: each record's share to partner nodes was audited when it was made.
        audit.record("federation.sealed", target_type="federation.feed", target_id=HUB,
                     audience=PEERS, entries=made)
        db.session.commit()
    return made


def _hub_entries(record_ids: list[str]) -> dict[str, list]:
    """The hub feed's entries of these records, in order (a few queries, not one each; their
    id, record id, kind and entry text: not the sealed texts, large with many recipients)."""
    found: dict[str, list] = {}
    for start in range(0, len(record_ids), 500):
        for row in db.session.execute(
                select(OutboxEntry.id, OutboxEntry.record_id, OutboxEntry.kind,
                       OutboxEntry.entry)
                .where(OutboxEntry.feed == HUB,
                       OutboxEntry.record_id.in_(record_ids[start:start + 500]))
                .order_by(OutboxEntry.seq)):
            found.setdefault(row.record_id, []).append(row)
    return found


def _seal_entry(entry: OutboxEntry, body: dict, recipients: dict) -> OutboxEntry:
    payload = entry.payload.encode("utf-8")
    text, hashed = seal(payload, recipients, origin=body["origin"],
                        record_id=entry.record_id, version=entry.version)
    fields = {"record_type": entry.record_type, "record_id": entry.record_id,
              "version": entry.version, "consent": body["consent"],
              "payload_hash": protocol.sha256_hex(text),
              "sealed": {"to": sorted(recipients), "content_hash": hashed}}
    if protocol.TYPE_VERSION in body:
        fields[protocol.TYPE_VERSION] = body[protocol.TYPE_VERSION]
    return outbox.append(HUB, SEALED, fields, payload=text, policy_hash=entry.policy_hash,
                         consent_id=entry.consent_id)
