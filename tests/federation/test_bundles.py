"""Offline bundles: the same signed entries on a stick, sealed to one node, verified alike."""

import json

import pytest

from core.extensions import db
from federation import bundles, inbox, protocol, signing
from federation.reasons import Refused
from tests.federation.conftest import share_testimony, withdraw


@pytest.fixture
def offline(make_node):
    """Two paired nodes whose servers never run: the network is cut."""
    from federation import peers

    tunis, sfax = make_node("tunis", serve=False), make_node("sfax", serve=False)
    with tunis.context():
        peers.add(sfax.url, sfax.fingerprint, "sfax", None, send_request=False,
                  document=_document(sfax))
    with sfax.context():
        peers.add(tunis.url, tunis.fingerprint, "tunis", None, send_request=False,
                  document=_document(tunis))
    return tunis, sfax  # paired as `pair` does, with the documents handed over in person


def _document(node):
    from federation import identity

    with node.context():
        return identity.node_document()


def export(node, peer, path):
    from federation import peers

    with node.context():
        return bundles.export(peers.find(peer.node_id), path)


def load(node, path):
    with node.context():
        try:
            return bundles.import_bundle(path)
        except Refused:
            db.session.rollback()
            raise


def test_a_bundle_carries_entries_and_tombstones_across_a_cut_network(offline, people, tmp_path):
    tunis, sfax = offline
    salma, huda = people(tunis)
    uuid = share_testimony(tunis, salma, huda)
    assert export(tunis, sfax, tmp_path / "one.rabita") == 1
    assert load(sfax, tmp_path / "one.rabita") == 1
    with sfax.context():
        assert inbox.held_payloads()[(tunis.node_id, uuid)]["title"]
    assert load(sfax, tmp_path / "one.rabita") == 1  # again: nothing changes
    withdraw(tunis, uuid, salma)
    export(tunis, sfax, tmp_path / "two.rabita")
    load(sfax, tmp_path / "two.rabita")
    with sfax.context():
        assert inbox.held_payloads() == {(tunis.node_id, uuid): None}
    with tunis.context():
        from core import ledger

        assert [e.recipient for e in ledger.entries()] == [sfax.node_id]


def test_a_bundle_reveals_nothing_without_the_recipients_key(offline, people, tmp_path):
    tunis, sfax = offline
    salma, huda = people(tunis)
    share_testimony(tunis, salma, huda, title="Summons in Sakiet Ezzit")
    export(tunis, sfax, tmp_path / "b.rabita")
    data = (tmp_path / "b.rabita").read_bytes()
    assert data.startswith(bundles.MAGIC)
    assert b"Summons" not in data and b"testimony" not in data
    with pytest.raises(Refused) as refused:
        load(tunis, tmp_path / "b.rabita")  # made for sfax, not for tunis
    assert refused.value.code == "bundle-not-for-us"


@pytest.mark.parametrize("position", [len(bundles.MAGIC) + 5, -40, -1])
def test_a_changed_bundle_is_refused_and_changes_nothing(offline, people, tmp_path, position):
    tunis, sfax = offline
    salma, huda = people(tunis)
    share_testimony(tunis, salma, huda)
    export(tunis, sfax, tmp_path / "b.rabita")
    data = bytearray((tmp_path / "b.rabita").read_bytes())
    data[position] ^= 0x01
    (tmp_path / "b.rabita").write_bytes(bytes(data))
    with pytest.raises(Refused):
        load(sfax, tmp_path / "b.rabita")
    with sfax.context():
        assert inbox.held_payloads() == {}


def resealed(node, peer, path, change):
    """A bundle opened (with the recipient's key), changed, signed by its real sender and
    sealed again: what a sender (or a thief of its key) could make."""
    from nacl.public import SealedBox
    from nacl.signing import VerifyKey

    with peer.context():
        outer = json.loads(signing.open_sealed(path.read_bytes()[len(bundles.MAGIC):]))
        public = signing.identity().genesis.public_key
    inner = json.loads(outer["bundle"])
    change(inner)
    text = protocol.dumps(inner)
    with node.context():
        signature = signing.sign(text)
    signed = protocol.dumps({"bundle": text.decode(), "sig": protocol.b64(signature)})
    box = SealedBox(VerifyKey(public).to_curve25519_public_key())
    path.write_bytes(bundles.MAGIC + box.encrypt(signed))


