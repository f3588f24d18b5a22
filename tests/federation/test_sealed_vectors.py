"""The golden sealed entry (tests/federation/vectors/golden-sealed.json), read by the node's
code and by an independent implementation (PyNaCl, rfc8785 and the standard library only:
nothing of the project), and sealed entries made by each side opened by the other."""

import base64
import hashlib
import json
import uuid
from pathlib import Path

import rfc8785
from nacl import bindings
from nacl.public import PrivateKey, PublicKey, SealedBox
from nacl.signing import SigningKey, VerifyKey

VECTORS = Path(__file__).parent / "vectors"
GOLDEN = json.loads((VECTORS / "golden-sealed.json").read_text())
ENTRIES = json.loads((VECTORS / "golden-entries.json").read_text())


# -- the independent side: the spec, written again from docs/federation.md ----------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _binding(origin: str, record_id: str, version: int) -> bytes:
    return b"rabita.sealed/1\x00" + f"{origin}\x00{record_id}\x00{version}".encode("ascii")


def independent_open(entry_text: bytes, signature: bytes, origin_key: bytes, sealed_text: bytes,
                     node_id: str, private: bytes) -> bytes:
    """What a recipient does, per the spec: check the entry (canonical, signed), the sealed
    text against ``payload_hash``, open its box, the ciphertext, and ``content_hash``."""
    entry = json.loads(entry_text)
    assert rfc8785.dumps(entry) == entry_text
    VerifyKey(origin_key).verify(entry_text, signature)
    assert entry["kind"] == "sealed" and entry["feed"] == "hub"
    assert _sha256(sealed_text) == entry["payload_hash"]
    sealed = json.loads(sealed_text)
    assert rfc8785.dumps(sealed) == sealed_text and sealed["type"] == "rabita.sealed/1"
    assert [box["to"] for box in sealed["boxes"]] == entry["sealed"]["to"]
    box = next(box for box in sealed["boxes"] if box["to"] == node_id)
    content_key = SealedBox(PrivateKey(private)).decrypt(base64.b64decode(box["box"]))
    payload = bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
        base64.b64decode(sealed["ciphertext"]),
        _binding(entry["origin"], entry["record_id"], entry["version"]),
        base64.b64decode(sealed["nonce"]), content_key)
    assert _sha256(content_key + payload) == entry["sealed"]["content_hash"]
    assert rfc8785.dumps(json.loads(payload)) == payload
    return payload


def independent_seal(payload: bytes, recipients: dict[str, tuple[str, bytes]], fields: dict,
                     signing_key: SigningKey) -> dict:
    """A sealed entry as the spec describes it, as a relay item's ``entry``/``sig``/``payload``."""
    content_key, nonce = bytes(range(32)), bytes(range(24))  # fixed: only tests
    ciphertext = bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        payload, _binding(fields["origin"], fields["record_id"], fields["version"]), nonce,
        content_key)
    boxes = [{"to": node, "key": key_id,
              "box": _b64(SealedBox(PublicKey(public)).encrypt(content_key))}
             for node, (key_id, public) in sorted(recipients.items())]
    sealed = rfc8785.dumps({"type": "rabita.sealed/1", "boxes": boxes, "nonce": _b64(nonce),
                            "ciphertext": _b64(ciphertext)})
    body = dict(fields, kind="sealed", payload_hash=_sha256(sealed),
                sealed={"to": sorted(recipients),
                        "content_hash": _sha256(content_key + payload)})
    text = rfc8785.dumps(body)
    return {"seq": body["seq"], "entry": text.decode(),
            "sig": _b64(signing_key.sign(text).signature), "payload": sealed.decode()}


def _golden_key() -> SigningKey:
    return SigningKey(hashlib.sha256(ENTRIES["seed_phrases"][0].encode()).digest())


def test_an_independent_implementation_opens_the_golden_sealed_entry():
    for signed, key in ((GOLDEN["previous"], _golden_key()), (GOLDEN["entry"], _golden_key()),
                        (GOLDEN["announcement"], SigningKey(hashlib.sha256(
                            GOLDEN["phrases"]["recipient_node_seed"].encode()).digest()))):
        text = signed["canonical"].encode()
        assert rfc8785.dumps(signed["fields"]) == text and _sha256(text) == signed["hash"]
        assert _b64(key.sign(text).signature) == signed["signature"]  # Ed25519: deterministic
    assert GOLDEN["entry"]["fields"]["prev"] == GOLDEN["previous"]["hash"]
    recipient = GOLDEN["recipient"]
    private = hashlib.sha256(GOLDEN["phrases"]["recipient_encryption_key"].encode()).digest()
    assert _b64(bytes(PrivateKey(private).public_key)) == recipient["encryption_public_key"]
    payload = independent_open(GOLDEN["entry"]["canonical"].encode(),
                               base64.b64decode(GOLDEN["entry"]["signature"]),
                               base64.b64decode(ENTRIES["public_key"]),
                               GOLDEN["sealed"].encode(), recipient["node_id"], private)
    assert payload == GOLDEN["payload"].encode()
    # The ciphertext is reproducible from the content key, nonce and binding.
    content_key = hashlib.sha256(GOLDEN["phrases"]["content_key"].encode()).digest()
    nonce = hashlib.sha256(GOLDEN["phrases"]["nonce"].encode()).digest()[:24]
    assert _b64(bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        payload, base64.b64decode(GOLDEN["associated_data"]), nonce, content_key)) == \
        GOLDEN["ciphertext"]


