"""Receiving: pages verified whole, entries applied idempotently and in any order."""

import uuid
from datetime import timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import delete, select

from core.extensions import db
from core.testing import all_databases
from federation import inbox, peers, signing
from federation.models import HeldRecord, Quarantine, ReceivedEntry
from federation.reasons import Refused
from tests.federation.conftest import Origin, as_item


@pytest.fixture
def node(federation_app):
    return federation_app()


def apply(node, *raws, received_from="x" * 32):
    with node.app_context():
        done = inbox.apply([as_item(raw) for raw in raws], received_from=received_from)
        db.session.commit()
        return done


def state(node):
    """What a node holds: per record its version, place and tombstone; which payloads stay."""
    with node.app_context():
        held = {(h.origin, h.record_id): (h.version, h.feed, h.seq, h.tombstoned_at is not None,
                                          h.tombstone_reason)
                for h in db.session.scalars(select(HeldRecord))}
        kept = {(e.origin, e.feed, e.seq): (e.entry_hash, e.payload is not None)
                for e in db.session.scalars(select(ReceivedEntry))}
        return held, kept


def record_id(n):
    return str(uuid.UUID(int=n + 1))


# -- applying -------------------------------------------------------------------------------


def test_applying_twice_changes_nothing(node):
    origin = Origin()
    first = origin.record("peers", record_id(1))
    apply(node, first)
    before = state(node)
    apply(node, first)
    assert state(node) == before


def test_the_highest_version_is_held_and_older_payloads_purged(node):
    origin = Origin()
    v1, v2 = origin.record("peers", record_id(1), 1), origin.record("peers", record_id(1), 2)
    apply(node, v1)
    apply(node, v2)
    held, kept = state(node)
    assert held[(origin.node_id, record_id(1))][:3] == (2, "peers", 2)
    assert kept[(origin.node_id, "peers", 1)][1] is False  # superseded: purged
    assert kept[(origin.node_id, "peers", 2)][1] is True


def test_an_older_version_arriving_late_is_kept_without_its_payload(node):
    origin = Origin()
    v1, v2 = origin.record("peers", record_id(1), 1), origin.record("peers", record_id(1), 2)
    apply(node, v2)
    apply(node, v1)
    held, kept = state(node)
    assert held[(origin.node_id, record_id(1))][0] == 2
    assert kept[(origin.node_id, "peers", 1)][1] is False


def test_a_tombstone_is_final_and_refuses_later_import(node):
    origin = Origin()
    v1 = origin.record("peers", record_id(1), 1)
    tomb = origin.tombstone("peers", record_id(1), 1)
    v2 = origin.record("peers", record_id(1), 2)
    done = apply(node, v1, tomb)
    assert len(done.receipts) == 1
    apply(node, v2)
    held, kept = state(node)
    assert held[(origin.node_id, record_id(1))][3] is True
    assert not any(has_payload for _hash, has_payload in kept.values())


def test_a_tombstone_before_its_record(node):
    origin = Origin()
    v1 = origin.record("peers", record_id(1), 1)
    tomb = origin.tombstone("peers", record_id(1), 1)
    apply(node, tomb)
    apply(node, v1)
    held, kept = state(node)
    assert held[(origin.node_id, record_id(1))][3] is True
    assert kept[(origin.node_id, "peers", 1)][1] is False


def test_of_one_version_the_partner_nodes_payload_wins(node):
    origin = Origin()
    hub = origin.record("hub", record_id(1), 1, {"title": "for the hub"})
    peers = origin.record("peers", record_id(1), 1, {"title": "for partner nodes"})
    apply(node, peers)
    apply(node, hub)
    with node.app_context():
        assert inbox.held_payloads()[(origin.node_id, record_id(1))] == {
            "title": "for partner nodes"}


def test_hook_shared_record_received(make_app, make_plugin):
    seen = []
    app = make_app(PLUGINS=["federation", make_plugin(
        "index", shared_record_received=lambda shared: seen.append(
            (shared.record_id, shared.version, shared.payload)))])
    origin = Origin()
    apply(app, origin.record("peers", record_id(1), 1, {"title": "Summons"}))
    assert seen == [(record_id(1), 1, {"title": "Summons"})]


