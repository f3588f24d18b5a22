"""The golden push acknowledgement (tests/federation/vectors/golden-push-ack.json), reproduced
by the node's code and verified by an independent implementation (PyNaCl, rfc8785 and the
standard library only: nothing of the project); an acknowledgement the independent side makes
is accepted by the node, and one it changes is refused."""

import base64
import hashlib
import json
from pathlib import Path

import pytest
import rfc8785
from nacl.signing import SigningKey, VerifyKey

VECTORS = Path(__file__).parent / "vectors"
GOLDEN = json.loads((VECTORS / "golden-push-ack.json").read_text())
ENTRIES = json.loads((VECTORS / "golden-entries.json").read_text())


# -- the independent side: the spec, written again from docs/federation.md ----------------


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def independent_check(answer: bytes, push_body: bytes, acker_key: bytes, acker: str,
                      pusher: str, chain: dict[int, str]) -> int:
    """What a pushing node does with the answer to its push, per the spec: the envelope's
    text is canonical and signed by the node pushed to; it names us, answers this push (its
    body's hash, feed, after), acknowledges no more than was sent and our own entry there.
    Returns the ``seq`` the push cursor moves to."""
    document = json.loads(answer)
    assert set(document) == {"type", "ack", "receipts"} and document["type"] == "rabita.pushed/1"
    envelope = document["ack"]
    text = envelope["signed"].encode("utf-8")
    ack = json.loads(text)
    assert rfc8785.dumps(ack) == text, "not canonical"
    VerifyKey(acker_key).verify(text, base64.b64decode(envelope["sig"]))
    assert ack["type"] == "rabita.push-ack/1" and ack["from"] == acker and ack["key"] == acker
    assert ack["to"] == pusher
    sent = json.loads(push_body)
    assert ack["push"] == _sha256(push_body)
    assert (ack["feed"], ack["after"]) == (sent["feed"], sent["after"])
    assert ack["hash"] == chain[ack["seq"]]  # our own entry there (none beyond our head)
    return ack["seq"]


def independent_ack(key: SigningKey, to: str, push_body: bytes, seq: int, entry_hash: str,
                    at: str = "2026-01-15T09:31:00Z") -> bytes:
    """An acknowledgement as another implementation would write one."""
    node = _node_id(bytes(key.verify_key))
    sent = json.loads(push_body)
    text = rfc8785.dumps({"type": "rabita.push-ack/1", "from": node, "to": to, "key": node,
                          "at": at, "feed": sent["feed"], "after": sent["after"], "seq": seq,
                          "hash": entry_hash, "push": _sha256(push_body)})
    envelope = {"signed": text.decode("utf-8"),
                "sig": base64.b64encode(key.sign(text).signature).decode("ascii")}
    return json.dumps({"type": "rabita.pushed/1", "ack": envelope, "receipts": None}).encode()


def _node_id(public: bytes) -> str:
    digest = hashlib.sha256(b"rabita-node-id\x00" + public).digest()
    return base64.b32encode(digest[:20]).decode("ascii").lower()


def _golden_key() -> SigningKey:
    return SigningKey(hashlib.sha256(GOLDEN["seed_phrase"].encode()).digest())


def test_an_independent_reader_verifies_the_golden_acknowledgement():
    chain = {0: "0" * 64, **{e["fields"]["seq"]: _sha256(e["canonical"].encode())
                             for e in ENTRIES["entries"]}}
    assert chain[3] == ENTRIES["entries"][2]["hash"]
    seq = independent_check(GOLDEN["answer"].encode(), GOLDEN["push_body"].encode(),
                            base64.b64decode(GOLDEN["public_key"]), GOLDEN["node_id"],
                            ENTRIES["node_id"], chain)
    assert seq == 3
    assert _node_id(bytes(_golden_key().verify_key)) == GOLDEN["node_id"]
    # Ed25519 is deterministic: the independent side signs the same bytes the same way
    assert base64.b64encode(_golden_key().sign(GOLDEN["canonical"].encode()).signature
                            ).decode() == GOLDEN["signature"]


def test_the_node_reproduces_the_golden_acknowledgement():
    from federation import identity, protocol, push

    text = protocol.canonical(GOLDEN["fields"])
    assert text.decode() == GOLDEN["canonical"]
    assert protocol.sha256_hex(GOLDEN["push_body"].encode()) == GOLDEN["fields"]["push"]
    envelope = json.loads(GOLDEN["answer"])["ack"]
    raw, body, signature = protocol.open_envelope(envelope, push.ACK_TYPE, "ack-invalid")
    assert raw == text and body == GOLDEN["fields"]
    assert identity.verify(protocol.unb64(GOLDEN["public_key"]), raw, signature)
    assert protocol.b64(_golden_key().sign(text).signature) == GOLDEN["signature"]


@pytest.fixture
def pushed_golden(federation_app):
    """A node whose peers feed holds the golden entries' hashes (as if it had made them),
    paired with the golden acknowledging node."""
    from core.extensions import db
    from federation import protocol
    from federation.models import Key, OutboxEntry, Peer

    app = federation_app(unlocked=True)
    with app.app_context():
        public = base64.b64decode(GOLDEN["public_key"])
        db.session.add(Peer(node_id=GOLDEN["node_id"], state="approved", role="hub",
                            url="http://127.0.0.1:9"))
        db.session.add(Key(origin=GOLDEN["node_id"], key_id=GOLDEN["node_id"],
                           public_key=public, valid_from=protocol.parse_at(
                               "2020-01-01T00:00:00Z"), source="pairing"))
        for entry in ENTRIES["entries"]:
            fields = entry["fields"]
            db.session.add(OutboxEntry(
                feed="peers", seq=fields["seq"], entry_hash=entry["hash"], kind=fields["kind"],
                at=protocol.parse_at(fields["at"]), entry=entry["canonical"],
                sig=entry["signature"]))
        db.session.commit()
    return app


def test_the_node_accepts_an_independent_acknowledgement_and_refuses_a_changed_one(
        pushed_golden):
    from core.extensions import db
    from federation import push
    from federation.models import Peer
    from federation.reasons import Refused

    app = pushed_golden
    with app.app_context():
        node = app.config["NODE_ID"]
        peer = db.session.query(Peer).one()
        body = GOLDEN["push_body"].replace(ENTRIES["node_id"], node).encode()
        items = json.loads(body)["items"]
        answer = independent_ack(_golden_key(), node, body, 3, ENTRIES["entries"][2]["hash"])
        ack, receipts = push.read_answer(answer, peer, "peers", 0, items, body)
        assert (ack.seq, ack.hash, receipts) == (3, ENTRIES["entries"][2]["hash"], None)
        for changed, code in (
                (independent_ack(_golden_key(), node, body, 2, ENTRIES["entries"][2]["hash"]),
                 "ack-mismatch"),  # a head that is not this node's entry at 2
                (independent_ack(_golden_key(), node, body + b" ", 3,
                                 ENTRIES["entries"][2]["hash"]), "ack-mismatch"),  # another push
                (independent_ack(_golden_key(), ENTRIES["node_id"], body, 3,
                                 ENTRIES["entries"][2]["hash"]), "push-misaddressed"),
                (independent_ack(SigningKey(b"\x07" * 32), node, body, 3,
                                 ENTRIES["entries"][2]["hash"]), "ack-invalid")):
            with pytest.raises(Refused) as refused:
                push.read_answer(changed, peer, "peers", 0, items, body)
            assert refused.value.code == code