def test_the_nodes_code_reads_and_makes_the_golden_sealed_entry():
    from federation import identity, protocol, sealing

    entry = protocol.read_entry(GOLDEN["entry"]["canonical"].encode())
    assert entry.kind == protocol.SEALED and entry.hash == GOLDEN["entry"]["hash"]
    assert identity.verify(base64.b64decode(ENTRIES["public_key"]), entry.raw,
                           base64.b64decode(GOLDEN["entry"]["signature"]))
    assert protocol.read_payload(GOLDEN["sealed"], entry) == GOLDEN["sealed"].encode()
    announcement = protocol.read_entry(GOLDEN["announcement"]["canonical"].encode())
    assert announcement.key_event["key_id"] == GOLDEN["recipient"]["encryption_key_id"]
    content_key = base64.b64decode(GOLDEN["content_key"])
    recipient = GOLDEN["recipient"]
    text, content = sealing.seal(
        GOLDEN["payload"].encode(), {recipient["node_id"]: (
            recipient["encryption_key_id"],
            base64.b64decode(recipient["encryption_public_key"]))},
        origin=entry.origin, record_id=entry.record_id, version=entry.version,
        content_key=content_key, nonce=base64.b64decode(GOLDEN["nonce"]))
    made = json.loads(text)
    assert made["ciphertext"] == GOLDEN["ciphertext"] and content == GOLDEN["content_hash"]
    assert sealing.open_with(entry, json.loads(GOLDEN["sealed"]), content_key) == \
        GOLDEN["payload"].encode()


def test_a_node_opens_what_an_independent_origin_sealed_and_the_reverse(federation_app):
    """An origin written from the spec seals to a real node's key; the node verifies the
    relayed entry and holds the payload. The node's code seals to an independent key, which
    the independent side opens."""
    from core.extensions import db
    from federation import inbox, protocol, sealing, signing
    from federation.models import Key, Peer

    app = federation_app(name="member")
    origin_key = SigningKey(hashlib.sha256(b"an independent origin").digest())
    origin = base64.b32encode(hashlib.sha256(
        b"rabita-node-id\x00" + bytes(origin_key.verify_key)).digest()[:20]).decode().lower()
    with app.app_context():
        mine = signing.create_encryption_key()
        own = signing.identity().node_id
        db.session.add(Peer(node_id=origin, state="approved", role="node", label="independent"))
        db.session.add(Key(origin=origin, key_id=origin, public_key=bytes(origin_key.verify_key),
                           valid_from=protocol.parse_at("2020-01-01T00:00:00Z"),
                           source="pairing"))
        db.session.commit()
        record_id = str(uuid.uuid4())
        payload = rfc8785.dumps({"title": "Un témoignage", "place": "TN-61"})
        item = independent_seal(payload, {own: (mine.key_id, mine.public_key)}, {
            "type": "rabita.entry/1", "origin": origin, "feed": "hub", "seq": 1,
            "prev": "0" * 64, "at": "2026-02-01T10:00:00Z", "key": origin,
            "record_type": "testimony.testimony", "record_id": record_id, "version": 1,
            "consent": {"audiences": ["peers"], "purposes": ["advocacy"], "expires": None}},
            origin_key)
        relayed = dict(item, seq=1, link=_sha256(
            f"{'0' * 64}{_sha256(item['entry'].encode())}".encode()))
        hub_id = "a" * 32
        page = inbox.verify_relay(hub_id, [relayed], 1, 0, protocol.GENESIS, inbox.Keys(), own)
        inbox.apply(page.items, received_from=hub_id)
        db.session.commit()
        assert inbox.held_payloads()[(origin, record_id)] == json.loads(payload)

    # The reverse: the node's code seals, the independent side opens.
    private = PrivateKey(hashlib.sha256(b"an independent recipient").digest())
    public = bytes(private.public_key)
    key_id = base64.b32encode(hashlib.sha256(
        b"rabita-encryption-key\x00" + public).digest()[:20]).decode().lower()
    node_key = SigningKey(hashlib.sha256(b"a node of the project").digest())
    node_id = "b" * 32
    text, content = sealing.seal(payload, {node_id: (key_id, public)}, origin=node_id,
                                 record_id=record_id, version=3)
    body = {"type": "rabita.entry/1", "origin": node_id, "feed": "hub", "seq": 5,
            "prev": "0" * 64, "at": "2026-02-01T10:00:00Z", "key": node_id, "kind": "sealed",
            "record_type": "testimony.testimony", "record_id": record_id, "version": 3,
            "consent": {"audiences": ["peers"], "purposes": ["advocacy"], "expires": None},
            "payload_hash": _sha256(text), "sealed": {"to": [node_id], "content_hash": content}}
    entry_text = protocol.canonical(body)
    assert independent_open(entry_text, node_key.sign(entry_text).signature,
                            bytes(node_key.verify_key), text, node_id, bytes(private)) == payload