def test_hook_shared_record_purged(make_app, make_plugin):
    """A plugin's derived data (here: a search index) goes with the payload."""
    index = {}
    app = make_app(PLUGINS=["federation", make_plugin(
        "index",
        shared_record_received=lambda shared: index.update({shared.record_id: shared.payload}),
        shared_record_purged=lambda shared: index.pop(shared.record_id, None))])
    origin = Origin()
    apply(app, origin.record("peers", record_id(1)))
    assert record_id(1) in index
    apply(app, origin.tombstone("peers", record_id(1)))
    assert index == {}


def test_expired_consent_is_purged_even_if_the_origin_is_silent(node, fake_clock):
    origin = Origin()
    apply(node, origin.record("peers", record_id(1), expires="2026-06-30"))
    fake_clock.current = fake_clock.current.replace(year=2026, month=7, day=1)
    with node.app_context():
        assert inbox.purge_expired() == 1
        db.session.commit()
    held, kept = state(node)
    assert held[(origin.node_id, record_id(1))][3:] == (True, "expired")
    assert not any(has_payload for _hash, has_payload in kept.values())


# -- verifying a page -----------------------------------------------------------------------


def verify(node, origin, items, feed="peers", head=None):
    with node.app_context():
        return inbox.verify_feed(origin.node_id, feed, items,
                                 head if head is not None else len(items), inbox.Keys(),
                                 signing.identity().node_id)


def refused(node, origin, items, **kw):
    with pytest.raises(Refused) as caught:
        verify(node, origin, items, **kw)
    return caught.value.code


@pytest.fixture
def origin(node):
    made = Origin()
    made.pin(node)
    return made


def test_a_good_page_verifies(node, origin):
    items = [origin.record("peers", record_id(n)) for n in range(3)]
    page = verify(node, origin, items)
    assert page.after == 3 and [i.entry.seq for i in page.items] == [1, 2, 3]


def test_a_gap_is_refused(node, origin):
    items = [origin.record("peers", record_id(n)) for n in range(3)]
    assert refused(node, origin, [items[0], items[2]]) == "gap"


def test_a_fork_is_refused(node, origin):
    first = origin.record("peers", record_id(1))
    second = origin.record("peers", record_id(2), prev="f" * 64)
    assert refused(node, origin, [first, second]) == "fork"


def test_entries_of_another_origin_or_feed_are_refused(node, origin):
    stranger = Origin(seed=9)
    assert refused(node, origin, [stranger.record("peers", record_id(1))]) == "wrong-origin"
    assert refused(node, origin, [origin.record("hub", record_id(1))]) == "wrong-feed"


def test_an_unknown_key_is_refused(node, origin):
    origin.keys["z" * 32] = Origin(seed=5).key
    item = origin._append("peers", "record", {}, key_id="z" * 32)
    assert refused(node, origin, [item]) in {"entry-signature-invalid", "entry-invalid"}


def test_a_rotation_within_a_page_and_the_old_key_after_it(node, origin):
    items = [origin.record("peers", record_id(1)), origin.rotate("peers", seed=2),
             origin.record("peers", record_id(2))]
    assert verify(node, origin, items).after == 3
    old = origin.node_id
    origin.key_id = old  # a thief with the old key, signing after the switch
    late = origin.record("peers", record_id(3))
    assert refused(node, origin, [*items, late]) == "key-superseded"


def test_revocation_rejects_later_entries_and_rechecks_stored_ones(node, origin):
    first = origin.record("peers", record_id(1))
    rotation = origin.rotate("peers", seed=2)
    with node.app_context():
        page = verify(node, origin, [first, rotation])
        inbox.apply(page.items, received_from=origin.node_id)
        inbox.advance(peers.find(origin.node_id).id, page)
        db.session.commit()
    revocation = origin.revoke("peers", origin.node_id, origin.at - timedelta(seconds=5))
    with node.app_context():
        page = inbox.verify_feed(origin.node_id, "peers", [revocation], 3, inbox.Keys(),
                                 signing.identity().node_id)
        inbox.apply(page.items, received_from=origin.node_id)
        db.session.commit()
        stored = db.session.scalar(select(ReceivedEntry).where(ReceivedEntry.seq == 1))
        assert stored.invalid_reason == "key-revoked" and stored.payload is None
        assert db.session.scalar(select(HeldRecord)) is None


def test_a_payload_that_does_not_match_is_refused(node, origin):
    item = origin.record("peers", record_id(1))
    item["payload"] = item["payload"].replace("Record", "Rekord")
    assert refused(node, origin, [item]) == "payload-mismatch"


