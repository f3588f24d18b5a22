"""A hub with many members (federation.rounds): members synced at once within a bound, a dead
or slow member delaying no other, fair turns, the operations page's state of each, and writes
that stay whole on SQLite and PostgreSQL. The members are simulated (bench.simulation):
one process serving many node identities over real HTTP on 127.0.0.1."""

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bench import simulation
from core import clock
from core.extensions import db
from core.testing import add_person, signed_in_client
from federation import peers, rounds, sync
from federation.models import HeldRecord, Peer, ReceivedEntry, RelayItem


@pytest.fixture
def served():
    """Simulated members for a hub: ``served(hub, first, count, records, **options)``."""
    made = []

    def factory(hub, first, count, records, **options):
        members = simulation.Served(hub, first, count, records, **options)
        made.append(members)
        with hub.context():
            simulation.enrol(members.members, members.base_url)
        return members

    yield factory
    for members in made:
        members.close()


def dead_member(hub, number=999):
    """A member whose address nobody answers (a port that refuses connections)."""
    member = simulation.Member(number)
    url = f"http://127.0.0.1:9/m/{number}"
    with hub.context():
        peers.add(url, member.fingerprint, member.label, None, document=member.document(url),
                  send_request=False)
    return member


def state(hub):
    """Each member's label: (last success, last error, syncing now)."""
    with hub.app.app_context():
        return {p.label: (p.last_success_at, p.last_error, p.turn_started_at is not None)
                for p in db.session.scalars(select(Peer))}


def held_count(hub, member):
    with hub.app.app_context():
        return db.session.scalar(select(func.count()).select_from(HeldRecord)
                                 .where(HeldRecord.origin == member.node_id))


@pytest.mark.slow
def test_a_dead_and_a_slow_member_delay_none_of_the_others(make_node, served, tmp_path,
                                                           monkeypatch):
    hub = make_node("hub", role="hub", serve=False)
    hub.app.config["FEDERATION_SYNC_WORKERS"] = 4
    release = tmp_path / "release-the-slow-member"
    members = served(hub, 1, 20, 30, slow={7: str(release)})
    dead = dead_member(hub)
    monkeypatch.setattr("federation.client.sleep", lambda seconds: None)  # backoffs: no wait
    slow = members.members[6]
    others = [m for m in members.members if m is not slow]

    round_ = threading.Thread(target=hub.sync)
    round_.start()
    try:
        # The slow member holds its answer until told: every other member's turn ends first.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            seen = state(hub)
            if all(seen[m.label][0] is not None for m in others) and seen[dead.label][1]:
                break
            time.sleep(0.2)
        seen = state(hub)
        assert [m.label for m in others if seen[m.label][0] is None] == []
        assert seen[dead.label][1] == "unreachable"
        assert seen[slow.label] == (None, None, True)  # still syncing, nothing recorded yet
        page = operations_page(hub)
        assert page.count("Syncing") == 1 and "It could not be reached" in page
    finally:
        release.touch()
        round_.join(120)
    assert not round_.is_alive()
    seen = state(hub)
    assert seen[slow.label][0] is not None and seen[slow.label][2] is False
    assert all(held_count(hub, m) == 30 for m in members.members)
    assert all(seen[m.label][0] < seen[slow.label][0] for m in others)
    page = operations_page(hub)
    assert "Syncing" not in page and page.count("Synced") == 20 and "Failed" in page


def operations_page(hub):
    with hub.app.app_context():
        admin = add_person(f"ops-{time.monotonic_ns()}", "admin")
    return signed_in_client(hub.app, admin.id).get("/federation/operations") \
        .get_data(as_text=True)


def test_turns_start_with_the_least_recently_synced_and_rotate(make_node, served):
    hub = make_node("hub", role="hub", serve=False)
    hub.app.config["FEDERATION_SYNC_WORKERS"] = 1  # one at a time: the order is the order run
    members = served(hub, 1, 5, 2)
    labels = [m.label for m in members.members]
    assert list(hub.sync()) == labels  # never synced: by id
    with hub.context():
        third = peers.find(labels[2])
        third.last_attempt_at = clock.now() - timedelta(days=1)  # the least recently synced
        db.session.commit()
    assert list(hub.sync()) == [labels[2], labels[0], labels[1], labels[3], labels[4]]
    # What ran last runs first next time: each round begins where the last one's oldest is.
    assert list(hub.sync()) == [labels[2], labels[0], labels[1], labels[3], labels[4]]


def test_the_order_is_by_last_attempt_never_tried_first():
    now = clock.now()
    made = [Peer(id=1, last_attempt_at=now), Peer(id=2, last_attempt_at=None),
            Peer(id=3, last_attempt_at=now - timedelta(hours=1)), Peer(id=4, last_attempt_at=None)]
    assert [p.id for p in rounds.order(made)] == [2, 4, 3, 1]


def test_a_turn_that_fails_in_this_node_is_recorded_and_the_others_go_on(make_node, served,
                                                                          monkeypatch):
    hub = make_node("hub", role="hub", serve=False)
    members = served(hub, 1, 4, 3)
    broken = members.members[1].node_id
    real = sync.sync_peer

    def sync_peer(peer, progress=None):
        if peer.node_id == broken:
            raise RuntimeError("a fault in this node's code")
        return real(peer, progress)

    monkeypatch.setattr(sync, "sync_peer", sync_peer)
    outcomes = hub.sync()
    assert outcomes[members.members[1].label] == rounds.UNEXPECTED
    assert [error for label, error in outcomes.items()
            if label != members.members[1].label] == [None, None, None]
    seen = state(hub)
    assert seen[members.members[1].label][1] == rounds.UNEXPECTED
    assert not any(syncing for _, _, syncing in seen.values())


@pytest.mark.slow
@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_concurrent_turns_write_every_page_whole(make_node, served, database):
    hub = make_node("hub", role="hub", database=database, serve=False)
    hub.app.config["FEDERATION_SYNC_WORKERS"] = 6
    hub.app.config["FEDERATION_PAGE_SIZE"] = 40  # many pages, many transactions interleaved
    members = served(hub, 1, 12, 100, relay=True)
    assert set(hub.sync().values()) == {None}
    with hub.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ReceivedEntry)) == 1200
        assert db.session.scalar(select(func.count()).select_from(HeldRecord)) == 1200
        # The hub's relay feed, appended to by every member's turn: one place for each entry,
        # numbered without a gap or a repeat.
        seqs = list(db.session.scalars(select(RelayItem.seq).order_by(RelayItem.seq)))
    assert seqs == list(range(1, 1201))
    assert all(held_count(hub, m) == 100 for m in members.members)
    with hub.app.app_context():
        entries = db.session.scalar(select(func.count()).select_from(ReceivedEntry))
    assert set(hub.sync().values()) == {None}  # nothing new: nothing more written
    with hub.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ReceivedEntry)) == entries


def test_a_round_with_no_peer_does_nothing(federation_app):
    app = federation_app(FEDERATION_ROLE="hub")
    with app.app_context():
        assert sync.sync() == []
