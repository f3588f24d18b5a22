"""A peer's sync turn is held by one process at a time on PostgreSQL (every app server of a
hub), goes with the process that held it, and is always free on SQLite (one server)."""

import subprocess
import sys
import time

import pytest

from core.extensions import db
from core.models import User
from federation import identity, leases, peers, sync, sync_now
from federation.testing import ROOT

HOLD = """
import sys, time
from sqlalchemy import create_engine
from core.extensions import db
from core.models import User
from federation import identity, leases, peers, sync, sync_now
connection = create_engine(sys.argv[1]).connect().execution_options(
    isolation_level="AUTOCOMMIT")
assert connection.scalar(leases._TAKE, {"peer_id": 7})
print("held", flush=True)
time.sleep(600)
"""


def holds(app, peer_id: int = 7) -> bool:
    with app.app_context(), leases.sync_turn(peer_id) as ours:
        return ours


@pytest.mark.postgresql
@pytest.mark.parametrize("db_backend", ["postgresql"], indirect=True)
def test_a_turn_one_server_holds_is_refused_to_another_until_it_ends(make_app):
    first, second = make_app(), make_app(create_tables=False)  # two servers, one database
    with first.app_context(), leases.sync_turn(7) as ours:
        assert ours
        assert not holds(second)
        assert holds(second, peer_id=8)  # another peer's turn is free
        with leases.sync_turn(7) as again:  # another thread of the same server, too
            assert not again
    assert holds(second)


@pytest.mark.postgresql
@pytest.mark.parametrize("db_backend", ["postgresql"], indirect=True)
def test_a_turn_that_raised_is_given_back(make_app):
    app = make_app()
    with pytest.raises(RuntimeError), app.app_context(), leases.sync_turn(7) as ours:
        assert ours
        raise RuntimeError("the turn failed")
    assert holds(make_app(create_tables=False))  # not kept by a pooled connection


@pytest.mark.postgresql
@pytest.mark.parametrize("db_backend", ["postgresql"], indirect=True)
@pytest.mark.slow
def test_a_turn_held_by_a_killed_process_is_free_at_once(make_app, database_url):
    app = make_app()
    holder = subprocess.Popen([sys.executable, "-c", HOLD, database_url], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert not holds(app)
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    for _ in range(50):  # the server notices the closed connection within moments
        if holds(app):
            return
        time.sleep(0.1)
    pytest.fail("the killed process's turn was still held")


def test_sqlite_lets_every_turn_run(make_app):
    app = make_app()
    with app.app_context(), leases.sync_turn(7) as ours:
        assert ours
        assert holds(app)


@pytest.mark.postgresql
def test_a_round_and_sync_now_leave_a_peer_another_process_is_syncing(make_node):
    member = make_node("tunis", serve=False)
    hub = make_node("hub", role="hub", database="postgresql", serve=False)
    admin = hub.make_user("nour", "admin")
    with member.context():
        document = identity.node_document()
    with hub.context():
        peer = peers.add(member.url, member.fingerprint, "tunis", None, document=document,
                         send_request=False)
        with leases.sync_turn(peer.id) as ours:  # another server's round, in this test
            assert ours
            [outcome] = sync.sync(peer)
            assert outcome.skipped and outcome.notes == [sync.HELD_ELSEWHERE]
            assert sync_now.start(peer, db.session.get(User, admin))
            for _ in range(300):
                if sync_now.job(peer.id).state == sync_now.DONE:
                    break
                time.sleep(0.1)
            assert "another server" in sync_now.said(sync_now.job(peer.id))
        db.session.refresh(peer)
        assert peer.failures in (0, None) and peer.turn_started_at is None
        assert peer.last_error is None