def test_dates_never_go_back_within_a_chain(node, origin):
    first = origin.record("peers", record_id(1))
    origin.at -= timedelta(hours=1)
    assert refused(node, origin, [first, origin.record("peers", record_id(2))]) == \
        "time-regression"


def test_a_quarantined_origin_is_refused(node, origin):
    from core import clock

    with node.app_context():
        db.session.add(Quarantine(origin=origin.node_id, reason="fork", at=clock.now()))
        db.session.commit()
    assert refused(node, origin, [origin.record("peers", record_id(1))]) == "quarantined"


def resigned(origin, item, text):
    """``item`` with its entry replaced by ``text``, validly signed by the origin."""
    from federation import protocol

    signature = origin.keys[origin.key_id].sign(text.encode()).signature
    return {**item, "entry": text, "sig": protocol.b64(signature)}


def test_an_entry_that_is_not_canonical_text_is_refused_though_validly_signed(node, origin):
    """Issue 19, Found 4: an entry re-serialised with indentation and signed again was stored
    as sent at 8a0d646."""
    import json

    item = origin.record("peers", record_id(1))
    indented = json.dumps(json.loads(item["entry"]), indent=2, sort_keys=True,
                          ensure_ascii=False)
    assert refused(node, origin, [resigned(origin, item, indented)]) == "entry-invalid"
    fields = json.loads(item["entry"])
    reordered = json.dumps(dict(reversed(fields.items())), separators=(",", ":"),
                           ensure_ascii=False)
    assert refused(node, origin, [resigned(origin, item, reordered)]) == "entry-invalid"
    assert verify(node, origin, [item]).after == 1  # the canonical original


def test_a_payload_that_is_not_canonical_text_is_refused_though_its_hash_matches(node, origin):
    """The payload's hash is what the entry signs; its bytes must be canonical too."""
    from federation import protocol

    written = '{"title": "Record  v1",\n "age": "30-44"}'
    item = origin.record("peers", record_id(1), payload={"title": "x"},
                         payload_hash=protocol.sha256_hex(written.encode()))
    item["payload"] = written
    assert refused(node, origin, [item]) == "payload-mismatch"
    escaped = '{"title":"caf\\u00e9"}'  # \u00e9 escaped: RFC 8785 writes the character
    other = origin.record("peers", record_id(2), payload={"title": "x"},
                          payload_hash=protocol.sha256_hex(escaped.encode()))
    other["payload"] = escaped
    assert refused(node, origin, [other]) == "payload-mismatch"


def test_a_rotation_entry_dated_after_its_switch_is_refused(node, origin):
    """The rotation entry is signed by the old key, which signs nothing after the switch: it
    is dated at or before the new key's valid_from (docs/federation.md, "Keys")."""
    from federation.models import Key

    new_key = Origin(seed=2)
    with node.app_context():  # the new key as the node's document announced it
        db.session.add(Key(origin=origin.node_id, key_id=new_key.node_id,
                           public_key=new_key.public, valid_from=origin.at, source="chain"))
        old = db.session.scalar(select(Key).where(Key.key_id == origin.node_id))
        old.superseded_at = origin.at
        db.session.commit()
    origin.at += timedelta(minutes=5)  # the entry is dated five minutes after the switch
    assert refused(node, origin, [origin.rotate("peers", seed=2)]) == "key-superseded"


# -- any order, any repetition: the same state ----------------------------------------------


def feed_plan():
    """A plausible history of one origin's two feeds: versions grow, tombstones end."""
    step = st.tuples(st.sampled_from(["peers", "hub"]), st.integers(0, 2),
                     st.sampled_from(["record", "record", "record", "tombstone"]))
    return st.lists(step, min_size=1, max_size=12)


def build(plan):
    origin, versions, pool = Origin(seed=3), {}, []
    for feed, number, kind in plan:
        versions[number] = versions.get(number, 0) + (kind == "record")
        version = max(versions[number], 1)
        if kind == "record":
            pool.append(origin.record(feed, record_id(number), version,
                                      {"title": f"{number}", "version": version}))
        else:
            pool.append(origin.tombstone(feed, record_id(number), version))
    return pool


