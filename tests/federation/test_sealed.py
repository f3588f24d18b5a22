"""Sealed relay with three real node processes on 127.0.0.1: a record consented to partner
nodes but not to the hub goes A → hub → B as ciphertext. B reads it; the hub's database
file, its write-ahead log, its logs (every file of its instance folder) and every body it
sent or received hold none of the record's canaries, open fields included; a revoked
encryption key gets nothing new; the tombstone purges it at B."""

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from bench.canaries import Canary, leaked, normalised
from core.extensions import db
from federation import client, inbox, protocol, sealing, signing
from federation.models import OutboxEntry, ReceivedEntry
from federation.testing import pair
from tests.federation.conftest import share_testimony, withdraw

# Made-up words, each found nowhere else: in the open fields (title, narrative) that a
# partner node reads, and the teller's name (identifying: it never leaves A at all).
TITLE = "Zoubeida Gharsallaoui summoned at Oranjestad-Kasbah"
NARRATIVE = ("[redacted] was questioned about the Quimbaya bulletin in Sfax; "
             "مقال بعنوان زمردينا القرطاجنية أثار الاستدعاء.")
TELLER = "Thouraya Bellalouna"


def _canary(text: str) -> Canary:
    return Canary("open", "sealed", (tuple(normalised(text)),), text)


CANARIES = [_canary("Zoubeida Gharsallaoui"), _canary("Oranjestad"), _canary("Quimbaya"),
            _canary("زمردينا القرطاجنية"), _canary(TELLER)]
RAW = [word.encode("utf-8") for word in
       ("Gharsallaoui", "Oranjestad", "Quimbaya", "زمردينا", "Bellalouna")]


def found_in(data: bytes) -> list[str]:
    """The canaries in ``data``: as bytes, and as words once decoded (the leak check's own
    folding: case, diacritics, Arabic letter forms)."""
    hits = [word.decode() for word in RAW if word in data]
    hits += [c.shown for c in leaked(data.decode("utf-8", errors="replace"), CANARIES)]
    return hits


@pytest.fixture(params=["sqlite", "postgresql"])
def star(make_node, request):
    """Nodes A and B on SQLite and a hub (on SQLite, whose files are looked at, or on
    PostgreSQL), each node paired with the hub only."""
    a, b = make_node("tunis", wait=False), make_node("sfax", wait=False)
    hub = make_node("hub", role="hub", database=request.param, wait=False)
    for node in (a, b, hub):
        node.wait()
    pair(a, hub)
    pair(b, hub)
    return a, b, hub


@pytest.fixture
def wire(monkeypatch):
    """Every body sent and received by this process's nodes (each sync runs here; the hub
    is one side of every exchange in a star): (url, request body, answer body)."""
    seen = []
    send = client.send_raw

    def recorded(http, method, url, headers, body, timeout=(10, 60)):
        status, lines, answer = send(http, method, url, headers, body, timeout)
        seen.append((url, body or b"", answer, json.dumps(headers).encode()))
        return status, lines, answer

    monkeypatch.setattr(client, "send_raw", recorded)
    monkeypatch.setattr(client, "sleep", lambda seconds: None)
    return seen


def held(node):
    with node.context():
        return inbox.held_payloads()


def sealed_entries(node, record_id):
    with node.context():
        return [json.loads(row.entry) | {"payload": row.payload} for row in db.session.scalars(
            select(OutboxEntry).where(OutboxEntry.kind == protocol.SEALED,
                                      OutboxEntry.record_id == record_id)
            .order_by(OutboxEntry.seq))]


