"""A hub's takedown of a member's feed: the hub's own signed statement (never a tombstone in
the member's name), taken by a member only when it is the next one and signed by its hub's
current key; while a hold stands the member's records are shown nowhere and counted in no
statistic, and they come back on a signed release. Forged, replayed, wrongly signed or
misordered statements are refused with a reason code and change nothing."""

import random
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from core import clock
from core.extensions import db
from core.models import AuditEntry
from core.testing import add_person, all_databases, signed_in_client
from federation import identity, inbox, protocol, shared, statistics, takedown
from federation.models import Peer, Quarantine, ReceivedEntry
from federation.reasons import Refused
from federation.takedown import Statement
from tests.federation.conftest import Origin, as_item
from tests.federation.test_statistics_pages import case, fill


@pytest.fixture
def hub(federation_app):
    return federation_app(FEDERATION_ROLE="hub")


def admin(app):
    with app.app_context():
        person = add_person("takedown-admin", "admin")
    return signed_in_client(app, person.id)


def peer_id(app, member):
    with app.app_context():
        return db.session.scalar(select(Peer.id).where(Peer.node_id == member.node_id))


def everything(app):
    """What a hold may change, as figures: every table a page, an export or the public page
    reads (incidents by violation and by member, public or not), and the stored facts."""
    with app.app_context():
        tables = [statistics.table(("violation",)), statistics.table(("origin",)),
                  statistics.table(("violation",), public=True), statistics.trend()]
        return ([statistics.to_json(t).split('"figures"')[1] for t in tables],
                statistics.facts())


# -- on the hub --------------------------------------------------------------------------------


@all_databases
def test_a_hold_takes_the_member_out_of_every_count_and_a_release_brings_it_back(hub):
    held, other = Origin(seed=31), Origin(seed=32)
    held.pin(hub), other.pin(hub)
    rng = random.Random(3)
    fill(hub, held, [case(rng, "threats", "2025-02") for _ in range(9)],
         audiences=("hub", "public-aggregate"))
    fill(hub, other, [case(rng, "arbitrary-detention", "2025-02") for _ in range(7)],
         audiences=("hub", "public-aggregate"))
    before, facts = everything(hub)
    client = admin(hub)
    token = client.csrf_token("/account/")
    answer = client.post(f"/federation/operations/{peer_id(hub, held)}/withhold",
                         data={"csrf_token": token, "reason": "legal-order"})
    assert answer.status_code == 302
    with hub.app_context():
        one = statistics.table(("violation",))
        assert one.cell("threats") is None and "threats" not in one.rows
        assert one.cell("arbitrary-detention") == 7 and one.total == 7
        assert statistics.table(("origin",)).rows == [other.node_id]
        assert statistics.table(("violation",), public=True).total == 7
        assert held.node_id not in statistics.to_csv(statistics.table(("origin",)))
        assert statistics.facts() == facts  # nothing is deleted: the hold is a filter
        hold = db.session.scalar(select(Quarantine).where(Quarantine.origin == held.node_id))
        assert hold.reason == "withheld-by-hub"
        statement = db.session.scalar(select(Statement))
        assert (statement.number, statement.action, statement.origin, statement.reason,
                statement.active) == (1, "withhold", held.node_id, "legal-order", True)
    # the public page says the same (and the export of the signed-in page)
    page = hub.test_client().get("/public/statistics?lang=en").get_data(as_text=True)
    assert ">7<" in page and ">16<" not in page
    export = client.get("/federation/statistics/export.csv?rows=violation").get_data(as_text=True)
    assert "threats" not in export and "\ntotal,7\n" in export
    assert "/federation/shared/" + held.node_id not in \
        client.get("/federation/shared").get_data(as_text=True)
    html = client.get("/federation/operations").get_data(as_text=True)
    assert "legal-order" in html and "withheld-by-hub" in html

    client.post(f"/federation/operations/{peer_id(hub, held)}/lift", data={"csrf_token": token})
    assert everything(hub) == (before, facts)
    with hub.app_context():
        assert db.session.scalar(select(func.count()).select_from(Quarantine)) == 0
        assert [(s.number, s.action, s.active) for s in
                db.session.scalars(select(Statement).order_by(Statement.number))] == \
            [(1, "withhold", False), (2, "release", False)]
        assert statistics.rebuild() == 16  # rebuild == incremental, after a hold and its lift
        assert statistics.facts() == facts
    assert "/federation/shared/" + held.node_id in \
        client.get("/federation/shared").get_data(as_text=True)