def expected(pool, delivered):
    """The specification: per record, a tombstone wins; else the highest (version, feed,
    seq) is held with its payload, and every other payload is gone."""
    items = [as_item(pool[i]) for i in sorted(delivered)]
    held, keep = {}, set()
    for record in {item.entry.record_id for item in items}:
        mine = [i.entry for i in items if i.entry.record_id == record]
        tombstones = [e for e in mine if e.kind == "tombstone"]
        chosen = max(tombstones or mine, key=lambda e: inbox.rank(e.version, e.feed, e.seq))
        held[(chosen.origin, record)] = (chosen.version, chosen.feed, chosen.seq,
                                         bool(tombstones),
                                         chosen.reason if tombstones else None)
        if not tombstones:
            keep.add((chosen.origin, chosen.feed, chosen.seq))
    kept = {(i.entry.origin, i.entry.feed, i.entry.seq):
            (i.entry.hash, (i.entry.origin, i.entry.feed, i.entry.seq) in keep) for i in items}
    return held, kept


def reset(node):
    with node.app_context():
        db.session.execute(delete(ReceivedEntry))
        db.session.execute(delete(HeldRecord))
        db.session.commit()


@pytest.mark.slow
@all_databases
def test_delivery_in_any_order_with_repeats_ends_in_the_in_order_state(node, db_backend):
    plans = st.shared(feed_plan(), key="plan")

    class Delivery(RuleBasedStateMachine):
        entries = Bundle("entries")

        def __init__(self):
            super().__init__()
            reset(node)
            self.pool, self.delivered = None, set()

        @rule(target=entries, plan=plans, data=st.data())
        def choose(self, plan, data):
            if self.pool is None:
                self.pool = build(plan)
            return data.draw(st.integers(0, len(self.pool) - 1))

        @rule(index=entries)
        def deliver(self, index):
            apply(node, self.pool[index])
            self.delivered.add(index)

        @rule(indexes=st.lists(entries, min_size=1, max_size=4))
        def deliver_a_page(self, indexes):
            # Several entries applied in one transaction, in the order drawn.
            apply(node, *[self.pool[i] for i in dict.fromkeys(indexes)])
            self.delivered.update(indexes)

        @invariant()
        def holds_what_the_delivered_entries_say(self):
            if self.pool is not None:
                assert state(node) == expected(self.pool, self.delivered)

        def teardown(self):
            if self.pool is None:
                return
            for index in range(len(self.pool)):  # the rest, then compare with in order
                apply(node, self.pool[index])
            out_of_order = state(node)
            reset(node)
            for raw in self.pool:
                apply(node, raw)
            assert out_of_order == state(node) == expected(self.pool, range(len(self.pool)))

    examples = 40 if db_backend == "sqlite" else 15
    run_state_machine_as_test(Delivery, settings=settings(
        max_examples=examples, stateful_step_count=20, deadline=None))


# -- what is purged is gone from the files (issue 19, Found 6) ------------------------------


def database_files(node):
    """The bytes of the node's SQLite database and of its write-ahead log, by file."""
    from pathlib import Path

    with node.app_context():
        path = Path(db.engine.url.database)
    return {name: (path.parent / name).read_bytes() if (path.parent / name).exists() else b""
            for name in (path.name, f"{path.name}-wal")}


def test_a_purged_payload_leaves_no_byte_in_the_database_or_its_wal(node):
    """At 8a0d646 a purged payload stayed in the WAL of the hub and of the other node for
    minutes after the purge: what was purged could still be seized."""
    canary = "Zeynab Qassemi-Haddad 7781"  # the way a narrative would hold it
    origin = Origin()
    record = origin.record("peers", record_id(1), payload={
        "title": "Summons", "narrative": f"{canary} was summoned after the interview."})
    apply(node, record)
    with node.app_context():  # the record has been in the database file itself for a while
        from core import erasure

        assert erasure.truncate_wal(db.engine)
    files = database_files(node)
    assert any(canary.encode() in content for content in files.values())  # it was stored
    apply(node, origin.tombstone("peers", record_id(1)))
    files = database_files(node)
    assert files[next(iter(files))], "the database file is there"
    assert [name for name, content in files.items() if canary.encode() in content] == []
    assert files[f"{next(iter(files))}-wal"] == b""  # checkpointed and truncated


def test_an_expiry_purge_leaves_no_byte_either(node, fake_clock):
    canary = "Canary Rim Ben Salah 5512"
    origin = Origin()
    apply(node, origin.record("peers", record_id(1), expires="2026-06-30",
                              payload={"title": canary}))
    fake_clock.current = fake_clock.current.replace(year=2026, month=7, day=1)
    with node.app_context():
        assert inbox.purge_expired() == 1
        db.session.commit()
    assert [name for name, content in database_files(node).items()
            if canary.encode() in content] == []
