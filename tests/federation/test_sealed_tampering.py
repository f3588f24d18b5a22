"""Tampered sealed entries and payloads, generated: flipped bytes, ciphertexts swapped
between records, a box for the wrong recipient, a ciphertext replayed under another entry.
Each is refused with a reason code, at the hub (which cannot open it, but checks its hash
and form) or at the recipient (which opens it), and nothing is written."""

import json
import uuid

import pytest
from nacl.public import PrivateKey
from sqlalchemy import func, select

from core.extensions import db
from federation import inbox, protocol, sealing, signing
from federation.models import Chain, Cursor, HeldRecord, ReceivedEntry, RelayItem
from federation.reasons import REASONS, Refused
from tests.federation.conftest import Origin

PAYLOAD = {"title": "Summons after a radio interview", "place": "TN-61",
           "narrative": "[redacted] was summoned to the police station in Sfax."}


@pytest.fixture
def sides(federation_app):
    """A hub, and a member node B with its encryption key; origin A is known to both."""
    hub = federation_app(name="hub", FEDERATION_ROLE="hub")
    member = federation_app(name="member")
    with member.app_context():
        key = signing.create_encryption_key()
    with hub.app_context():
        hub_id = signing.identity().node_id
    return hub, member, hub_id, (key.key_id, key.public_key)


def origin_for(*apps, seed=81) -> Origin:
    origin = Origin(seed=seed)
    for app in apps:
        origin.pin(app)
    return origin


def sealed_item(origin, recipients, record_id, version=1, payload=PAYLOAD, *, feed="hub",
                audiences=("peers",), **changes):
    """A signed sealed entry with its sealed text, as the origin makes it; ``changes``
    alter the sealed text or the entry's fields before signing (a dishonest origin)."""
    plain = protocol.canonical(payload)
    text, content = sealing.seal(plain, recipients, origin=origin.node_id, record_id=record_id,
                                 version=changes.pop("aad_version", version))
    if "edit" in changes:
        value = json.loads(text)
        changes.pop("edit")(value)
        text = protocol.canonical(value)
    sealed = {"to": sorted(recipients), "content_hash": changes.pop("content_hash", content)}
    sealed.update(changes.pop("sealed", {}))
    fields = {"record_type": "testimony.testimony", "record_id": record_id, "version": version,
              "consent": {"audiences": sorted(audiences), "purposes": ["advocacy"],
                          "expires": None},
              "payload_hash": protocol.sha256_hex(text), "sealed": sealed}
    fields.update(changes)
    return origin._append(feed, protocol.SEALED, fields, text)


def state(app) -> tuple:
    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(model))
                     for model in (ReceivedEntry, HeldRecord, Chain, Cursor, RelayItem))


def at_hub(hub, origin, items) -> str | None:
    """Verify and apply a page of ``origin``'s hub feed as a hub's pull does."""
    with hub.app_context():
        try:
            page = inbox.verify_feed(origin.node_id, "hub", items, len(items), inbox.Keys(),
                                     signing.identity().node_id)
            inbox.apply(page.items, received_from=origin.node_id, relay=True)
            db.session.commit()
        except Refused as refused:
            db.session.rollback()
            return refused.code
    return None


def at_member(member, hub_id, items) -> str | None:
    """Verify and apply a relay page as a member's pull does."""
    link, relayed = protocol.GENESIS, []
    for number, item in enumerate(items, 1):
        link = inbox.relay_link(link, protocol.sha256_hex(item["entry"].encode()))
        relayed.append({**item, "seq": number, "link": link})
    with member.app_context():
        try:
            page = inbox.verify_relay(hub_id, relayed, len(relayed), 0, protocol.GENESIS,
                                      inbox.Keys(), signing.identity().node_id)
            inbox.apply(page.items, received_from=hub_id)
            db.session.commit()
        except Refused as refused:
            db.session.rollback()
            return refused.code
    return None


def flipped(text: str, position: int) -> str:
    char = text[position]
    return text[:position] + ("A" if char != "A" else "B") + text[position + 1:]