def rows_of(node) -> dict[str, bytes]:
    """Every row of every table of a node's database, as text (for either database)."""
    found = {}
    with node.context():
        for table in db.metadata.sorted_tables:
            rows = db.session.execute(select(table)).all()
            found[table.name] = "\n".join(repr(tuple(row)) for row in rows).encode("utf-8")
    return found


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.mark.slow
def test_a_peers_only_record_goes_through_the_hub_sealed(star, people, wire):
    a, b, hub = star
    salma, huda = people(a)
    # Each member announces its encryption key in its hub feed; the hub relays the entries.
    assert a.sync() == {"hub": None} and b.sync() == {"hub": None}
    assert hub.sync() == {"tunis": None, "sfax": None}
    with b.context():
        b_key = sealing.current_key()
    assert b_key is not None

    record = share_testimony(a, salma, huda, audiences=("peers",), title=TITLE,
                             narrative=NARRATIVE, teller_name=TELLER)
    assert a.sync() == {"hub": None}  # learns B's key (the hub vouches for B), seals to it
    [sealed] = sealed_entries(a, record)
    assert sealed["sealed"]["to"] == [b.node_id] and sealed["feed"] == "hub"
    assert hub.sync() == {"tunis": None, "sfax": None}
    assert b.sync() == {"hub": None}

    # B reads it: the payload A's partner nodes get, byte for byte, whose hash A signed.
    payload = held(b)[(a.node_id, record)]
    assert payload["title"] == TITLE and "Quimbaya" in payload["narrative"]
    with a.context():
        peers_entry = db.session.scalar(select(OutboxEntry).where(
            OutboxEntry.feed == "peers", OutboxEntry.record_id == record))
    assert protocol.sha256_hex(protocol.canonical(payload)) == peers_entry.payload_hash

    # The hub stored and relayed it (ciphertext only), holds nothing readable.
    with hub.context():
        stored = db.session.scalar(select(ReceivedEntry).where(
            ReceivedEntry.record_id == record, ReceivedEntry.kind == protocol.SEALED))
        assert stored is not None and stored.payload is not None
    assert (a.node_id, record) not in held(hub)
    hub_files = files_of(hub.folder)
    assert any(name.endswith("server.log") for name in hub_files)
    assert ("rabita.db" in hub_files) == (hub.app.config["SQLALCHEMY_DATABASE_URI"]
                                          .startswith("sqlite"))
    assert {name: hits for name, data in hub_files.items() if (hits := found_in(data))} == {}
    hub_rows = rows_of(hub)
    assert "rabita.sealed/1" in hub_rows["federation_entry"].decode()  # the ciphertext is kept
    assert {name: hits for name, data in hub_rows.items() if (hits := found_in(data))} == {}
    bodies = [part for exchange in wire for part in exchange[1:]]
    assert any(b"rabita.sealed/1" in body for body in bodies)  # the record did travel
    assert [found_in(body) for body in bodies if found_in(body)] == []

    # B revokes its encryption key (it may have leaked): a new record is sealed to B's new
    # key only, and nothing more to the revoked one.
    with b.context():
        renewed = sealing.revoke(b_key.key_id)
    assert renewed.key_id != b_key.key_id
    assert b.sync() == {"hub": None} and hub.sync() == {"tunis": None, "sfax": None}
    assert a.sync() == {"hub": None}  # A learns of it from B's signed key entries
    second = share_testimony(a, salma, huda, audiences=("peers",), title="A second summons")
    with a.context():
        after = db.session.scalars(select(OutboxEntry).where(
            OutboxEntry.kind == protocol.SEALED, OutboxEntry.record_id == second)).all()
        assert after and all(json.loads(row.payload)["boxes"] == [
            {"to": b.node_id, "key": renewed.key_id, "box": box["box"]}
            for box in json.loads(row.payload)["boxes"]] for row in after)
        assert sealing.recipient_keys()[b.node_id][0] == renewed.key_id
    assert hub.sync() == {"tunis": None, "sfax": None} and b.sync() == {"hub": None}
    assert held(b)[(a.node_id, second)]["title"] == "A second summons"

    # The defender withdraws: the tombstone purges it at B (and at the hub), in one round.
    withdraw(a, record, salma)
    assert hub.sync() == {"tunis": None, "sfax": None} and b.sync() == {"hub": None}
    assert held(b)[(a.node_id, record)] is None
    with hub.context():
        assert db.session.scalar(select(ReceivedEntry.payload).where(
            ReceivedEntry.record_id == record, ReceivedEntry.kind == protocol.SEALED)) is None
    # B's receipt reaches A's ledger through the hub; the hub, which held only ciphertext,
    # is not listed as having received the record.
    hub.sync()
    from core import ledger

    with a.context():
        listed = {e.recipient: e.receipt for e in ledger.entries() if e.record_uuid == record}
    assert set(listed) == {b.node_id} and listed[b.node_id]
    b_files = files_of(b.folder)
    assert {name: hits for name, data in b_files.items()
            if (hits := [h for h in found_in(data) if h != "Bellalouna"])} == {}


