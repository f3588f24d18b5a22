"""A restored node never forks its feeds: it takes its own entries back from its peers before it
signs again (federation.catchup), with real node processes over HTTP and the real `rabita
backup` / `rabita restore` commands."""

from __future__ import annotations

import shutil
import threading
from datetime import date

import flask_migrate
import pytest
from sqlalchemy import func, select

from core import clock, consent, migrating
from core.extensions import db
from core.migrating import walk_branch
from core.review import ReviewError
from core.testing import all_databases
from federation import catchup, outbox, peers, protocol, restored, sync_now
from federation.models import HeldRecord, OutboxEntry, OutboxHead, Quarantine
from federation.reasons import Refused
from federation.testing import insecure_fill_outbox, pair
from tests.conftest import load_testimony
from tests.federation.conftest import share_testimony, withdraw

PASSPHRASE = "a backup passphrase for the restore tests"


def _outbox(node) -> list[tuple[str, int, str, str | None]]:
    with node.context():
        return list(db.session.execute(
            select(OutboxEntry.feed, OutboxEntry.seq, OutboxEntry.entry_hash,
                   OutboxEntry.payload).order_by(OutboxEntry.feed, OutboxEntry.seq)).all())


def _withdraw(node, record_id: str) -> None:
    with node.context():
        outbox.tombstone("testimony.testimony", record_id, "withdrawn", ["peers"])
        db.session.commit()


def narrow(node, record_id: str, user_id: int, *, ends: date) -> None:
    """Her consent again, as it was but ending on ``ends``: narrower, so approvals stand."""
    with node.context():
        record = load_testimony(node.app, record_id)
        consent.record(record, user=node.user(user_id), given_by="defender", method="oral",
                       audiences=["peers"], purposes=["advocacy"],
                       obtained_on=date(2026, 1, 1), expires_on=ends)


def _release_database(node) -> None:
    with node.app.app_context():
        db.session.remove()
        db.engine.dispose()


def _lose_and_restore(node, archive) -> None:
    """The node's machine is lost; ``rabita restore`` puts the archive onto a new instance
    folder at the same place and address, and the node starts (and unlocks) there."""
    node.stop()
    _release_database(node)
    shutil.move(node.folder, node.folder.with_name(node.folder.name + "-lost"))
    done = node.cli("restore", str(archive), "--passphrase-file",
                    str(archive.parent / "backup-passphrase"))
    assert done.returncode == 0, done.stderr
    node.start()


def _backup_while_writing(node, partner, archive) -> None:
    """``rabita backup`` while a thread keeps sharing records and the partner keeps pulling."""
    stop, errors = threading.Event(), []

    def keep_sharing():
        try:
            while not stop.is_set():
                insecure_fill_outbox(node, 3, payload_bytes=200)
                partner.sync(node)
        except Exception as error:  # noqa: BLE001 - reported by the test below
            errors.append(error)

    writer = threading.Thread(target=keep_sharing)
    writer.start()
    try:
        threading.Event().wait(1.0)
        taken = node.cli("backup", str(archive), "--passphrase-file",
                         str(archive.parent / "backup-passphrase"))
        threading.Event().wait(0.5)
    finally:
        stop.set()
        writer.join()
    assert taken.returncode == 0, taken.stderr
    assert not errors, errors


@pytest.fixture
def restored_node(make_node, tmp_path, people):
    """Tunis shares with Sfax all along; Tunis is backed up mid-way, goes on sharing (and
    withdraws records on both sides of the backup), is lost, and is restored from the archive
    onto a new instance folder at the same address, then started (its feeds not taken back).
    Tunis's people and one testimony shared by consent and review are in the backup."""
    tunis, sfax = make_node("tunis"), make_node("sfax")
    pair(tunis, sfax)
    with tunis.context():
        flask_migrate.stamp(revision="heads")  # made by create_all: restore migrates nothing
    tunis.people = people(tunis)
    tunis.testimony = share_testimony(tunis, *tunis.people)
    tunis.narrowed = share_testimony(tunis, *tunis.people, title="Its consent narrows later")
    before = insecure_fill_outbox(tunis, 5, payload_bytes=200)
    sfax.sync(tunis)
    archive = tmp_path / "tunis.rbk"
    (tmp_path / "backup-passphrase").write_text(PASSPHRASE + "\n")
    _backup_while_writing(tunis, sfax, archive)
    after = insecure_fill_outbox(tunis, 4, payload_bytes=200)
    _withdraw(tunis, before[0])  # shared and backed up, withdrawn after the backup
    _withdraw(tunis, after[0])  # shared and withdrawn after the backup
    assert sfax.sync(tunis) == {"tunis": None}
    lost = _outbox(tunis)

    _lose_and_restore(tunis, archive)
    return tunis, sfax, lost, (before[0], after[0])


