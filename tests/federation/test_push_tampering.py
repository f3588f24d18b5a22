"""Tampered pushes and acknowledgements (1.1, federation.push), over real HTTP on 127.0.0.1:
every one refused with a reason code, nothing written, no server error.

- **pushes** a paired node sends to a node that cannot reach it: every tampered page of the
  pull's own tampering test, pushed instead of served (the receiver runs the same checks),
  bytes of the body flipped under its signature, another recipient, another feed, a push of
  the wrong form, a replayed request;
- **acknowledgements** the node pushed to answers with: bytes and signature flipped, another
  recipient, a signer that is not the peer, the acknowledgement of another (an earlier) push,
  another feed, a ``seq`` beyond what was sent, a chain head that is not the sender's.
"""

import hashlib
import json
import random
import uuid

import pytest
import sqlalchemy as sa
from nacl.signing import SigningKey

from core import clock
from core.extensions import db
from core.testing import LiveServer
from federation import client as federation_client
from federation import identity, outbox, protocol, push, sync
from federation.models import Peer, Quarantine
from federation.reasons import Refused
from tests.federation.conftest import FakePeer, Origin
from tests.federation.test_tampering import (
    DATA_TABLES,
    fingerprint,
    page_tampering,
    send,
    sign,
)

SEED = 20261206
TABLES = (*DATA_TABLES, "federation_push_cursor")
PUSH_CASES, ACK_CASES = 100, 100


def push_body(to, items, *, feed="peers", after=0, head=None, changes=None):
    body = {"type": push.PUSH_TYPE, "id": uuid.uuid4().hex, "to": to, "feed": feed,
            "after": after, "head": head if head is not None else after + len(items),
            "items": items}
    body.update(changes or {})
    return protocol.dumps(body)


# -- pushes a node receives -------------------------------------------------------------------


@pytest.fixture
def receiver(federation_app):
    """A node serving on 127.0.0.1 with one approved partner (``origin``, whose key the test
    holds) that pushes to it."""
    app = federation_app(unlocked=True)
    origin = Origin(seed=21)
    origin.pin(app)
    with app.app_context():
        own = identity.key_id_of(bytes.fromhex("00" * 32))  # a node id that is not this one
        node = app.config["NODE_ID"]
    with LiveServer(app) as server:
        yield app, server.url, origin, node, own


def pushes(url, origin, node, stranger_id, rng):
    """Yield (what, message, expected code(s), quarantines?)."""
    target = f"{url}/federation/push"

    def signed(body):
        return sign("POST", target, body, origin.key, origin.key_id)

    # every tampered page of the pull's tampering test, pushed instead of served
    for what, serve, expected, quarantines in page_tampering(Origin(seed=21), rng):
        body, options = serve(0)
        if options:
            continue  # the answer's signature: a push has none to tamper with
        try:
            page = protocol.strict_loads(body)
            items, head = page["items"], page["head"]
        except (Refused, KeyError, TypeError):
            continue  # not a page: the push's own form is tampered with below
        if page.get("feed") != "peers" or page.get("after") != 0 or not isinstance(items, list):
            continue
        if not all(isinstance(i, dict) for i in items):
            continue
        yield f"page: {what}", signed(push_body(node, items, head=head)), expected, quarantines
    good = push_body(node, [Origin(seed=21).record("peers", str(uuid.UUID(int=0)))])
    # bytes of the body flipped under its signature
    for position in rng.sample(range(len(good)), 40):
        changed = bytearray(good)
        changed[position] ^= 0x01
        message = signed(good)
        message.body = bytes(changed)
        yield f"body byte {position}", message, "digest-mismatch", None
    # another recipient, another feed, the wrong form
    for to in (stranger_id, origin.node_id, node[:-1] + ("a" if node[-1] != "a" else "b"), ""):
        yield f"to {to!r}", signed(push_body(to, [])), "push-misaddressed", None
    for feed in ("hub", "relay", "public", ""):
        yield f"feed {feed!r}", signed(push_body(node, [], feed=feed)), "feed-not-allowed", None
    for name, value in (("type", "rabita.page/1"), ("after", -1), ("after", "0"),
                        ("head", None), ("items", {}), ("id", "short"), ("id", 7)):
        yield f"{name} {value!r}", signed(push_body(node, [], changes={name: value})), \
            "bad-request", None
    extra = json.loads(push_body(node, []))
    extra["also"] = 1
    yield "an extra field", signed(protocol.dumps(extra)), "bad-request", None
    yield "a duplicate key", signed(push_body(node, []).replace(
        b'"feed":"peers"', b'"feed":"peers","feed":"peers"')), "duplicate-key", None
    yield "not JSON", signed(b"{not json"), "json-invalid", None


