"""Node-initiated sync (1.1, federation.push) with real node processes on 127.0.0.1: a node
the hub cannot reach (the hub knows only a dead address for it) sends its feed to the hub,
which relays it to another node; a withdrawal follows the same way; a sender killed during a
10,000-record push loses, duplicates and re-sends nothing beyond one page."""

import os
import signal
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from core import ledger
from core.extensions import db
from core.testing import signed_in_client
from federation import client, inbox, outbox, peers, push
from federation.models import HeldRecord, PushCursor, ReceivedEntry
from federation.testing import ROOT, Port, insecure_fill_outbox, pair
from tests.federation.conftest import share_testimony, withdraw


@pytest.fixture
def waits(monkeypatch):
    waited = []
    monkeypatch.setattr(client, "sleep", waited.append)
    return waited


def held(node):
    with node.context():
        return inbox.held_payloads()


def cut_off(sender, receiver, dead: Port):
    """``receiver`` knows only a dead address for ``sender``; ``sender``'s administrator
    says so (``rabita peers direction``): it sends its records itself."""
    with receiver.context():
        peers.find(sender.node_id).url = f"http://127.0.0.1:{dead.number}"
        db.session.commit()
    said = sender.cli("peers", "direction", receiver.node_id, "send")
    assert said.returncode == 0, said.stderr
    assert said.stdout.strip().endswith(": send")


@pytest.fixture
def behind_a_router(three_nodes):
    a, b, hub = three_nodes
    dead = Port()  # bound, never listening: connections to it are refused
    cut_off(a, hub, dead)
    yield a, b, hub
    dead.close()


def test_a_node_nobody_reaches_shares_through_the_hub_and_its_withdrawal_follows(
        behind_a_router, people, waits):
    a, b, hub = behind_a_router
    salma, huda = people(a)
    record = share_testimony(a, salma, huda, audiences=("hub", "peers"))
    hub_only = share_testimony(a, salma, huda, audiences=("hub",), title="For the hub only")

    # A pushes; the hub learns that A sends (it never tries A's dead address), relays to B.
    assert a.sync() == {"hub": None}, (hub.folder / "server.log").read_text()[-3000:]
    assert set(held(hub)) == {(a.node_id, record), (a.node_id, hub_only)}
    with hub.context():
        learned = peers.find(a.node_id)
        assert learned.direction == push.RECEIVE and learned.pushed_at is not None
    assert hub.sync() == {"tunis": None, "sfax": None}
    assert waits == []  # no connection to A was even tried, so none was retried
    assert b.sync() == {"hub": None}
    assert set(held(b)) == {(a.node_id, record)}
    with a.context():
        cursor = db.session.scalar(select(PushCursor))
        assert (cursor.feed, cursor.after) == ("hub", outbox.heads()["hub"])
        # the ledger says what left for the hub, as a pull would have written it
        assert {e.record_uuid for e in ledger.entries() if e.recipient == hub.node_id} == {
            record, hub_only}

    # Withdrawn on A: one round of each purges it everywhere.
    withdraw(a, record, salma)
    assert a.sync() == {"hub": None}
    assert b.sync() == {"hub": None}
    assert held(hub)[(a.node_id, record)] is None and held(b)[(a.node_id, record)] is None
    assert held(hub)[(a.node_id, hub_only)] is not None
    # The receipts come back to A in the hub's acknowledgements: the hub's at once, B's
    # (which B sent the hub) at A's next push.
    assert a.sync() == {"hub": None}
    with a.context():
        receipts = {e.recipient: e.receipt for e in ledger.entries() if e.record_uuid == record}
    assert set(receipts) == {hub.node_id, b.node_id} and all(receipts.values())


def test_the_partner_pages_show_which_way_records_go(behind_a_router, people, waits):
    a, _b, hub = behind_a_router
    a.sync()
    for node, expected in ((a, "This node sends it our records"),
                           (hub, "It sends us its records")):
        admin = node.make_person("admin", "admin")
        page = signed_in_client(node.app, admin.id).get("/federation/peers")
        assert page.status_code == 200
        assert expected in page.get_data(as_text=True)
    # The hub's administrator says the hub can reach A after all: it pulls A again.
    admin = signed_in_client(hub.app, hub.make_person("chief", "admin").id)
    with hub.context():
        peer_id = peers.find(a.node_id).id
    for wrong in ("sideways", ""):
        assert admin.submit(f"/federation/peers/{peer_id}/direction", {"direction": wrong},
                            page="/federation/peers").status_code == 400
    with hub.context():
        assert peers.find(a.node_id).direction == push.RECEIVE
    changed = admin.submit(f"/federation/peers/{peer_id}/direction", {"direction": "both"},
                           page="/federation/peers")
    assert changed.status_code == 302
    with hub.context():
        assert push.direction(peers.find(a.node_id)) == push.BOTH
    assert "Each fetches from the other" in admin.get("/federation/peers").get_data(as_text=True)