def test_a_node_seals_nothing_to_itself_a_hub_or_a_revoked_key(federation_app):
    """Recipients come from the signed key entries relayed to this node: the newest
    encryption key each member announced and did not revoke."""
    from tests.federation.conftest import Origin, as_item

    app = federation_app(name="member")
    member, other = Origin(seed=71), Origin(seed=72)
    first, second = encryption_key(1), encryption_key(2)
    with app.app_context():
        for origin in (member, other):
            origin.pin(app)
        items = [member._append("hub", "key", {"key_event": announce(first)}),
                 other._append("hub", "key", {"key_event": announce(second)}),
                 other.revoke("hub", second[0], other.at)]
        inbox.apply([as_item(raw) for raw in items], received_from=member.node_id)
        found = sealing.recipient_keys()
        assert found == {member.node_id: first}
        assert signing.identity().node_id not in found


def encryption_key(seed: int) -> tuple[str, bytes]:
    from nacl.public import PrivateKey

    public = bytes(PrivateKey(bytes([seed]) * 32).public_key)
    return protocol.encryption_key_id(public), public


def announce(key) -> dict:
    return {"action": "encrypt", "key_id": key[0], "public_key": protocol.b64(key[1])}


def test_encryption_keys_rotate_and_are_revoked_from_the_command_line(make_node):
    from federation.models import Peer

    node = make_node("tunis", serve=False)
    with node.context():
        db.session.add(Peer(node_id="h" * 32, state="approved", role="hub", label="hub"))
        db.session.commit()
        first = sealing.announce()
        assert first is not None and sealing.announce() is None  # one current key
    revoked = node.cli("federation", "revoke-encryption-key", first.key_id)
    assert revoked.returncode == 0, revoked.stderr
    unknown = node.cli("federation", "revoke-encryption-key", "a" * 32)
    assert unknown.returncode == 1 and "no such encryption key" in unknown.stderr
    rotated = node.cli("federation", "rotate-key")
    assert rotated.returncode == 0, rotated.stderr
    with node.context():
        keys = signing.identity().encryption
        assert [k.revoked_at is not None for k in keys] == [True, False, False]
        assert sealing.current_key() == keys[-1]
        events = [json.loads(row.entry)["key_event"] for row in db.session.scalars(
            select(OutboxEntry).where(OutboxEntry.feed == "hub", OutboxEntry.kind == "key")
            .order_by(OutboxEntry.seq))]
        assert [(e["action"], e["key_id"]) for e in events] == [
            ("encrypt", first.key_id), ("revoke", first.key_id), ("encrypt", keys[1].key_id),
            ("rotate", events[3]["key_id"]), ("encrypt", keys[2].key_id)]
        # Its private halves are wrapped by the node key like the signing keys: none in clear.
        folder = node.folder / "keys" / "secrets"
        assert {p.name for p in folder.glob("federation.enc.*")} == {
            f"federation.enc.{k.key_id}.sealed" for k in keys}


