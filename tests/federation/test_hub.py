"""The hub: what it relays (consent decides), and the member keys it vouches for."""

import uuid

import pytest
from sqlalchemy import select

from core.extensions import db
from federation import hub, inbox, peers, protocol, signing
from federation.models import Key, Peer, RelayItem
from federation.reasons import Refused
from tests.federation.conftest import Origin, as_item


@pytest.fixture
def the_hub(federation_app):
    return federation_app(FEDERATION_ROLE="hub")


def relayed(app):
    with app.app_context():
        items, head = inbox.relay_page(0, 100)
        return [protocol.read_entry(i["entry"].encode()) for i in items], head


def receive(app, origin, *raws):
    with app.app_context():
        inbox.apply([as_item(r) for r in raws], received_from=origin.node_id, relay=True)
        db.session.commit()


def test_a_hub_only_record_is_never_relayed(the_hub):
    member = Origin(seed=61)
    member.pin(the_hub)
    receive(the_hub, member, member.record("hub", str(uuid.uuid4()), audiences=["hub"]),
            member.record("hub", str(uuid.uuid4()), audiences=["hub", "peers"]))
    assert relayed(the_hub) == ([], 0)


def test_what_partner_nodes_may_see_is_relayed_unchanged_in_the_hubs_order(the_hub):
    member = Origin(seed=61)
    member.pin(the_hub)
    raw = member.record("hub", str(uuid.uuid4()), relay=True, audiences=["hub", "peers"])
    receive(the_hub, member, raw)
    with the_hub.app_context():
        items, head = inbox.relay_page(0, 10)
    assert head == 1 and items[0]["entry"] == raw["entry"] and items[0]["sig"] == raw["sig"]
    assert items[0]["link"] == inbox.relay_link(protocol.GENESIS,
                                                protocol.sha256_hex(raw["entry"].encode()))


def test_tombstones_go_to_whoever_could_get_the_record(the_hub):
    member = Origin(seed=61)
    member.pin(the_hub)
    shared, kept = str(uuid.uuid4()), str(uuid.uuid4())
    receive(the_hub, member,
            member.record("hub", shared, relay=True, audiences=["hub", "peers"]),
            member.record("hub", kept, audiences=["hub"]))
    receive(the_hub, member, member.tombstone("hub", shared), member.tombstone("hub", kept))
    entries, head = relayed(the_hub)
    assert [(e.kind, e.record_id) for e in entries] == [("record", shared), ("tombstone", shared)]
    with the_hub.app_context():
        assert inbox.held_payloads() == {(member.node_id, shared): None,
                                         (member.node_id, kept): None}
        assert db.session.scalar(select(db.func.count()).select_from(RelayItem)) == 2


def test_a_node_refuses_a_relayed_record_its_consent_does_not_let_through(federation_app):
    node, member, the_hub_origin = federation_app(), Origin(seed=61), Origin(seed=62)
    the_hub_origin.pin(node, role="hub")
    raw = member.record("hub", str(uuid.uuid4()), relay=False, audiences=["hub"])
    item = dict(raw, link=inbox.relay_link(protocol.GENESIS,
                                           protocol.sha256_hex(raw["entry"].encode())))
    with node.app_context(), pytest.raises(Refused) as refused:
        inbox.verify_relay(the_hub_origin.node_id, [item], 1, 0, protocol.GENESIS,
                           inbox.Keys(), signing.identity().node_id)
    assert refused.value.code == "not-relayable"


def pair_with_hub(hub_identity):
    """On the node of the current context: the hub approved, its key pinned by pairing."""
    db.session.add(Peer(node_id=hub_identity.node_id, state="approved", role="hub"))
    db.session.add(Key(origin=hub_identity.node_id, key_id=hub_identity.node_id,
                       public_key=hub_identity.genesis.public_key,
                       valid_from=protocol.parse_at("2020-01-01T00:00:00Z"), source="pairing"))
    db.session.commit()


def test_the_vouch_lists_members_keys_and_verifies(the_hub, federation_app):
    member = Origin(seed=61)
    member.pin(the_hub)
    with the_hub.app_context():
        document = hub.vouch()
        hub_identity = signing.identity()
    node = federation_app(name="node")
    with node.app_context():
        pair_with_hub(hub_identity)
        the_hub_peer = peers.find(hub_identity.node_id)
        assert hub.learn_vouched(document, the_hub_peer) == 1
        (key,) = db.session.scalars(select(Key).where(Key.origin == member.node_id))
        assert key.public_key == member.public and key.vouched_by == hub_identity.node_id
        forged = dict(document, signed=document["signed"].replace(member.node_id,
                                                                  "a" * 32))
        with pytest.raises(Refused):
            hub.read_vouch(forged, the_hub_peer)


def test_a_hubs_word_never_replaces_a_key_pinned_by_pairing(the_hub, federation_app):
    member = Origin(seed=61)
    member.pin(the_hub)
    with the_hub.app_context():
        document = hub.vouch()
        hub_identity = signing.identity()
    node = federation_app(name="node")
    member.pin(node)  # this node paired with the member itself
    with node.app_context():
        pair_with_hub(hub_identity)
        assert hub.learn_vouched(document, peers.find(hub_identity.node_id)) == 0
