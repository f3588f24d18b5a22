"""Deletion receipts: signed by the holder, checked by whoever receives them."""

import uuid

import pytest
from sqlalchemy import select

from core.extensions import db
from federation import protocol, receipts, signing
from federation.models import Peer, Receipt
from federation.reasons import Refused
from tests.federation.conftest import Origin


def made_by(origin, about, version=1):
    """A receipt signed by ``origin`` (a holder) for a record of ``about``."""
    body = {"type": protocol.RECEIPT_TYPE, "holder": origin.node_id, "key": origin.key_id,
            "at": "2026-03-01T10:00:00Z", "origin": about, "record_type": "testimony.testimony",
            "record_id": str(uuid.UUID(int=7)), "version": version, "tombstone": "a" * 64}
    text = protocol.canonical(body)
    return protocol.envelope(text, origin.key.sign(text).signature)


def deliver(app, sender, *envelopes):
    with app.app_context():
        peer = db.session.scalar(select(Peer).where(Peer.node_id == sender.node_id))
        kept = receipts.receive({"type": protocol.RECEIPTS_TYPE, "receipts": list(envelopes)},
                                peer)
        db.session.commit()
        return kept


@pytest.fixture
def origin_node(federation_app):
    return federation_app()


def test_a_holders_receipt_is_kept_once(origin_node):
    holder = Origin(seed=71)
    holder.pin(origin_node)
    with origin_node.app_context():
        own = signing.identity().node_id
    receipt = made_by(holder, own)
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
