"""Whole stories with real node processes on 127.0.0.1: a hub between two nodes, and a
receiving node killed again and again during a long sync."""

import json
import os
import signal
import subprocess
import sys
from urllib.parse import parse_qs

import pytest
from sqlalchemy import func, select

from core.extensions import db
from federation import client, identity, inbox, peers, protocol, signing
from federation.models import HeldRecord, Key, ReceivedEntry
from federation.testing import ROOT, insecure_fill_outbox, pair
from tests.federation.conftest import share_testimony, withdraw


@pytest.fixture
def waits(monkeypatch):
    waited = []
    monkeypatch.setattr(client, "sleep", waited.append)
    return waited


def held(node):
    with node.context():
        return inbox.held_payloads()


def test_a_record_travels_through_the_hub_and_its_withdrawal_follows(three_nodes, people,
                                                                      waits):
    a, b, hub = three_nodes
    salma, huda = people(a)
    record = share_testimony(a, salma, huda, audiences=("hub", "peers"))
    hub_only = share_testimony(a, salma, huda, audiences=("hub",), title="For the hub only")

    # A's record reaches the hub, then B through the hub's relay.
    assert hub.sync() == {"tunis": None, "sfax": None}
    assert b.sync() == {"hub": None}
    assert set(held(hub)) == {(a.node_id, record), (a.node_id, hub_only)}
    assert set(held(b)) == {(a.node_id, record)}  # the hub-only record never reaches B
    payload = held(b)[(a.node_id, record)]
    assert payload["place"] == "TN-61" and "Salma" not in json.dumps(payload, ensure_ascii=False)

    # B verifies A's origin signature, with A's key as the hub vouched for it.
    with a.context():
        a_key = signing.identity().genesis.public_key
    with b.context():
        stored = db.session.scalar(select(ReceivedEntry).where(ReceivedEntry.record_id == record))
        assert stored.origin == a.node_id and stored.received_from == hub.node_id
        assert identity.verify(a_key, stored.entry.encode(), protocol.unb64(stored.sig))
        key = db.session.scalar(select(Key).where(Key.origin == a.node_id))
        assert key.public_key == a_key and key.vouched_by == hub.node_id
        assert peers.find(a.node_id) is None  # B never paired with A

    # Consent withdrawn on A: gone from the hub and B within one round...
    withdraw(a, record, salma)
    assert hub.sync() == {"tunis": None, "sfax": None}
    assert b.sync() == {"hub": None}
    assert held(hub)[(a.node_id, record)] is None and held(b)[(a.node_id, record)] is None
    # ...and the receipts come back to A: the hub's at once, B's through the hub.
    hub.sync()
    from core import ledger

    with a.context():
        receipts = {e.recipient: e.receipt for e in ledger.entries() if e.record_uuid == record}
        listed = [(e.recipient, e.version) for e in ledger.entries() if e.record_uuid == record]
    assert set(receipts) == {hub.node_id, b.node_id} and all(receipts.values())
    assert sorted(listed) == sorted(set(listed))  # each recipient once per version (issue 19)


def test_an_offline_node_catches_up_when_it_returns(three_nodes, people, waits):
    a, b, hub = three_nodes
    hub.app.config["FEDERATION_REST"] = 0  # the hub retries B as soon as it is back
    salma, huda = people(a)
    nour, amal = people(b)
    first = share_testimony(a, salma, huda, audiences=("hub", "peers"))
    hub.sync()
    b.sync()
    b.stop()  # B goes offline (a laptop closed, a cut line)
    second = share_testimony(a, salma, huda, audiences=("hub", "peers"), title="Another")
    withdraw(a, first, salma)
    assert hub.sync() == {"tunis": None, "sfax": "unreachable"}
    b.start()
    from_b = share_testimony(b, nour, amal, audiences=("hub", "peers"), title="From Sfax")
    assert b.sync() == {"hub": None}
    assert held(b) == {(a.node_id, first): None,
                       (a.node_id, second): held(hub)[(a.node_id, second)]}
    assert hub.sync() == {"tunis": None, "sfax": None}
    assert (b.node_id, from_b) in held(hub)
    a.sync()
    assert (b.node_id, from_b) in held(a)


# -- a receiving node killed during a long sync -----------------------------------------------


RECORDS = 10_000  # ten pages of 1,000
KILLS = (("fetched", 2), ("applied", 4), ("committed", 3))  # (point, page of that run)
# What the sender is asked for, run after run: a kill before the commit asks for its page
# again, a kill after it goes on with the next; the last run finishes.
RUNS = ([0, 1000], [1000, 2000, 3000, 4000], [4000, 5000, 6000], [7000, 8000, 9000])
# A run killed after it verified a page had also asked for the next one ahead (federation.sync
# asks while it writes): sent or not yet when the kill came, it is asked again after.
AHEAD = (None, 5000, 7000, None)


def asked_possibly() -> list[list[int]]:
    """Every sequence of pages the sender may be asked for, run after run."""
    sequences = [[]]
    for run, ahead in zip(RUNS, AHEAD, strict=True):
        endings = [run] if ahead is None else [run, run + [ahead]]
        sequences = [sequence + ending for sequence in sequences for ending in endings]
    return sequences


def requested_afters(log):
    return [int(parse_qs(json.loads(line))["after"][0]) for line in log.read_text().splitlines()]


@pytest.mark.slow
def test_a_receiver_killed_during_a_10000_record_sync_loses_and_duplicates_nothing(
        make_node, tmp_path):
    log = tmp_path / "requests.log"
    sender = make_node("tunis", request_log=log, wait=False)
    receiver = make_node("sfax", wait=False)
    sender.wait(), receiver.wait()
    pair(sender, receiver)
    ids = set(insecure_fill_outbox(sender, RECORDS))
    environment = dict(os.environ, RABITA_INSTANCE_PATH=str(receiver.folder))
    for point, page in KILLS:
        killed = subprocess.run(
            [sys.executable, "-m", "federation.testing", "sync-killed-at", point, str(page),
             "tunis"], cwd=ROOT, env=environment, capture_output=True, text=True,
            timeout=300, check=False)
        assert killed.returncode == -signal.SIGKILL, killed.stderr
    finished = receiver.cli("sync", "--peer", "tunis", "--quiet")
    assert finished.returncode == 0, finished.stdout + finished.stderr

    with receiver.context():
        held_ids = set(db.session.scalars(select(HeldRecord.record_id)))
        entries = db.session.scalar(select(func.count()).select_from(ReceivedEntry))
        with_payload = db.session.scalar(select(func.count()).select_from(ReceivedEntry)
                                         .where(ReceivedEntry.payload.is_not(None)))
    assert held_ids == ids  # 0 lost
    assert entries == with_payload == RECORDS  # 0 duplicated (and every payload kept)
    # one page asked again for each kill before a commit (and the one asked ahead, if it was)
    assert requested_afters(log) in asked_possibly()