def test_a_bundle_gets_the_checks_a_pull_gets(offline, people, tmp_path):
    tunis, sfax = offline
    salma, huda = people(tunis)
    for _ in range(3):
        share_testimony(tunis, salma, huda)
    export(tunis, sfax, tmp_path / "b.rabita")
    resealed(tunis, sfax, tmp_path / "b.rabita",
             lambda inner: inner["feeds"]["peers"]["items"].pop(1))
    with pytest.raises(Refused) as refused:
        load(sfax, tmp_path / "b.rabita")
    assert refused.value.code == "gap"
    assert quarantined(sfax) == {tunis.node_id: "gap"}  # as a pull's gap does
    release(sfax, tunis)
    export(tunis, sfax, tmp_path / "c.rabita")

    def change_payload(inner):
        item = inner["feeds"]["peers"]["items"][0]
        item["payload"] = item["payload"].replace("Summons", "Sommation")

    resealed(tunis, sfax, tmp_path / "c.rabita", change_payload)
    with pytest.raises(Refused) as refused:
        load(sfax, tmp_path / "c.rabita")
    assert refused.value.code == "payload-mismatch"
    with sfax.context():
        assert inbox.held_payloads() == {}


def quarantined(node):
    from federation import sync

    with node.context():
        return {found.origin: found.reason for found in sync.quarantined()}


def release(node, origin):
    from federation import sync

    with node.context():
        sync.release(origin.node_id, None)


def test_a_fork_in_a_bundle_quarantines_the_origin_and_alerts(offline, people, tmp_path):
    """Issue 19, Found 5: at 8a0d646 a bundle's fork was refused but quarantined nothing, so
    the alert an administrator needs never showed."""
    from sqlalchemy import func, select

    from core.models import AuditEntry

    tunis, sfax = offline
    salma, huda = people(tunis)
    for _ in range(2):
        share_testimony(tunis, salma, huda)
    export(tunis, sfax, tmp_path / "f.rabita")

    def fork(inner):
        item = inner["feeds"]["peers"]["items"][1]
        entry = json.loads(item["entry"])
        entry["prev"] = "f" * 64
        text = protocol.canonical(entry)
        with tunis.context():
            item["entry"], item["sig"] = text.decode(), protocol.b64(signing.sign(text))

    resealed(tunis, sfax, tmp_path / "f.rabita", fork)
    with pytest.raises(Refused) as refused:
        load(sfax, tmp_path / "f.rabita")
    assert refused.value.code == "fork"
    assert quarantined(sfax) == {tunis.node_id: "fork"}
    with sfax.context():
        assert inbox.held_payloads() == {}
        assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "federation.quarantined")) == 1
    with pytest.raises(Refused) as refused:  # nothing more from it until she acts
        load(sfax, tmp_path / "f.rabita")
    assert refused.value.code == "quarantined"


def test_a_bundle_is_written_for_its_owner_only(offline, people, tmp_path):
    tunis, sfax = offline
    salma, huda = people(tunis)
    share_testimony(tunis, salma, huda)
    path = tmp_path / "private.rabita"
    path.write_bytes(b"an older file, readable by all")
    path.chmod(0o644)
    export(tunis, sfax, path)
    assert path.stat().st_mode & 0o777 == 0o600
    export(tunis, sfax, tmp_path / "new.rabita")
    assert (tmp_path / "new.rabita").stat().st_mode & 0o777 == 0o600


def test_bundles_by_the_command_line(offline, people, tmp_path):
    tunis, sfax = offline
    salma, huda = people(tunis)
    share_testimony(tunis, salma, huda)
    made = tunis.cli("bundle", "export", "--peer", "sfax", str(tmp_path / "b.rabita"))
    assert made.returncode == 0 and "Wrote 1 entries" in made.stdout, made.stderr
    taken = sfax.cli("bundle", "import", str(tmp_path / "b.rabita"))
    assert taken.returncode == 0 and "bundle of 1 entries" in taken.stdout, taken.stderr
    refused = tunis.cli("bundle", "import", str(tmp_path / "b.rabita"))
    assert refused.returncode == 1 and "bundle-not-for-us" in refused.stderr
