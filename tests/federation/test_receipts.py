"""Deletion receipts: signed by the holder, checked by whoever receives them, and taken only
for a tombstone this node sent."""

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core import clock
from core.extensions import db
from core.models import LedgerEntry
from federation import outbox, protocol, receipts, signing
from federation.models import Key, Peer, Receipt
from federation.reasons import Refused
from tests.federation.conftest import Origin

RECORD_ID = str(uuid.UUID(int=7))


def made_by(origin, about, version=1, *, tombstone="a" * 64, record_id=RECORD_ID,
            at="2026-03-01T10:00:00Z", key=None, key_id=None):
    """A receipt signed by ``origin`` (a holder) for a record of ``about``."""
    body = {"type": protocol.RECEIPT_TYPE, "holder": origin.node_id,
            "key": key_id or origin.key_id, "at": at, "origin": about,
            "record_type": "testimony.testimony", "record_id": record_id, "version": version,
            "tombstone": tombstone}
    text = protocol.canonical(body)
    return protocol.envelope(text, (key or origin.key).sign(text).signature)


def deliver(app, sender, *envelopes):
    with app.app_context():
        peer = db.session.scalar(select(Peer).where(Peer.node_id == sender.node_id))
        kept = receipts.receive({"type": protocol.RECEIPTS_TYPE, "receipts": list(envelopes)},
                                peer)
        db.session.commit()
        return kept


def tombstoned(app, record_id=RECORD_ID, feed="peers", versions=1):
    """This node shared ``versions`` versions of a record in ``feed``, then tombstoned it;
    returns (own node id, the tombstone's hash)."""
    with app.test_request_context():
        payload = protocol.canonical({"title": "A summons"})
        for version in range(1, versions + 1):
            outbox.append(feed, protocol.RECORD, {
                "record_type": "testimony.testimony", "record_id": record_id,
                "version": version, "payload_hash": protocol.sha256_hex(payload),
                "relay": False, "consent": {"audiences": [feed], "purposes": ["advocacy"],
                                            "expires": None}}, payload=payload,
                policy_hash="0" * 64)
        (made,) = outbox.tombstone("testimony.testimony", record_id, "withdrawn", [feed])
        db.session.commit()
        return signing.identity().node_id, made.entry_hash


def stored_receipts(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Receipt)), \
            db.session.scalar(select(func.count()).select_from(LedgerEntry).where(
                LedgerEntry.receipt.is_not(None)))


@pytest.fixture
def origin_node(federation_app):
    return federation_app()


def test_a_holders_receipt_is_kept_once(origin_node):
    holder = Origin(seed=71)
    holder.pin(origin_node)
    own, tombstone = tombstoned(origin_node)
    receipt = made_by(holder, own, tombstone=tombstone)
    assert deliver(origin_node, holder, receipt) == 1
    assert deliver(origin_node, holder, receipt) == 0
    with origin_node.app_context():
        assert db.session.scalar(select(Receipt.holder)) == holder.node_id


def test_a_forged_receipt_is_refused(origin_node):
    holder, forger = Origin(seed=71), Origin(seed=72)
    holder.pin(origin_node)
    with origin_node.app_context():
        own = signing.identity().node_id
    forged = made_by(forger, own)
    forged["signed"] = forged["signed"].replace(forger.node_id, holder.node_id)
    with pytest.raises(Refused) as refused:
        deliver(origin_node, holder, forged)
    assert refused.value.code == "signature-invalid"


def test_a_node_may_not_speak_for_another_holder(origin_node):
    holder, other = Origin(seed=71), Origin(seed=72)
    holder.pin(origin_node)
    other.pin(origin_node)
    with origin_node.app_context():
        own = signing.identity().node_id
    with pytest.raises(Refused):
        deliver(origin_node, holder, made_by(other, own))


def test_only_a_hub_vouches(origin_node):
    holder = Origin(seed=71)
    holder.pin(origin_node)
    with origin_node.app_context():
        peer = db.session.scalar(select(Peer).where(Peer.node_id == holder.node_id))
        with pytest.raises(Refused):
            receipts.receive({"type": protocol.RECEIPTS_TYPE, "receipts": [], "vouch": {}}, peer)


# -- a receipt is tied to a tombstone this node sent (issue 19, Found 2) --------------------


