"""Deletion receipts: a holder's signed word that it purged a record after its tombstone.

A holder signs one receipt per tombstoned record and sends it to the node it got the
tombstone from. The origin attaches it to its outbound ledger; a hub passes its members'
receipts on to the origin, with its own signed vouching for the holders' keys, so the origin
can check a receipt from a node it never paired with.
"""

from __future__ import annotations

from sqlalchemy import select

from core import audit, clock, ledger
from core.extensions import db
from core.models import LedgerEntry
from federation import identity, outbox, peers, protocol, signing
from federation.models import Key, Peer, Receipt
from federation.protocol import Entry
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
        from federation import hub

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
    kept = 0
    for body, envelope in checked:
        if db.session.scalar(select(Receipt.id).where(
                Receipt.receipt_hash == _hash(envelope))) is not None:
            continue
        if body["origin"] == own:
            _store(body, envelope, None)
            _fill_ledger(body, envelope)
        elif is_hub() and _member(body["origin"]):
            _store(body, envelope, body["origin"])  # pass it on to the origin
        else:
            continue
        kept += 1
    return kept


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
    protocol.parse_at(body["at"], "bad-request")
    # A holder speaks for itself; only a hub passes on receipts of others (its members).
    if body["holder"] != sender.node_id and not sender.is_hub:
        raise Refused("bad-request", "a receipt of another holder")
    public = _holder_key(body["holder"], body["key"]) or vouched.get(body["key"])
    if public is None or not identity.verify(public, raw, signature):
        raise Refused("signature-invalid", "a receipt's signature does not verify")
    return body, envelope


def _holder_key(holder: str, key_id: str) -> bytes | None:
    key = db.session.scalar(select(Key).where(Key.key_id == key_id, Key.origin == holder))
    return key.public_key if key is not None and peers.key_usable_now(key) else None


def _vouched_keys(vouch, sender: Peer) -> dict[str, bytes]:
    if vouch is None:
        return {}
    if not sender.is_hub:
        raise Refused("bad-request", "only a hub vouches for keys")
    from federation import hub

    return {key.key_id: key.public_key
            for _origin, keys in hub.read_vouch(vouch, sender).items() for key in keys
            if peers.key_usable_now(key)}


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
        sent = outbox.record_version_for_receipt(record_id, body["version"])
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
