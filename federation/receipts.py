"""Deletion receipts: a holder's signed word that it purged a record after its tombstone.

A holder signs one receipt per tombstoned record and sends it to the node it got the
tombstone from. The origin attaches it to its outbound ledger; a hub passes its members'
receipts on to the origin, with its own signed vouching for the holders' keys, so the origin
can check a receipt from a node it never paired with. A receipt is taken only for a tombstone
this node sent that way — the origin's own, in a feed the sender reads, at the version the
tombstone names; a hub's, one it relayed — and only if its holder's key could sign it then.
"""

from __future__ import annotations

from sqlalchemy import select

from core import audit, clock, ledger
from core.extensions import db
from core.models import LedgerEntry
from federation import hub, identity, keys, outbox, peers, protocol, signing
from federation.models import Key, OutboxEntry, Peer, Receipt, ReceivedEntry, RelayItem
from federation.protocol import HUB, TOMBSTONE, Entry
from federation.reasons import Refused
from federation.settings import is_hub

MAX_RECEIPTS = 1000


def make(tombstone: Entry, deliver_to: str) -> Receipt:
    """Sign this node's receipt for a tombstone it applied; queue it for ``deliver_to``."""
    own = signing.identity()
    body = {
        "type": protocol.RECEIPT_TYPE, "holder": own.node_id, "key": own.current,
        "at": protocol.at_text(clock.now()), "origin": tombstone.origin,
        "record_type": tombstone.record_type, "record_id": tombstone.record_id,
        "version": tombstone.version, "tombstone": tombstone.hash,
    }
    text = protocol.canonical(body)
    envelope = protocol.envelope(text, signing.sign(text))
    return _store(body, envelope, deliver_to if deliver_to != own.node_id else None)


def pending(peer: Peer) -> list[Receipt]:
    return list(db.session.scalars(select(Receipt).where(
        Receipt.deliver_to == peer.node_id, Receipt.delivered_at.is_(None))
        .order_by(Receipt.id).limit(MAX_RECEIPTS)))


def message(receipts: list[Receipt]) -> dict:
    """What ``POST /federation/receipts`` carries; a hub vouches for the holders' keys."""
    document = {"type": protocol.RECEIPTS_TYPE,
                "receipts": [protocol.strict_loads(r.envelope) for r in receipts]}
    holders = {r.holder for r in receipts} - {signing.identity().node_id}
    if holders and is_hub():
        document["vouch"] = hub.vouch(sorted(holders))
    return document


def delivered(receipts: list[Receipt]) -> None:
    now = clock.now()
    for receipt in receipts:
        receipt.delivered_at = now


def receive(document, sender: Peer) -> int:
    """Check and keep receipts ``sender`` sent (in the request's transaction)."""
    if not isinstance(document, dict) or document.get("type") != protocol.RECEIPTS_TYPE or \
            not set(document) <= {"type", "receipts", "vouch"} or \
            not isinstance(document.get("receipts"), list) or \
            len(document["receipts"]) > MAX_RECEIPTS:
        raise Refused("bad-request")
    vouched = _vouched_keys(document.get("vouch"), sender)
    checked = [_check(envelope, sender, vouched) for envelope in document["receipts"]]
    own = signing.identity().node_id
    for body, _envelope in checked:  # every receipt checked before any is kept
        if not _tombstone_sent(body, sender, own):
            raise Refused("receipt-unknown")
    kept = 0
    for body, envelope in checked:
        if db.session.scalar(select(Receipt.id).where(
                Receipt.receipt_hash == _hash(envelope))) is not None:
            continue
        if body["origin"] == own:
            _store(body, envelope, None)
            _fill_ledger(body, envelope)
        else:
            _store(body, envelope, body["origin"])  # a hub passes it on to the origin
        kept += 1
    return kept


def _tombstone_sent(body: dict, sender: Peer, own: str) -> bool:
    """Whether the receipt names a tombstone this node sent towards its holder: its own, at
    the version the tombstone names, in a feed ``sender`` reads (the hub feed, when a hub
    passes on a member's receipt); or, on a hub, a member's tombstone it relayed."""
    if body["origin"] == own:
        feeds = (HUB,) if body["holder"] != sender.node_id else peers.readable_feeds(sender)
        return db.session.scalar(select(OutboxEntry.id).where(
            OutboxEntry.record_type == body["record_type"],
            OutboxEntry.record_id == body["record_id"], OutboxEntry.kind == TOMBSTONE,
            OutboxEntry.entry_hash == body["tombstone"], OutboxEntry.version == body["version"],
            OutboxEntry.feed.in_(feeds))) is not None
    if not is_hub() or not _member(body["origin"]) or body["holder"] != sender.node_id:
        return False
    return db.session.scalar(
        select(ReceivedEntry.id).join(RelayItem, RelayItem.entry_id == ReceivedEntry.id)
        .where(ReceivedEntry.origin == body["origin"],
               ReceivedEntry.record_type == body["record_type"],
               ReceivedEntry.record_id == body["record_id"], ReceivedEntry.kind == TOMBSTONE,
               ReceivedEntry.entry_hash == body["tombstone"],
               ReceivedEntry.version == body["version"])) is not None