def test_a_node_the_hub_pulled_before_pushes_from_where_the_hub_stands(three_nodes, people,
                                                                        waits):
    a, _b, hub = three_nodes
    salma, huda = people(a)
    share_testimony(a, salma, huda, audiences=("hub",))
    assert hub.sync()["tunis"] is None  # pulled while the hub could reach A
    with a.context():
        pulled = outbox.heads()["hub"]
    dead = Port()
    cut_off(a, hub, dead)  # A moves behind a router
    later = share_testimony(a, salma, huda, audiences=("hub",), title="Later")
    a.app.config["FEDERATION_PAGE_SIZE"] = 1  # a first push from 0 carries what the hub holds
    assert a.sync() == {"hub": None}
    with a.context():
        assert db.session.scalar(select(PushCursor.after)) == outbox.heads()["hub"] > pulled
    assert (a.node_id, later) in held(hub)
    dead.close()


def test_a_round_that_changes_nothing_moves_no_cursor(behind_a_router, people, waits):
    a, _b, hub = behind_a_router
    salma, huda = people(a)
    share_testimony(a, salma, huda, audiences=("hub",))
    synced = a.cli("sync", "--quiet")  # the real command line, in a process of its own
    assert synced.returncode == 0, synced.stdout + synced.stderr
    with a.context():
        head = outbox.heads()["hub"]
    assert f"hub: 0 entries in 0 pages, 0 receipts sent, {head} entr" in synced.stdout
    with hub.context():
        before = db.session.scalar(select(func.count()).select_from(ReceivedEntry))
    assert a.sync() == {"hub": None}  # an empty push: acknowledged where it stands
    with hub.context():
        assert db.session.scalar(select(func.count()).select_from(ReceivedEntry)) == before
    with a.context():
        assert db.session.scalar(select(PushCursor.after)) == outbox.heads()["hub"]


# -- a sender killed during a long push -------------------------------------------------------


RECORDS = 10_000  # ten pages of 1,000
KILLS = (("sent", 2), ("acked", 4), ("committed", 3))  # (point, page of that run)
# The ``after`` of each page pushed, run after run: a kill before the commit sends its page
# again, a kill after it goes on with the next; the last run finishes (and sends a last page
# if the feed holds more than the records).
SENT = [0, 1000,  1000, 2000, 3000, 4000,  4000, 5000, 6000,  7000, 8000, 9000]


@pytest.mark.slow
def test_a_sender_killed_during_a_10000_record_push_loses_and_duplicates_nothing(
        make_node, tmp_path):
    log = tmp_path / "pushed.log"
    sender = make_node("tunis", wait=False)
    receiver = make_node("hub", role="hub", wait=False)
    sender.wait(), receiver.wait()
    pair(sender, receiver)
    dead = Port()
    cut_off(sender, receiver, dead)
    ids = set(insecure_fill_outbox(sender, RECORDS, feed="hub"))
    environment = dict(os.environ, RABITA_INSTANCE_PATH=str(sender.folder),
                       RABITA_TEST_PUSH_LOG=str(log))
    for point, page in KILLS:
        killed = subprocess.run(
            [sys.executable, "-m", "federation.testing", "push-killed-at", point, str(page),
             "hub"], cwd=ROOT, env=environment, capture_output=True, text=True,
            timeout=300, check=False)
        assert killed.returncode == -signal.SIGKILL, killed.stderr
    finished = subprocess.run(
        [sys.executable, "-m", "federation.testing", "push-killed-at", "sent", "999", "hub"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300, check=False)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    dead.close()

    with receiver.context():
        held_ids = set(db.session.scalars(select(HeldRecord.record_id)))
        entries = db.session.scalar(select(func.count()).select_from(ReceivedEntry)
                                    .where(ReceivedEntry.kind == "record"))
        with_payload = db.session.scalar(select(func.count()).select_from(ReceivedEntry)
                                         .where(ReceivedEntry.payload.is_not(None)))
    assert held_ids == ids  # 0 lost
    assert entries == with_payload == RECORDS  # 0 duplicated (and every payload kept)
    sent = [int(line) for line in log.read_text().split()]
    with sender.context():
        head = outbox.heads()["hub"]  # the records, and any key entry made at pairing
        assert db.session.scalar(select(PushCursor.after)) == head
    pages = list(range(0, head, 1000))
    assert sorted(set(sent)) == pages
    # one page sent again for each kill before a commit (sent, acked), and no other
    assert sent[:len(SENT)] == SENT and len(sent) - len(pages) == 2
