"""The hub's operations page: per member its sync, lag, refusals, receipts and relays; the
hub's own hold on a member's feed (a quarantine with its reason and a signed statement,
never a forged tombstone: tests/federation/test_takedown.py)."""

import random

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.models import AuditEntry
from core.testing import add_person, all_databases, signed_in_client
from federation.models import Peer, Quarantine, ReceivedEntry
from tests.federation.conftest import Origin
from tests.federation.test_statistics_pages import case, fill


@pytest.fixture
def hub(federation_app):
    return federation_app(FEDERATION_ROLE="hub")


def admin(app, role="admin"):
    with app.app_context():
        person = add_person(f"ops-{role}", role)
    return signed_in_client(app, person.id)


def peer_id(app, member):
    with app.app_context():
        return db.session.scalar(select(Peer.id).where(Peer.node_id == member.node_id))


@all_databases
def test_the_page_shows_each_member_and_a_hold_hides_its_records(hub):
    member, other = Origin(seed=21), Origin(seed=22)
    member.pin(hub), other.pin(hub)
    fill(hub, member, [case(random.Random(1))])
    client = admin(hub)
    html = client.get("/federation/operations").get_data(as_text=True)
    assert f"origin-{member.node_id[:4]}" in html and f"origin-{other.node_id[:4]}" in html
    assert "Hold this feed" in html
    shared_before = client.get("/federation/shared").get_data(as_text=True)
    assert "/federation/shared/" + member.node_id in shared_before

    token = client.csrf_token("/account/")
    answer = client.post(f"/federation/operations/{peer_id(hub, member)}/withhold",
                         data={"csrf_token": token, "reason": "coalition-decision"})
    assert answer.status_code == 302
    with hub.app_context():
        hold = db.session.scalar(select(Quarantine).where(Quarantine.origin == member.node_id))
        assert hold.reason == "withheld-by-hub"
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.action == "federation.withheld")) == 1
        entries = db.session.scalar(select(func.count()).select_from(ReceivedEntry))
    assert "/federation/shared/" + member.node_id not in \
        client.get("/federation/shared").get_data(as_text=True)
    html = client.get("/federation/operations").get_data(as_text=True)
    assert "withheld-by-hub" in html and "Lift" in html
    # a second hold changes nothing; a forged peer id is a 404 and writes nothing
    client.post(f"/federation/operations/{peer_id(hub, member)}/withhold",
                data={"csrf_token": token, "reason": "coalition-decision"})
    assert client.post("/federation/operations/999999/withhold",
                       data={"csrf_token": token, "reason": "legal-order"}).status_code == 404
    # a reason that is not one of the codes is a 400 and writes nothing
    other_id = peer_id(hub, other)
    assert client.post(f"/federation/operations/{other_id}/withhold",
                       data={"csrf_token": token, "reason": "because"}).status_code == 400
    with hub.app_context():
        assert db.session.scalar(select(func.count()).select_from(Quarantine)) == 1
        assert db.session.scalar(select(func.count()).select_from(ReceivedEntry)) == entries
    # lifting is a signed release (the quarantine goes with it)
    client.post(f"/federation/operations/{peer_id(hub, member)}/lift", data={"csrf_token": token})
    with hub.app_context():
        assert db.session.scalar(select(func.count()).select_from(Quarantine)) == 0
    assert "/federation/shared/" + member.node_id in \
        client.get("/federation/shared").get_data(as_text=True)


def test_only_administrators_open_it(hub):
    assert admin(hub, "member").get("/federation/operations").status_code == 403
    assert hub.test_client().get("/federation/operations").status_code == 302
