"""Pull sync between real node processes: cursors, hints, the circuit breaker, key changes."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from core import clock
from core.extensions import db
from federation import client, inbox, outbox, peers, sync
from federation.models import Cursor, HeldRecord, Peer, ReceivedEntry
from tests.federation.conftest import share_testimony, withdraw


@pytest.fixture
def waits(monkeypatch):
    waited = []
    monkeypatch.setattr(client, "sleep", waited.append)
    return waited


def held(node, origin):
    with node.context():
        return inbox.held_payloads(origin.node_id)


def cursor(node, peer):
    with node.context():
        found = db.session.scalar(select(Cursor).where(
            Cursor.peer_id == peers.find(peer.node_id).id))
        return (found.after, found.remote_head) if found else None


def test_entries_flow_and_a_round_with_nothing_new_changes_nothing(two_nodes, people):
    tunis, sfax = two_nodes
    salma, huda = people(tunis)
    first = share_testimony(tunis, salma, huda)
    assert sfax.sync() == {"tunis": None}
    payload = held(sfax, tunis)[(tunis.node_id, first)]
    assert payload["title"] == "Summons after a radio interview"
    assert "Salma" not in str(payload)
    assert cursor(sfax, tunis) == (1, 1)
    with sfax.context():
        count = db.session.scalar(select(db.func.count()).select_from(ReceivedEntry))
    assert sfax.sync() == {"tunis": None}
    with sfax.context():
        assert db.session.scalar(select(db.func.count()).select_from(ReceivedEntry)) == count


def test_the_cursor_moves_only_with_the_writes_it_covers(two_nodes, people, monkeypatch):
    tunis, sfax = two_nodes
    salma, huda = people(tunis)
    share_testimony(tunis, salma, huda)

    def crash(*args, **kwargs):
        raise RuntimeError("the process dies here")

    monkeypatch.setattr(inbox, "advance", crash)  # after the entries, before the commit
    with pytest.raises(RuntimeError):
        sfax.sync()
    monkeypatch.undo()
    with sfax.context():
        db.session.rollback()
        assert db.session.scalar(select(db.func.count()).select_from(ReceivedEntry)) == 0
    assert cursor(sfax, tunis) is None
    assert sfax.sync() == {"tunis": None} and len(held(sfax, tunis)) == 1


def test_a_withdrawn_record_is_purged_and_the_receipt_fills_the_ledger(two_nodes, people):
    from core import ledger

    tunis, sfax = two_nodes
    salma, huda = people(tunis)
    uuid = share_testimony(tunis, salma, huda)
    sfax.sync()
    withdraw(tunis, uuid, salma)
    sfax.sync()  # applies the tombstone, and sends its receipt back in the same round
    assert held(sfax, tunis) == {(tunis.node_id, uuid): None}
    with tunis.context():
        (sent,) = ledger.entries()
        assert sent.recipient == sfax.node_id and sent.receipt_at is not None
        assert '"holder":"' + sfax.node_id in sent.receipt.replace("\\", "")


def test_the_circuit_breaker_rests_a_failing_peer(two_nodes, waits, fake_clock):
    tunis, sfax = two_nodes
    sfax.app.config["FEDERATION_REST"] = 1  # seconds, doubled after each further failure
    tunis.stop()
    for _ in range(3):
        assert sfax.sync() == {"tunis": "unreachable"}
    with sfax.context():
        peer = peers.find(tunis.node_id)
        assert peer.failures == 3 and peer.open_until > clock.now()
    attempts = len(waits)
    assert sfax.sync() == {"tunis": "circuit-open"} and len(waits) == attempts
    fake_clock.advance(seconds=2)  # the rest is over (and the clocks stay within a minute)
    tunis.start()
    assert sfax.sync() == {"tunis": None}
    with sfax.context():
        peer = peers.find(tunis.node_id)
        assert peer.failures == 0 and peer.open_until is None and peer.last_error is None


def test_the_rest_grows_with_each_failure(two_nodes, waits, fake_clock):
    tunis, sfax = two_nodes
    tunis.stop()
    rests = []
    for _ in range(5):
        sfax.sync()
        with sfax.context():
            peer = peers.find(tunis.node_id)
            if peer.open_until:
                rests.append((peer.open_until - clock.now()).total_seconds())
                peer.open_until = None  # as if the rest were over
                db.session.commit()
    assert rests == [60, 120, 240]


class LoopTime:
    """``time`` as the sync loop sees it: each tick it waits moves it on at once, and the
    first runs ``meanwhile`` (what other nodes do while this one waits for its next round)."""

    def __init__(self, meanwhile):
        self.now, self.meanwhile = 0.0, meanwhile

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        if self.now == 0.0:
            self.meanwhile()
        self.now += seconds


def test_a_push_hint_starts_the_peers_round_at_once(two_nodes, people, monkeypatch):
    tunis, sfax = two_nodes
    salma, huda = people(tunis)
    tunis.sync()  # nothing to pull: it tells sfax it has nothing new either
    shared = []

    def tunis_shares_and_hints():
        shared.append(share_testimony(tunis, salma, huda))
        assert tunis.sync() == {"sfax": None}  # its round ends with a hint to sfax: "pull me"

    loop = LoopTime(tunis_shares_and_hints)
    monkeypatch.setattr(sync, "time", loop)
    pulled_at = []
    with sfax.context():
        sync.every(60, None, lambda *page: pulled_at.append(loop.now), rounds=1, tick=1)
    assert pulled_at == [1.0]  # at the first tick after the hint, not at the next round
    assert (tunis.node_id, shared[0]) in held(sfax, tunis)


def test_a_rotated_key_keeps_the_peers_paired_and_old_entries_valid(two_nodes, people):
    tunis, sfax = two_nodes
    salma, huda = people(tunis)
    first = share_testimony(tunis, salma, huda)
    sfax.sync()
    with tunis.context():
        old, new = outbox.rotate_key()
    second = share_testimony(tunis, salma, huda, title="After the rotation")
    assert tunis.sync() == {"sfax": None}  # its requests are signed with the new key
    assert sfax.sync() == {"tunis": None}  # its answers and entries too
    assert set(held(sfax, tunis)) == {(tunis.node_id, first), (tunis.node_id, second)}
    with sfax.context():
        from federation.models import Key

        keys = {k.key_id: k for k in db.session.scalars(
            select(Key).where(Key.origin == tunis.node_id))}
        assert set(keys) == {old, new} and keys[old].superseded_at is not None


def test_a_revoked_key_is_rechecked_and_what_it_signed_is_signed_again(two_nodes, people):
    tunis, sfax = two_nodes
    salma, huda = people(tunis)
    leaked_at = clock.now() - timedelta(seconds=5)
    uuid = share_testimony(tunis, salma, huda)
    sfax.sync()
    with tunis.context():
        old, _new = outbox.rotate_key()
        assert outbox.revoke_key(old, leaked_at) == 1
    assert sfax.sync() == {"tunis": None}
    with sfax.context():
        entries = list(db.session.scalars(select(ReceivedEntry).where(
            ReceivedEntry.record_id == uuid).order_by(ReceivedEntry.seq)))
        assert [e.invalid_reason for e in entries] == ["key-revoked", None]
        held_now = db.session.scalar(select(HeldRecord).where(HeldRecord.record_id == uuid))
        assert held_now.seq == entries[1].seq and entries[1].key_id != old
    assert held(sfax, tunis)[(tunis.node_id, uuid)] is not None


def test_the_command_shows_progress(two_nodes, people):
    from federation.testing import insecure_fill_outbox

    tunis, sfax = two_nodes
    insecure_fill_outbox(tunis, 1100)
    seen = []
    with sfax.context():
        sync.sync(peers.find("tunis"), lambda peer, feed, done, to_go: seen.append(
            (feed, done, to_go)))
    assert seen == [("peers", 1000, 100), ("peers", 100, 0)]
    insecure_fill_outbox(tunis, 1001)
    result = sfax.cli("sync", "--peer", "tunis")
    assert result.returncode == 0, result.stderr
    assert "tunis: 1001 entries in 2 pages, 0 receipts sent" in result.stdout
    insecure_fill_outbox(tunis, 1)
    result = sfax.cli("sync", "--peer", "tunis")
    assert "tunis: 1 entry in 1 page, 0 receipts sent" in result.stdout
    assert "tunis peers" in result.stderr  # the progress bar's label (a bar on a terminal)


def test_a_locked_node_neither_answers_nor_syncs_until_it_is_unlocked(two_nodes, waits):
    import json

    from core import keystore
    from core.testing import TEST_PASSPHRASE
    from federation.reasons import Refused

    tunis, sfax = two_nodes
    keystore.keystore(sfax.app).lock()  # its server process sees it at once (the share)
    assert tunis.sync() == {"sfax": "node-locked"}
    assert waits == []  # a locked node is not retried within the round
    with tunis.context():
        status, _lines, body = client.send_raw(client.session(), "GET",
                                               sfax.url + "/.well-known/rabita", {}, b"")
        assert status == 503 and json.loads(body)["error"] == "node-locked"
        with pytest.raises(Refused) as refused:  # pairing with it waits too
            client.fetch_document(sfax.url)
        assert refused.value.code == "node-locked"
    with pytest.raises(keystore.NodeLocked):
        sfax.sync()
    with sfax.context():
        assert db.session.scalar(select(Peer.last_error)) is None  # it touched no peer
    keystore.keystore(sfax.app).unlock(TEST_PASSPHRASE)
    assert tunis.sync() == {"sfax": None} and sfax.sync() == {"tunis": None}
