"""A hub's takedown between real node processes over HTTP (nodes A and B on SQLite, the hub on
PostgreSQL): the hub holds A's feed with a signed statement; B takes it at its next round and
stops showing A's records it got through the hub; the hub takes nothing from A and counts
none of A's records; a signed release brings everything back, what A shared meanwhile too."""

import pytest
from sqlalchemy import select

from core.extensions import db
from core.testing import signed_in_client
from federation import shared, statistics, takedown
from federation.models import Peer
from tests.federation.test_statistics_sync import share

pytestmark = pytest.mark.slow


def shown(node) -> set[str]:
    with node.context():
        return {record.record_id for record in shared.page()[0]}


def counted(hub) -> dict:
    with hub.context():
        table = statistics.table(("origin",))
        return {row: table.cell(row) for row in table.rows}


def hub_admin(hub):
    person = hub.make_person("coordinator", "admin")
    client = signed_in_client(hub.app, person.id)
    return client, client.csrf_token("/account/")


def member_id(hub, node) -> int:
    with hub.context():
        return db.session.scalar(select(Peer.id).where(Peer.node_id == node.node_id))


def test_a_member_honours_the_hubs_signed_takedown_and_its_release(three_nodes, people):
    a, b, hub = three_nodes
    salma, huda = people(a)
    first = [share(a, salma, huda, ["statistics"], audiences=("hub", "peers"))
             for _ in range(6)]
    assert hub.sync() == {"tunis": None, "sfax": None}
    assert b.sync() == {"hub": None}
    assert shown(b) == set(first) and counted(hub) == {a.node_id: 6}

    client, token = hub_admin(hub)
    answer = client.post(f"/federation/operations/{member_id(hub, a)}/withhold",
                         data={"csrf_token": token, "reason": "member-compromised"})
    assert answer.status_code == 302
    during = share(a, salma, huda, ["statistics"], audiences=("hub", "peers"))
    assert hub.sync() == {"tunis": "quarantined", "sfax": None}  # the hub takes nothing
    assert counted(hub) == {}  # and counts none of A's records
    assert b.sync() == {"hub": None}
    assert shown(b) == set()  # B took the statement: A's records through the hub held back
    with b.context():
        statement = db.session.scalar(select(takedown.Statement))
        assert (statement.hub, statement.origin, statement.reason, statement.active) == \
            (hub.node_id, a.node_id, "member-compromised", True)
        assert takedown.held(a.node_id)
    assert b.sync() == {"hub": None}  # a round later nothing changes (no replay)

    client.post(f"/federation/operations/{member_id(hub, a)}/lift", data={"csrf_token": token})
    assert hub.sync() == {"tunis": None, "sfax": None}
    assert counted(hub) == {a.node_id: 7}
    with hub.context():
        facts = statistics.facts()
        statistics.rebuild()
        assert statistics.facts() == facts  # rebuild == incremental after hold and release
        db.session.rollback()
    assert b.sync() == {"hub": None}
    assert shown(b) == set(first) | {during}
    with b.context():
        assert not takedown.held(a.node_id)
        assert [s.action for s in db.session.scalars(
            select(takedown.Statement).order_by(takedown.Statement.number))] == \
            ["withhold", "release"]


def test_a_node_that_is_no_hub_serves_no_takedowns(two_nodes):
    first, second = two_nodes
    from federation import client as federation_client
    from federation.reasons import Refused

    with first.context():
        peer = db.session.scalar(select(Peer).where(Peer.node_id == second.node_id))
        remote = federation_client.PeerClient(second.url, peer=peer)
        with pytest.raises(Refused) as refused:
            remote.get("/federation/takedowns", after=0)
    assert refused.value.code == "not-a-hub"