def test_an_honest_sealed_entry_passes_both_sides(sides):
    hub, member, hub_id, b_key = sides
    with member.app_context():
        b_id = signing.identity().node_id
    origin = origin_for(hub, member)
    record = str(uuid.uuid4())
    item = sealed_item(origin, {b_id: b_key}, record)
    assert at_hub(hub, origin, [item]) is None
    assert at_member(member, hub_id, [item]) is None
    with member.app_context():
        assert inbox.held_payloads()[(origin.node_id, record)] == PAYLOAD
    with hub.app_context():  # the hub keeps the sealed text to relay it, and holds nothing
        assert inbox.held_payloads() == {}
        assert inbox.relay_page(0, 10)[1] == 1


def test_tampered_sealed_entries_are_refused_and_write_nothing(sides):
    hub, member, hub_id, b_key = sides
    with member.app_context():
        b_id = signing.identity().node_id
    c_key = PrivateKey.generate().public_key
    c_key = (protocol.encryption_key_id(bytes(c_key)), bytes(c_key))
    c_id = Origin(seed=99).node_id
    before_hub, before_member = state(hub), state(member)
    outcomes: list[tuple[str, str, str | None]] = []

    def both(name, make):
        """Refused at the hub (with a fresh origin state each time) and at the member."""
        origin = origin_for(seed=81)
        items = make(origin)
        with hub.app_context():
            origin.pin(hub) if not _pinned(origin) else None
        outcomes.append((name, "hub", at_hub(hub, origin, items)))
        with member.app_context():
            origin.pin(member) if not _pinned(origin) else None
        outcomes.append((name, "member", at_member(member, hub_id, items)))

    def member_only(name, make):
        origin = origin_for(seed=81)
        items = make(origin)
        with member.app_context():
            origin.pin(member) if not _pinned(origin) else None
        outcomes.append((name, "member", at_member(member, hub_id, items)))

    r1, r2 = str(uuid.uuid4()), str(uuid.uuid4())
    base = sealed_item(origin_for(seed=81), {b_id: b_key}, r1)
    # 1. Flipped bytes of the sealed text, all along it (boxes, nonce, ciphertext): the hash
    # the origin signed no longer matches.
    positions = range(1, len(base["payload"]) - 1, max(1, len(base["payload"]) // 45))
    for position in positions:
        both(f"flip payload {position}",
             lambda o, p=position: [dict(sealed_item(o, {b_id: b_key}, r1),
                                         payload=flipped(base["payload"], p))])
    # 2. Flipped characters of the signed entry text.
    for position in range(10, len(base["entry"]) - 2, max(1, len(base["entry"]) // 20)):
        both(f"flip entry {position}",
             lambda o, p=position: [dict(item := sealed_item(o, {b_id: b_key}, r1),
                                         entry=flipped(item["entry"], p))])
    # 3. Ciphertexts swapped between two records (one page, and the other's alone).
    both("swap between records", lambda o: _swapped(o, {b_id: b_key}, r1, r2))
    both("other record's ciphertext",
         lambda o: [dict(sealed_item(o, {b_id: b_key}, r2),
                         payload=sealed_item(origin_for(seed=82), {b_id: b_key}, r1)["payload"])])
    # 4. Replayed: an older version's sealed text beside the newer version's entry, and the
    # older ciphertext signed again as the newer version (its binding names version 1).
    both("replay beside v2", lambda o: [dict(sealed_item(o, {b_id: b_key}, r1, version=2),
                                             payload=base["payload"])])
    member_only("replay as v2", lambda o: [sealed_item(o, {b_id: b_key}, r1, version=2,
                                                       aad_version=1)])
    # 5. The wrong recipient: B's box sealed to another node's key; boxes for others only.
    for seal_to in (c_key, (b_key[0], c_key[1])):
        member_only(f"box for another key {seal_to[0][:4]}",
                    lambda o, k=seal_to: [_wrong_box(o, {b_id: b_key, c_id: c_key}, r1, b_id, k)])
    both("a box missing", lambda o: [sealed_item(
        o, {b_id: b_key, c_id: c_key}, r1, edit=lambda v: v["boxes"].pop())])
    both("a box too many", lambda o: [sealed_item(
        o, {b_id: b_key}, r1, edit=lambda v: v["boxes"].append(dict(v["boxes"][0])))])
    both("boxes out of order", lambda o: [sealed_item(
        o, {b_id: b_key, c_id: c_key}, r1, edit=lambda v: v["boxes"].reverse())])
    # 6. A dishonest origin: a content hash of another payload, a box or a ciphertext that
    # does not open, a payload that is not an object or not canonical.
    for content in ("0" * 64, protocol.sha256_hex(b"x")):
        member_only(f"content hash {content[:4]}", lambda o, c=content: [
            sealed_item(o, {b_id: b_key}, r1, content_hash=c)])
    for position in range(0, 80, 8):
        member_only(f"box byte {position}", lambda o, p=position: [sealed_item(
            o, {b_id: b_key}, r1, edit=lambda v: _flip_b64(v["boxes"][0], "box", p))])
    for position in range(0, 60, 6):
        member_only(f"ciphertext byte {position}", lambda o, p=position: [sealed_item(
            o, {b_id: b_key}, r1, edit=lambda v: _flip_b64(v, "ciphertext", p))])
    member_only("nonce", lambda o: [sealed_item(o, {b_id: b_key}, r1,
                                                edit=lambda v: _flip_b64(v, "nonce", 3))])
    member_only("not an object", lambda o: [_sealing_plain(o, b_id, b_key, r1, b"[1,2]")])
    member_only("not canonical", lambda o: [_sealing_plain(o, b_id, b_key, r1, b'{"a": 1}')])
    # 7. Entries a hub must refuse unopened: another feed, a consent naming the hub, no
    # recipient, recipients unsorted or repeated, another sealed type.
    both("in the peers feed", lambda o: [sealed_item(o, {b_id: b_key}, r1, feed="peers")])
    both("consent names the hub", lambda o: [sealed_item(o, {b_id: b_key}, r1,
                                                        audiences=("hub", "peers"))])
    both("consent without peers", lambda o: [sealed_item(o, {b_id: b_key}, r1,
                                                        audiences=("public-aggregate",))])
    both("no recipient", lambda o: [sealed_item(o, {b_id: b_key}, r1, sealed={"to": []})])
    both("repeated recipient", lambda o: [sealed_item(o, {b_id: b_key}, r1,
                                                     sealed={"to": [b_id, b_id]})])
    both("another type", lambda o: [sealed_item(
        o, {b_id: b_key}, r1, edit=lambda v: v.update(type="rabita.sealed/2"))])
    both("an extra field", lambda o: [sealed_item(
        o, {b_id: b_key}, r1, edit=lambda v: v.update(note="x"))])

    refused = [(name, side, code) for name, side, code in outcomes
               if code is None or code not in REASONS]
    assert len(outcomes) >= 100, len(outcomes)
    assert refused == []
    assert state(hub) == before_hub and state(member) == before_member
    codes = {code for _, _, code in outcomes}
    assert {"payload-mismatch", "sealed-invalid"} <= codes


def _pinned(origin) -> bool:
    from federation.models import Key

    return db.session.scalar(select(Key.id).where(Key.key_id == origin.key_id)) is not None


def _swapped(origin, recipients, r1, r2):
    first = sealed_item(origin, recipients, r1)
    second = sealed_item(origin, recipients, r2)
    return [dict(first, payload=second["payload"]), dict(second, payload=first["payload"])]


def _flip_b64(holder: dict, name: str, position: int) -> None:
    data = bytearray(protocol.unb64(holder[name]))
    data[position % len(data)] ^= 0x01
    holder[name] = protocol.b64(bytes(data))


def _wrong_box(origin, recipients, record_id, victim, key):
    """Everything right but the victim's box, which holds the content key sealed to ``key``
    (another node's, or another key under the victim's key id)."""
    from nacl.public import PublicKey, SealedBox

    def edit(value):
        box = next(b for b in value["boxes"] if b["to"] == victim)
        box["box"] = protocol.b64(SealedBox(PublicKey(key[1])).encrypt(b"\x07" * 32))

    return sealed_item(origin, recipients, record_id, edit=edit)


def _sealing_plain(origin, b_id, b_key, record_id, plain: bytes):
    """A dishonest origin seals something that is no payload."""
    text, content = sealing.seal(plain, {b_id: b_key}, origin=origin.node_id,
                                 record_id=record_id, version=1)
    fields = {"record_type": "testimony.testimony", "record_id": record_id, "version": 1,
              "consent": {"audiences": ["peers"], "purposes": ["advocacy"], "expires": None},
              "payload_hash": protocol.sha256_hex(text),
              "sealed": {"to": [b_id], "content_hash": content}}
    return origin._append("hub", protocol.SEALED, fields, text)


@pytest.mark.slow
def test_tampered_sealed_relay_pages_over_http_are_refused_and_write_nothing(federation_app):
    """The same tampering served by a hub over HTTP to a member's real sync round: refused
    with a reason code, no row written (cursor included); the honest page then passes."""
    import sqlalchemy as sa

    from federation import sync, takedown
    from federation.models import Peer, Quarantine
    from tests.federation.conftest import FakePeer
    from tests.federation.test_tampering import DATA_TABLES, fingerprint, page

    member = federation_app(name="member")
    with member.app_context():
        key = signing.create_encryption_key()
        b_id, b_key = signing.identity().node_id, (key.key_id, key.public_key)
    hub_origin = Origin(seed=31)
    fake = FakePeer(hub_origin)
    hub_origin.pin(member, role="hub")
    origin = origin_for(member, seed=81)
    with member.app_context():
        hub_peer = db.session.scalar(sa.select(Peer).where(Peer.node_id == hub_origin.node_id))
        hub_peer.url = fake.url
        db.session.commit()
    fake.answers["/federation/takedowns"] = lambda query: (protocol.dumps({
        "type": takedown.TAKEDOWNS_TYPE, "after": int(query["after"][0]), "head": 0,
        "statements": []}), {})
    c_private = PrivateKey.generate()
    c_key = (protocol.encryption_key_id(bytes(c_private.public_key)),
             bytes(c_private.public_key))

    def relayed(items):
        link, out = protocol.GENESIS, []
        for number, item in enumerate(items, 1):
            link = inbox.relay_link(link, protocol.sha256_hex(item["entry"].encode()))
            out.append({**item, "seq": number, "link": link})
        return out

    def pull():
        with member.test_request_context():
            peer = db.session.scalar(sa.select(Peer).where(Peer.node_id == hub_origin.node_id))
            error = sync.sync_peer(peer).error
            peer = db.session.scalar(sa.select(Peer).where(Peer.node_id == hub_origin.node_id))
            peer.failures, peer.open_until = 0, None
            for quarantined in db.session.scalars(sa.select(Quarantine)):
                db.session.delete(quarantined)
            db.session.commit()
            return error

    record = str(uuid.uuid4())
    fresh = lambda: Origin(seed=81)  # noqa: E731 - each variant starts the origin's chain anew
    base = sealed_item(fresh(), {b_id: b_key}, record)
    variants = [(f"flip {p}", [dict(sealed_item(fresh(), {b_id: b_key}, record),
                                    payload=flipped(base["payload"], p))])
                for p in range(1, len(base["payload"]) - 1, len(base["payload"]) // 20)]
    variants += [
        ("box for another key", [_wrong_box(fresh(), {b_id: b_key}, record, b_id, c_key)]),
        ("ciphertext of version 1 as version 2",
         [sealed_item(fresh(), {b_id: b_key}, record, version=2, aad_version=1)]),
        ("content hash", [sealed_item(fresh(), {b_id: b_key}, record, content_hash="0" * 64)]),
        ("swapped", _swapped(fresh(), {b_id: b_key}, record, str(uuid.uuid4()))),
        ("consent names the hub", [sealed_item(fresh(), {b_id: b_key}, record,
                                               audiences=("hub", "peers"))]),
    ]
    variants += [(f"ciphertext byte {p}", [sealed_item(
        fresh(), {b_id: b_key}, record, edit=lambda v, p=p: _flip_b64(v, "ciphertext", p))])
        for p in range(0, 40, 4)]
    before, codes = fingerprint(member, DATA_TABLES), []
    for what, items in variants:
        fake.page = lambda after, items=items: (page("relay", after, relayed(items)[after:]), {})
        code = pull()
        assert code in REASONS and code != "unreachable", (what, code)
        assert fingerprint(member, DATA_TABLES) == before, f"{what} wrote to the database"
        codes.append(code)
    assert len(codes) >= 30 and {"payload-mismatch", "sealed-invalid"} <= set(codes)
    honest = sealed_item(fresh(), {b_id: b_key}, record)
    fake.page = lambda after: (page("relay", after, relayed([honest])[after:]), {})
    assert pull() is None
    with member.app_context():
        assert inbox.held_payloads()[(origin.node_id, record)] == PAYLOAD
    fake.close()