@all_databases
def test_the_hub_signs_its_statements_and_never_writes_in_the_members_name(hub):
    member = Origin(seed=33)
    member.pin(hub)
    fill(hub, member, [case(random.Random(1))])
    with hub.app_context():
        entries = db.session.scalar(select(func.count()).select_from(ReceivedEntry))
        peer = db.session.scalar(select(Peer).where(Peer.node_id == member.node_id))
        assert takedown.withhold(peer, "member-compromised", None)
        assert not takedown.withhold(peer, "member-compromised", None)  # already held
        db.session.commit()
        page = takedown.statements(0)
        from federation import signing

        own = signing.identity()
        raw, body, signature = protocol.open_envelope(page["statements"][0],
                                                      takedown.TAKEDOWN_TYPE)
        assert identity.verify(own.key(own.current).public_key, raw, signature)
        assert body["hub"] == own.node_id and body["member"] == member.node_id
        assert (body["number"], body["action"], body["reason"], body["feed"]) == \
            (1, "withhold", "member-compromised", "hub")
        assert page["head"] == 1 and takedown.statements(1)["statements"] == []
        # nothing entered the member's chain: no tombstone, no entry made up in its name
        assert db.session.scalar(select(func.count()).select_from(ReceivedEntry)) == entries
        with pytest.raises(ValueError):
            takedown.issue("withhold", member.node_id, "because")  # not a reason code


# -- on a member -------------------------------------------------------------------------------


class FakeHub(Origin):
    """A hub made in the test: it signs takedown statements with its key."""

    def statement(self, number, action="withhold", member=None, *, key=None, **changed):
        body = {"type": takedown.TAKEDOWN_TYPE, "hub": self.node_id, "key": self.key_id,
                "at": protocol.at_text(clock.now().replace(microsecond=0)), "number": number,
                "action": action, "member": member, "feed": "hub",
                "reason": "coalition-decision" if action == "withhold" else "lifted"}
        body.update(changed)
        text = protocol.canonical(body)
        return protocol.envelope(text, (key or self.key).sign(text).signature)


@pytest.fixture
def member_node(federation_app):
    """A member node with a hub (pinned), and records of another member relayed by it."""
    app = federation_app()
    fake_hub, other = FakeHub(seed=41), Origin(seed=42)
    fake_hub.pin(app, role="hub")
    other.pin(app)  # it paired with that member directly too
    direct = "d" * 8 + "-0000-4000-8000-000000000000"
    through = "e" * 8 + "-0000-4000-8000-000000000000"
    items = [as_item(other.record("hub", through, relay=True, audiences=["hub", "peers"]))]
    peers_items = [as_item(other.record("peers", direct))]
    with app.app_context():
        inbox.apply(items, received_from=fake_hub.node_id)
        inbox.apply(peers_items, received_from=other.node_id)
        db.session.commit()
    return app, fake_hub, other, direct, through


def shown(app) -> set[str]:
    with app.app_context():
        return {record.record_id for record in shared.page()[0]}


def state(app):
    with app.app_context():
        return (db.session.scalars(select(Statement.number).order_by(Statement.id)).all(),
                db.session.scalar(select(func.count()).select_from(AuditEntry)))


@all_databases
def test_a_member_honours_its_hubs_statements_for_records_got_through_the_hub(member_node):
    app, fake_hub, other, direct, through = member_node
    assert shown(app) == {direct, through}
    with app.app_context():
        hub = db.session.scalar(select(Peer).where(Peer.node_id == fake_hub.node_id))
        takedown.take(fake_hub.statement(1, member=other.node_id), hub)
        db.session.commit()
    # held back: kept, not shown; what came straight from the member stays
    assert shown(app) == {direct}
    with app.app_context():
        assert (other.node_id, through) in inbox.held_payloads()
        assert db.session.scalar(select(Statement.signed)).startswith('{"action":"withhold"')
        hub = db.session.scalar(select(Peer).where(Peer.node_id == fake_hub.node_id))
        takedown.take(fake_hub.statement(2, "release", other.node_id), hub)
        db.session.commit()
    assert shown(app) == {direct, through}


def refusals(fake_hub, other, app):
    """Statements a member must refuse, with the reason code of each."""
    thief = Origin(seed=43)
    with app.app_context():
        own = app.config["NODE_ID"]
    forged = fake_hub.statement(2, member=other.node_id)
    forged["signed"] = forged["signed"].replace("coalition-decision", "legal-order")
    yield "replayed", fake_hub.statement(1, member=other.node_id)
    yield "signature-invalid", forged
    yield "signature-invalid", fake_hub.statement(2, member=other.node_id, key=thief.key)
    yield "signature-invalid", fake_hub.statement(2, member=other.node_id, hub=thief.node_id)
    yield "takedown-invalid", fake_hub.statement(3, member=other.node_id)  # one skipped
    yield "takedown-invalid", fake_hub.statement(2, member=own)  # this node's own feed
    yield "takedown-invalid", fake_hub.statement(2, member=other.node_id, reason="Free text")
    yield "takedown-invalid", fake_hub.statement(2, member=other.node_id, feed="peers")
    yield "takedown-invalid", fake_hub.statement(2, member=other.node_id,
                                                 at="2099-01-01T00:00:00Z")
    yield "takedown-invalid", {"signed": "{}", "sig": forged["sig"]}