def test_a_restored_node_takes_its_feeds_back_and_forks_nothing(restored_node):
    tunis, sfax, lost, withdrawn = restored_node
    at_backup = _outbox(tunis)
    assert at_backup and len(at_backup) < len(lost)
    assert [row[:3] for row in at_backup] == [row[:3] for row in lost[:len(at_backup)]]

    with tunis.context():
        assert restored.pending() is not None
        with pytest.raises(restored.FeedsBehind):  # it signs nothing before it caught up
            outbox.tombstone("testimony.testimony", withdrawn[0], "withdrawn", ["peers"])
        db.session.rollback()
    assert _outbox(tunis) == at_backup

    salma, huda = tunis.people
    with pytest.raises(ReviewError):  # a reviewer's approval is refused, nothing saved
        share_testimony(tunis, salma, huda, title="Approved while behind")
    withdraw(tunis, tunis.testimony, salma)  # her consent ends here; its tombstone waits
    narrow(tunis, tunis.narrowed, salma, ends=date(2027, 6, 30))  # its new terms wait
    assert [row[:3] for row in _outbox(tunis)] == [row[:3] for row in at_backup]

    assert tunis.sync() == {"sfax": None}  # one round: caught up first, then synced
    assert sfax.sync(tunis) == {"tunis": None}
    back = _outbox(tunis)  # every entry back, withdrawn payloads purged again
    assert [row[:3] for row in back[:len(lost)]] == [row[:3] for row in lost]
    with tunis.context():
        assert restored.pending() is None
        waited = list(db.session.scalars(select(OutboxEntry).where(
            OutboxEntry.seq > len(lost)).order_by(OutboxEntry.seq)))
        assert len(back) == len(lost) + 2  # what waited, signed now: the withdrawal...
        assert (waited[0].kind, waited[0].record_id) == ("tombstone", tunis.testimony)
        assert (waited[1].kind, waited[1].record_id) == ("record", tunis.narrowed)  # ...terms
        withdrawn = (*withdrawn, tunis.testimony)
        assert all(outbox.retracted(record_id, "peers") for record_id in withdrawn)
        assert db.session.scalar(select(func.count()).select_from(OutboxEntry).where(
            OutboxEntry.record_id.in_(withdrawn), OutboxEntry.payload.is_not(None))) == 0
    payloads = {seq: payload for _feed, seq, _hash, payload in back}
    assert payloads[1] is None  # seq 1: the testimony, shared before the backup, withdrawn
    assert all(payloads[seq] == payload for _feed, seq, _hash, payload in lost if seq > 1)
    with sfax.context():
        narrowed = db.session.scalar(select(HeldRecord).where(
            HeldRecord.record_id == tunis.narrowed))
        assert narrowed.expires_on == date(2027, 6, 30) and narrowed.payload is not None
    with sfax.context():
        assert db.session.scalar(select(func.count()).select_from(Quarantine)) == 0
        held = {row.record_id: row for row in db.session.scalars(select(HeldRecord))}
        assert all(held[record_id].tombstoned_at is not None and held[record_id].payload is None
                   for record_id in withdrawn)  # nothing resurrected

    fresh = insecure_fill_outbox(tunis, 1, payload_bytes=200)  # signed from the real head
    assert sfax.sync(tunis) == {"tunis": None}
    with sfax.context():
        assert db.session.scalar(select(func.count()).select_from(Quarantine)) == 0
        assert db.session.scalar(select(HeldRecord).where(
            HeldRecord.record_id == fresh[0])).payload is not None


class Tampered:
    """A peer's answer to ``GET /federation/held``, changed on the way by ``change``."""

    def __init__(self, remote, change):
        self.remote, self.change = remote, change

    def get(self, path, **params):
        answer = protocol.strict_loads(self.remote.get(path, **params))
        self.change(answer)
        return protocol.dumps(answer)


def _flip_signature(answer):
    sig = answer["items"][0]["sig"]
    answer["items"][0]["sig"] = ("A" if sig[0] != "A" else "B") + sig[1:]


def _other_chain(answer):
    answer["items"] = answer["items"][1:]  # starts one entry late: not the next in the chain


def _forged_head(answer):
    answer["items"], answer["head"] = [], answer["after"]
    answer["hash"] = "1" * 64


@pytest.mark.parametrize(("change", "code"), [
    (_flip_signature, "entry-signature-invalid"),
    (_other_chain, "gap"),
    (_forged_head, "fork"),
])
def test_a_changed_answer_is_refused_and_nothing_is_taken(restored_node, change, code):
    tunis, sfax, _lost, _withdrawn = restored_node
    at_backup = _outbox(tunis)
    with tunis.context():
        peer = peers.find(sfax.node_id)
        remote = Tampered(catchup.client.PeerClient(peer.url, peer=peer), change)
        with pytest.raises(Refused) as refused:
            catchup.take_back(remote, "peers")
        assert refused.value.code == code
        db.session.rollback()
        assert restored.pending() is not None
    assert _outbox(tunis) == at_backup