@pytest.mark.slow
def test_tampered_pushes_are_refused_and_write_nothing(receiver):
    app, url, origin, node, stranger_id = receiver
    rng = random.Random(SEED)
    http = federation_client.session(app)
    counted, codes = 0, {}
    for what, message, expected, quarantines in pushes(url, origin, node, stranger_id, rng):
        before = fingerprint(app, TABLES)
        status, answer = send(http, message)
        assert status < 500, what
        allowed = expected if isinstance(expected, set) else {expected}
        assert answer.get("error") in allowed, (what, answer)
        assert fingerprint(app, TABLES) == before, f"{what} wrote to the database"
        with app.app_context():
            quarantined = db.session.scalar(sa.select(Quarantine))
            if quarantines is not None:
                assert (quarantined is not None) == quarantines, what
            if quarantined is not None:  # the designed alarm; the next case starts afresh
                db.session.delete(quarantined)
                db.session.commit()
        counted += 1
        codes[answer["error"]] = codes.get(answer["error"], 0) + 1
    # a replayed push (the very request again) is refused; the original was accepted
    again = Origin(seed=21)
    items = [again.record("peers", str(uuid.UUID(int=n))) for n in range(3)]
    original = sign("POST", f"{url}/federation/push", push_body(node, items), origin.key,
                    origin.key_id)
    status, answer = send(http, original)
    assert status == 200 and answer["type"] == push.ANSWER_TYPE, answer
    before = fingerprint(app, TABLES)
    assert send(http, original)[1]["error"] == "replayed"
    assert fingerprint(app, TABLES) == before
    counted += 1
    print(f"\n{counted} tampered pushes refused: {codes}")
    assert counted >= PUSH_CASES, codes


# -- acknowledgements a node that pushes receives --------------------------------------------


class AckingPeer(FakePeer):
    """A peer that answers pushes with what ``self.ack(push body)`` returns, signed as the
    test says (and serves an empty partner feed to pull)."""

    def __call__(self, environ, start_response):
        if environ["PATH_INFO"] == "/federation/push":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length)
            answer = self.ack(body)
            self.page = lambda after, answer=answer: (answer, {})
            environ = dict(environ, PATH_INFO="/federation/outbox", QUERY_STRING="after=0")
        else:
            self.page = lambda after: (protocol.dumps({
                "type": protocol.PAGE_TYPE, "feed": "peers", "after": after, "head": 0,
                "items": []}), {})
        return super().__call__(environ, start_response)


def ack_envelope(key, fields):
    text = protocol.canonical({"type": push.ACK_TYPE, **fields})
    return {"signed": text.decode(), "sig": protocol.b64(key.sign(text).signature)}


@pytest.fixture
def pusher(federation_app):
    app = federation_app(unlocked=True)
    origin = Origin(seed=51)
    origin.pin(app)
    fake = AckingPeer(origin)
    with app.app_context():
        peer = db.session.scalar(sa.select(Peer).where(Peer.node_id == origin.node_id))
        peer.url, peer.direction = fake.url, push.SEND
        for number in range(3):
            payload = protocol.canonical({"title": f"Record {number}"})
            outbox.append("peers", protocol.RECORD, {
                "record_type": "testimony.testimony", "record_id": str(uuid.UUID(int=number)),
                "version": 1, "payload_hash": protocol.sha256_hex(payload), "relay": False,
                "consent": {"audiences": ["peers"], "purposes": ["advocacy"], "expires": None},
            }, payload=payload, policy_hash="0" * 64)
        db.session.commit()
        heads = {seq: h for seq, h in db.session.execute(sa.text(
            "SELECT seq, entry_hash FROM federation_outbox WHERE feed = 'peers'"))}
        node = app.config["NODE_ID"]
    yield app, origin, fake, node, heads
    fake.close()


def push_round(app, origin):
    with app.test_request_context():
        peer = db.session.scalar(sa.select(Peer).where(Peer.node_id == origin.node_id))
        outcome = sync.sync_peer(peer)
        peer = db.session.scalar(sa.select(Peer).where(Peer.node_id == origin.node_id))
        peer.failures, peer.open_until = 0, None
        db.session.commit()
        return outcome.error