@all_databases
def test_forged_replayed_or_wrongly_signed_statements_are_refused_and_change_nothing(
        member_node):
    app, fake_hub, other, direct, through = member_node
    with app.app_context():
        hub = db.session.scalar(select(Peer).where(Peer.node_id == fake_hub.node_id))
        takedown.take(fake_hub.statement(1, member=other.node_id), hub)
        db.session.commit()
    before, shown_before = state(app), shown(app)
    for code, document in refusals(fake_hub, other, app):
        with app.app_context():
            hub = db.session.scalar(select(Peer).where(Peer.node_id == fake_hub.node_id))
            with pytest.raises(Refused) as refused:
                takedown.take(document, hub)
            db.session.rollback()
        assert refused.value.code == code, document
        assert state(app) == before and shown(app) == shown_before
    # a statement of another hub the member never paired with: refused too
    with app.app_context():
        stranger = Peer(node_id=Origin(seed=44).node_id, state="approved", role="hub")
        with pytest.raises(Refused) as refused:
            takedown.take(fake_hub.statement(2, "release", other.node_id), stranger)
        db.session.rollback()
    assert refused.value.code == "signature-invalid" and state(app) == before


def test_a_statement_signed_by_a_superseded_key_of_the_hub_is_refused(member_node):
    app, fake_hub, other, direct, through = member_node
    with app.app_context():
        from federation.models import Key

        key = db.session.scalar(select(Key).where(Key.origin == fake_hub.node_id))
        key.superseded_at = datetime(2026, 1, 1, tzinfo=UTC)  # the hub rotated since
        db.session.commit()
        hub = db.session.scalar(select(Peer).where(Peer.node_id == fake_hub.node_id))
        with pytest.raises(Refused) as refused:
            takedown.take(fake_hub.statement(1, member=other.node_id), hub)
    assert refused.value.code == "signature-invalid" and state(app)[0] == []


# -- over HTTP: a hub that serves statements a member must refuse ------------------------------


@pytest.fixture
def served(member_node):
    """The member's hub answering over HTTP on 127.0.0.1 with statements the test sets (and
    an empty relay feed)."""
    from tests.federation.conftest import FakePeer

    app, fake_hub, other, direct, through = member_node
    fake = FakePeer(fake_hub)
    fake.page = lambda after: (protocol.dumps({"type": protocol.PAGE_TYPE, "feed": "relay",
                                               "after": after, "head": after,
                                               "items": []}), {})
    with app.app_context():
        hub = db.session.scalar(select(Peer).where(Peer.node_id == fake_hub.node_id))
        hub.url = fake.url
        db.session.commit()
    yield app, fake_hub, other, fake
    fake.close()


def serve(fake, *statements):
    fake.answers["/federation/takedowns"] = lambda query: (protocol.dumps({
        "type": takedown.TAKEDOWNS_TYPE, "after": int(query.get("after", ["0"])[0]),
        "head": len(statements), "statements": list(statements)}), {})


def round_with_hub(app, fake_hub):
    from federation import sync

    with app.app_context():
        hub = db.session.scalar(select(Peer).where(Peer.node_id == fake_hub.node_id))
        return sync.sync_peer(hub).error


def test_a_round_refuses_a_forged_or_replayed_statement_and_keeps_nothing(served):
    app, fake_hub, other, fake = served
    thief = Origin(seed=45)
    serve(fake, fake_hub.statement(1, member=other.node_id, key=thief.key))
    assert round_with_hub(app, fake_hub) == "signature-invalid"
    assert state(app)[0] == [] and len(shown(app)) == 2
    good = fake_hub.statement(1, member=other.node_id)
    serve(fake, good)
    assert round_with_hub(app, fake_hub) is None
    assert state(app)[0] == [1] and len(shown(app)) == 1
    # the same statement served again as if new: replayed, and nothing changes
    fake.answers["/federation/takedowns"] = lambda query: (protocol.dumps({
        "type": takedown.TAKEDOWNS_TYPE, "after": 1, "head": 1, "statements": [good]}), {})
    before = state(app)
    assert round_with_hub(app, fake_hub) == "replayed"
    assert state(app) == before and len(shown(app)) == 1