def test_a_receipt_for_a_live_record_naming_no_tombstone_is_refused(origin_node):
    """At 8a0d646 this was answered 200 and attached: the ledger showed a live record as
    received and deleted."""
    holder = Origin(seed=71)
    holder.pin(origin_node)
    own, _tombstone = tombstoned(origin_node, record_id=str(uuid.UUID(int=8)))
    with origin_node.test_request_context():  # a live record, never withdrawn
        payload = protocol.canonical({"title": "Still shared"})
        outbox.append("peers", protocol.RECORD, {
            "record_type": "testimony.testimony", "record_id": RECORD_ID, "version": 1,
            "payload_hash": protocol.sha256_hex(payload), "relay": False,
            "consent": {"audiences": ["peers"], "purposes": ["advocacy"], "expires": None}},
            payload=payload, policy_hash="0" * 64)
        db.session.commit()
    with pytest.raises(Refused) as refused:
        deliver(origin_node, holder, made_by(holder, own, tombstone="b" * 64))
    assert refused.value.code == "receipt-unknown"
    assert stored_receipts(origin_node) == (0, 0)


def test_a_receipt_for_a_record_that_does_not_exist_is_refused(origin_node):
    holder = Origin(seed=71)
    holder.pin(origin_node)
    own, tombstone = tombstoned(origin_node)
    with pytest.raises(Refused) as refused:
        deliver(origin_node, holder, made_by(holder, own, tombstone=tombstone,
                                             record_id=str(uuid.UUID(int=99))))
    assert refused.value.code == "receipt-unknown"
    assert stored_receipts(origin_node) == (0, 0)


def test_a_receipt_at_another_version_than_the_tombstones_is_refused(origin_node):
    holder = Origin(seed=71)
    holder.pin(origin_node)
    own, tombstone = tombstoned(origin_node, versions=2)  # the tombstone names version 2
    with pytest.raises(Refused) as refused:
        deliver(origin_node, holder, made_by(holder, own, version=1, tombstone=tombstone))
    assert refused.value.code == "receipt-unknown"
    assert deliver(origin_node, holder, made_by(holder, own, version=2,
                                                tombstone=tombstone)) == 1


def test_a_receipt_for_a_tombstone_of_a_feed_the_holder_does_not_read_is_refused(origin_node):
    holder = Origin(seed=71)
    holder.pin(origin_node)  # a partner node: it reads the peers feed, not the hub's
    own, tombstone = tombstoned(origin_node, feed="hub")
    with pytest.raises(Refused) as refused:
        deliver(origin_node, holder, made_by(holder, own, tombstone=tombstone))
    assert refused.value.code == "receipt-unknown"


def test_one_unknown_receipt_refuses_the_message_and_nothing_is_kept(origin_node):
    holder = Origin(seed=71)
    holder.pin(origin_node)
    own, tombstone = tombstoned(origin_node)
    good = made_by(holder, own, tombstone=tombstone)
    with pytest.raises(Refused):
        deliver(origin_node, holder, good, made_by(holder, own, tombstone="c" * 64))
    assert stored_receipts(origin_node) == (0, 0)


def test_a_receipt_about_another_origin_is_refused_by_a_node(origin_node):
    holder, stranger = Origin(seed=71), Origin(seed=73)
    holder.pin(origin_node)
    with pytest.raises(Refused) as refused:
        deliver(origin_node, holder, made_by(holder, stranger.node_id))
    assert refused.value.code == "receipt-unknown"


def test_a_receipt_signed_after_its_key_was_superseded_is_refused(origin_node):
    """A key signs nothing from its switch on (issue 19, Found 3)."""
    holder = Origin(seed=71)
    holder.pin(origin_node)
    own, tombstone = tombstoned(origin_node)
    with origin_node.app_context():
        key = db.session.scalar(select(Key).where(Key.key_id == holder.node_id))
        key.superseded_at = clock.now() - timedelta(days=1)
        db.session.commit()
    late = protocol.at_text(clock.now())
    with pytest.raises(Refused) as refused:
        deliver(origin_node, holder, made_by(holder, own, tombstone=tombstone, at=late))
    assert refused.value.code == "signature-invalid"
    before = protocol.at_text(clock.now() - timedelta(days=2))
    assert deliver(origin_node, holder, made_by(holder, own, tombstone=tombstone,
                                                at=before)) == 1