def test_an_answer_from_another_node_is_refused(restored_node, make_node):
    """The peer's address now leads to a node that is not that peer: its answer is not signed
    by the peer's key, so nothing of it is taken, and the node stays behind."""
    tunis, sfax, _lost, _withdrawn = restored_node
    stranger = make_node("stranger")
    at_backup = _outbox(tunis)
    with tunis.context():
        peer = peers.find(sfax.node_id)
        peer.url = stranger.url
        db.session.commit()
        outcome = catchup.catch_up()
        assert not outcome.done and outcome.failed == {sfax.node_id: "signature-invalid"}
        assert restored.pending() is not None
        with pytest.raises(restored.FeedsBehind, match="sfax"):
            catchup.before_signing()
        pressed = sync_now.Job()  # an administrator's Sync now says why it did not sync
        sync_now._run(tunis.app, peer.id, pressed)
        assert pressed.result == "behind" and "restored" in sync_now.said(pressed)
    assert _outbox(tunis) == at_backup


def test_a_node_that_is_not_a_peer_is_refused_the_held_entries(restored_node, make_node):
    tunis, sfax, _lost, _withdrawn = restored_node
    stranger = make_node("stranger")
    with tunis.context():
        peers.add(stranger.url, stranger.fingerprint, "stranger", None)  # it never approved
        peer = peers.find(stranger.node_id)
        with pytest.raises(catchup.client.RemoteRefused) as refused:
            catchup.take_back(catchup.client.PeerClient(peer.url, peer=peer), "peers")
        assert refused.value.code == "peer-not-approved"
    with sfax.context():  # and a peer answers only for the feed it reads from the asker
        peer = peers.find(tunis.node_id)
        with pytest.raises(Refused) as refused:
            catchup.held(peer, "hub", 0, 10)
        assert refused.value.code == "feed-not-allowed"


def test_going_on_without_an_unreachable_peer_is_the_administrators_choice(restored_node):
    tunis, sfax, _lost, _withdrawn = restored_node
    sfax.stop()
    try:
        refused = tunis.cli("sync")
        assert refused.returncode != 0 and "sfax (unreachable)" in refused.stderr
        assert "Nothing was signed" in refused.stderr
        with tunis.context():
            assert restored.pending() is not None
            head = db.session.get(OutboxHead, "peers").seq
        chosen = tunis.cli("federation", "catch-up", "--without", "sfax")
        assert chosen.returncode == 0, chosen.stderr
        assert "Caught up" in chosen.stdout
        with tunis.context():
            db.session.expire_all()
            assert restored.pending() is None and db.session.get(OutboxHead, "peers").seq == head
    finally:
        sfax.start()


def test_a_member_of_a_hub_takes_its_hub_feed_back(make_node, tmp_path):
    """The usual star: a node shares with the hub only (the hub on PostgreSQL). Restored, it
    takes its ``hub`` feed back from the hub, and the hub sees no fork."""
    tunis, hub = make_node("tunis"), make_node("hub", role="hub", database="postgresql")
    pair(tunis, hub)
    with tunis.context():
        flask_migrate.stamp(revision="heads")
    insecure_fill_outbox(tunis, 3, feed="hub", payload_bytes=200)
    assert hub.sync(tunis) == {"tunis": None}
    archive = tmp_path / "tunis.rbk"
    (tmp_path / "backup-passphrase").write_text(PASSPHRASE + "\n")
    taken = tunis.cli("backup", str(archive), "--passphrase-file",
                      str(tmp_path / "backup-passphrase"))
    assert taken.returncode == 0, taken.stderr
    assert tunis.sync() == {"hub": None}  # its first round announces an encryption key
    after = insecure_fill_outbox(tunis, 4, feed="hub", payload_bytes=200)
    with tunis.context():
        outbox.tombstone("testimony.testimony", after[1], "withdrawn", ["hub"])
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(OutboxEntry).where(
            OutboxEntry.kind == "key")) == 1
    assert hub.sync(tunis) == {"tunis": None}
    lost = _outbox(tunis)

    _lose_and_restore(tunis, archive)
    caught = tunis.cli("federation", "catch-up")
    assert caught.returncode == 0, caught.stderr
    assert "hub: 6 entries taken back" in caught.stdout
    assert _outbox(tunis) == lost

    fresh = insecure_fill_outbox(tunis, 1, feed="hub", payload_bytes=200)
    assert hub.sync(tunis) == {"tunis": None}
    with hub.context():
        assert db.session.scalar(select(func.count()).select_from(Quarantine)) == 0
        held = {row.record_id: row for row in db.session.scalars(select(HeldRecord))}
        assert held[after[1]].tombstoned_at is not None and held[after[1]].payload is None
        assert held[fresh[0]].payload is not None


@all_databases
def test_the_migration_walks_down_and_up_again_with_a_restore_kept(make_app):
    """federation_0008 makes the table the models describe; a restore kept in it goes with the
    table down, and the branch comes back up to the models' schema."""
    app = make_app(PLUGINS=["federation"], create_tables=False)
    with app.app_context():
        flask_migrate.upgrade(revision="heads")
        db.session.add(restored.Restored(restored_at=clock.now(), backup_taken_at="2026-12-06"))
        db.session.commit()
        walk_branch(app, "federation")
        assert migrating.schema_differences(app) == []
        assert restored.pending() is None