def acks(origin, node, heads, rng):
    """Yield (what, answer builder: push body -> answer bytes, expected code)."""
    stranger = SigningKey(hashlib.sha256(b"stranger").digest())
    earlier = {}

    def fields(body, **changes):
        sent = json.loads(body)
        last = sent["items"][-1]["seq"] if sent["items"] else sent["after"]
        values = {"from": origin.node_id, "to": node, "key": origin.key_id,
                  "at": protocol.at_text(clock.now()), "feed": sent["feed"],
                  "after": sent["after"], "seq": last, "hash": heads[last],
                  "push": protocol.sha256_hex(body)}
        values.update(changes)
        return values

    def answer(envelope, receipts=None, **document):
        return protocol.dumps({"type": push.ANSWER_TYPE, "ack": envelope,
                               "receipts": receipts, **document})

    def good(body):
        return answer(ack_envelope(origin.key, fields(body)))

    def flipped(position):
        def build(body):
            envelope = ack_envelope(origin.key, fields(body))
            text = bytearray(envelope["signed"].encode())
            text[position % len(text)] ^= 0x01
            try:
                envelope["signed"] = text.decode()
            except UnicodeDecodeError:
                envelope["signed"] = text.decode("latin-1")
            return answer(envelope)
        return build

    for position in rng.sample(range(200), 50):
        # a flipped byte may leave no JSON text (json-invalid), or a key twice (duplicate-key)
        yield f"ack byte {position}", flipped(position), {"ack-invalid", "json-invalid",
                                                          "duplicate-key"}
    for position in rng.sample(range(85), 30):  # the 86th holds unused bits
        def build(body, position=position):
            envelope = ack_envelope(origin.key, fields(body))
            sig = envelope["sig"]
            envelope["sig"] = sig[:position] + ("A" if sig[position] != "A" else "B") + \
                sig[position + 1:]
            return answer(envelope)
        yield f"ack signature char {position}", build, "ack-invalid"
    for to in (origin.node_id, "a" * 32, node[:-1] + ("a" if node[-1] != "a" else "b")):
        yield f"ack to {to}", lambda body, to=to: answer(ack_envelope(
            origin.key, fields(body, to=to))), "push-misaddressed"
    stranger_id = identity.key_id_of(bytes(stranger.verify_key))
    yield "ack signed by a stranger as the peer", lambda body: answer(ack_envelope(
        stranger, fields(body))), "ack-invalid"
    yield "ack from a stranger", lambda body: answer(ack_envelope(
        stranger, fields(body, **{"from": stranger_id, "key": stranger_id}))), "ack-invalid"
    yield "ack with an unknown key", lambda body: answer(ack_envelope(
        origin.key, fields(body, key=stranger_id))), "ack-invalid"

    def replayed(body):  # the acknowledgement of the first push, given again
        if "first" not in earlier:
            earlier["first"] = ack_envelope(origin.key, fields(body))
            return answer(ack_envelope(origin.key, fields(body, push="0" * 64)))
        return answer(earlier["first"])
    yield "a replayed acknowledgement (first: another push's hash)", replayed, "ack-mismatch"
    yield "a replayed acknowledgement", replayed, "ack-mismatch"
    for name, value in (("feed", "hub"), ("after", 1), ("seq", 4), ("seq", 99),
                        ("hash", "e" * 64), ("hash", protocol.GENESIS), ("push", "f" * 64)):
        yield f"ack {name} {value!r}", lambda body, n=name, v=value: answer(ack_envelope(
            origin.key, fields(body, **{n: v}))), "ack-mismatch"
    for name, value in (("seq", -1), ("seq", "3"), ("after", None), ("at", "yesterday")):
        yield f"ack {name} {value!r}", lambda body, n=name, v=value: answer(ack_envelope(
            origin.key, fields(body, **{n: v}))), "ack-invalid"
    yield "ack with an extra field", lambda body: answer(ack_envelope(
        origin.key, {**fields(body), "also": 1})), "ack-invalid"
    yield "ack of another type", lambda body: answer({"signed": protocol.canonical(
        {**fields(body), "type": "rabita.receipt/1"}).decode(), "sig": "A" * 88}), "ack-invalid"
    yield "answer of another type", lambda body: protocol.dumps(
        {"type": "rabita.ok/1"}), "ack-invalid"
    yield "answer with an extra field", lambda body: answer(
        ack_envelope(origin.key, fields(body)), also=1), "ack-invalid"
    yield "answer not an object", lambda body: b"[]", "ack-invalid"
    yield "ack not canonical", lambda body: answer({"signed": json.dumps(
        {"type": push.ACK_TYPE, **fields(body)}, indent=1), "sig": "A" * 88}), "ack-invalid"
    yield "the good one", good, None


@pytest.mark.slow
def test_tampered_acknowledgements_are_refused_and_move_nothing(pusher):
    app, origin, fake, node, heads = pusher
    rng = random.Random(SEED)
    counted, codes = 0, {}
    for what, build, expected in acks(origin, node, heads, rng):
        fake.ack = build
        before = fingerprint(app, TABLES)
        code = push_round(app, origin)
        if expected is None:
            assert code is None, (what, code)
            with app.app_context():
                assert push.position(db.session.scalar(sa.select(Peer.id)), "peers")[0] == 3
            continue
        assert code in (expected if isinstance(expected, set) else {expected}), (what, code)
        assert fingerprint(app, TABLES) == before, f"{what} wrote to the database"
        counted += 1
        codes[code] = codes.get(code, 0) + 1
    print(f"\n{counted} tampered acknowledgements refused: {codes}")
    assert counted >= ACK_CASES, codes