def test_sealed_entries_of_a_revoked_signing_key_are_signed_again(federation_app, monkeypatch):
    """Holders drop what a revoked key signed since its leak; the origin signs again each
    sealed entry it still shares (one per set of members), with the same sealed text."""
    from datetime import UTC, datetime

    from federation import outbox
    from federation.models import Peer
    from federation.testing import insecure_fill

    app = federation_app(name="origin")
    first, second = encryption_key(1), encryption_key(2)
    with app.app_context():
        db.session.add(Peer(node_id="h" * 32, state="approved", role="hub", label="hub"))
        db.session.commit()
        [record] = insecure_fill(1, feed="peers")
        monkeypatch.setattr(sealing, "recipient_keys", lambda: {"c" * 32: first})
        assert sealing.seal_pending() == 1
        monkeypatch.setattr(sealing, "recipient_keys",
                            lambda: {"c" * 32: first, "d" * 32: second})
        assert sealing.seal_pending() == 1  # the member it learned of since: sealed to it
        assert sealing.seal_pending() == 0
        before = [(json.loads(r.entry), r.payload) for r in db.session.scalars(
            select(OutboxEntry).where(OutboxEntry.kind == protocol.SEALED))]
        old, new = outbox.rotate_key()
        assert outbox.revoke_key(old, datetime(2020, 1, 1, tzinfo=UTC)) == 3  # record + 2
        after = [(json.loads(r.entry), r.payload) for r in db.session.scalars(
            select(OutboxEntry).where(OutboxEntry.kind == protocol.SEALED)
            .order_by(OutboxEntry.seq))][2:]
    assert [entry["sealed"]["to"] for entry, _ in after] == [["c" * 32], ["d" * 32]]
    assert all(entry["key"] == new and entry["record_id"] == record for entry, _ in after)
    assert [payload for _, payload in after] == [payload for _, payload in before]


def test_a_consent_that_drops_partner_nodes_tombstones_the_sealed_copy(make_node, people,
                                                                       monkeypatch):
    from datetime import date

    from core import consent
    from federation import outbox
    from federation.models import Peer
    from tests.conftest import load_testimony

    node = make_node("tunis", serve=False)
    salma, huda = people(node)
    with node.context():
        db.session.add(Peer(node_id="h" * 32, state="approved", role="hub", label="hub"))
        db.session.commit()
    monkeypatch.setattr(sealing, "recipient_keys", lambda: {"c" * 32: encryption_key(3)})
    record = share_testimony(node, salma, huda, audiences=("peers",))
    with node.context():
        assert outbox.latest(record, "hub").kind == protocol.SEALED  # sealed at the approval
        testimony = load_testimony(node.app, record)
        consent.record(testimony, user=node.user(salma), given_by="defender", method="oral",
                       audiences=["hub"], purposes=["advocacy"], obtained_on=date(2026, 2, 1))
        tombstone = outbox.latest(record, "hub")
        assert tombstone.kind == protocol.TOMBSTONE and tombstone.version == 1
        assert db.session.scalar(select(OutboxEntry.payload).where(
            OutboxEntry.kind == protocol.SEALED, OutboxEntry.record_id == record)) is None


@pytest.mark.slow
def test_a_node_nobody_reaches_pushes_its_sealed_records_through_the_hub(three_nodes, people,
                                                                         wire):
    """Node-initiated sync (federation.push) carries sealed entries like any: A, behind a
    router, pushes its hub feed; the hub keeps the ciphertext and relays it; B reads it."""
    from federation.testing import Port
    from tests.federation.test_push import cut_off

    a, b, hub = three_nodes
    dead = Port()
    try:
        cut_off(a, hub, dead)
        salma, huda = people(a)
        assert b.sync() == {"hub": None} and a.sync() == {"hub": None}  # A pushes its key
        assert hub.sync() == {"tunis": None, "sfax": None}  # takes B's, relays it
        assert a.sync() == {"hub": None}  # learns B's key
        record = share_testimony(a, salma, huda, audiences=("peers",), title=TITLE,
                                 narrative=NARRATIVE, teller_name=TELLER)
        assert sealed_entries(a, record)  # sealed at the approval: A knows B's key
        assert a.sync() == {"hub": None}  # pushed
        assert (a.node_id, record) not in held(hub)
        assert b.sync() == {"hub": None}
        assert held(b)[(a.node_id, record)]["title"] == TITLE
        bodies = [part for exchange in wire for part in exchange[1:]]
        assert any(b"rabita.sealed/1" in body for body in bodies)
        assert [found_in(body) for body in bodies if found_in(body)] == []
        assert {name: hits for name, data in rows_of(hub).items() if (hits := found_in(data))} \
            == {}
    finally:
        dead.close()