def _check(envelope, sender: Peer, vouched: dict[str, bytes]) -> tuple[dict, dict]:
    raw, body, signature = protocol.open_envelope(envelope, protocol.RECEIPT_TYPE)
    fields = {"type", "holder", "key", "at", "origin", "record_type", "record_id", "version",
              "tombstone"}
    if set(body) != fields or not all(isinstance(body[f], str) for f in fields - {"version"}):
        raise Refused("bad-request", "not a receipt")
    if not protocol.NODE_ID.match(body["holder"]) or not protocol.UUID.match(body["record_id"]) \
            or not protocol.RECORD_TYPE.match(body["record_type"]) or \
            type(body["version"]) is not int or not protocol.HEX64.match(body["tombstone"]):
        raise Refused("bad-request", "not a receipt")
    at = protocol.parse_at(body["at"], "bad-request")
    # A holder speaks for itself; only a hub passes on receipts of others (its members).
    if body["holder"] != sender.node_id and not sender.is_hub:
        raise Refused("bad-request", "a receipt of another holder")
    key = _holder_key(body["holder"], body["key"]) or vouched.get(body["key"])
    # A key signs nothing from its switch (or its revocation) on.
    if key is None or not keys.key_usable_at(key, at) or \
            not identity.verify(key.public_key, raw, signature):
        raise Refused("signature-invalid", "a receipt's signature does not verify")
    return body, envelope


def _holder_key(holder: str, key_id: str) -> Key | None:
    return db.session.scalar(select(Key).where(Key.key_id == key_id, Key.origin == holder))


def _vouched_keys(vouch, sender: Peer) -> dict:
    if vouch is None:
        return {}
    if not sender.is_hub:
        raise Refused("bad-request", "only a hub vouches for keys")
    return {key.key_id: key
            for _origin, keys in hub.read_vouch(vouch, sender).items() for key in keys}


def _member(origin: str) -> bool:
    return db.session.scalar(select(Peer.id).where(Peer.node_id == origin,
                                                   Peer.state == "approved")) is not None


def _fill_ledger(body: dict, envelope: dict) -> None:
    """Receipts fill the outbound ledger. A holder reached through the hub is not in it yet:
    its signed receipt proves the version reached it, so it is added with the receipt."""
    holder, record_id = body["holder"], body["record_id"]
    versions = set(db.session.scalars(select(LedgerEntry.version).where(
        LedgerEntry.record_type == body["record_type"], LedgerEntry.record_uuid == record_id,
        LedgerEntry.recipient == holder, LedgerEntry.receipt.is_(None))))
    if not versions:
        sent = outbox.record_version_for_receipt(record_id, body["version"], holder)
        if sent is None:
            return
        ledger.record_sent_many([ledger.Sent(
            sent.record_type, record_id, sent.version, sent.feed, holder, sent.payload_hash,
            sent.policy_hash, sent.consent_id)])
        versions = {sent.version}
    text = protocol.dumps(envelope).decode("utf-8")
    for version in versions:
        ledger.attach_receipt(recipient=holder, record_uuid=record_id, version=version,
                              receipt=text)
    audit.record("federation.receipt", target_type=body["record_type"], target_id=record_id,
                 holder=holder)


def _store(body: dict, envelope: dict, deliver_to: str | None) -> Receipt:
    receipt = Receipt(
        receipt_hash=_hash(envelope), holder=body["holder"], origin=body["origin"],
        record_type=body["record_type"], record_id=body["record_id"],
        version=body["version"], at=protocol.parse_at(body["at"], "bad-request"),
        envelope=protocol.dumps(envelope).decode("utf-8"), deliver_to=deliver_to,
    )
    db.session.add(receipt)
    return receipt


def _hash(envelope: dict) -> str:
    return protocol.sha256_hex(envelope["signed"].encode("utf-8"))
