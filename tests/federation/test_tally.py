"""Tally entries: a record consented only to ``public-aggregate`` (with ``statistics``) is
counted on the hub's public statistics and never held there as a record, never relayed; its
tombstone takes its counts; a tally holding more than codes of the counted dimensions is
refused with ``tally-invalid`` and nothing is written."""

import random
import uuid
from datetime import date

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.models import LedgerEntry
from core.testing import all_databases
from federation import inbox, protocol, statistics
from federation.models import HeldRecord, Peer, ReceivedEntry
from federation.reasons import Refused
from federation.statistics import Fact
from tests.federation.conftest import Origin

PUBLIC_ONLY = {"audiences": ["public-aggregate"], "purposes": ["statistics"], "expires": None}
CASE = {"status": "open", "defender": {"age": "30-44", "activism": ["labour"]},
        "incidents": [{"occurred_on": "2025-03", "place": "TN-61", "violation": "threats",
                       "perpetrator_type": "police"}]}


def tally(origin, tally_id, payload=CASE, consent=PUBLIC_ONLY, version=1, **extra):
    text = protocol.canonical(payload)
    fields = {"record_type": "cases.case", "record_id": tally_id, "version": version,
              "payload_hash": protocol.sha256_hex(text), "consent": consent, **extra}
    return origin._append("hub", "tally", fields, text)


@pytest.fixture
def the_hub(federation_app):
    return federation_app(FEDERATION_ROLE="hub")


def receive(app, origin, *raws):
    """Verify ``raws`` as the origin's hub feed, then apply them, as a sync round does."""
    with app.app_context():
        head = max(raw["seq"] for raw in raws)
        page = inbox.verify_feed(origin.node_id, "hub", list(raws), head, inbox.Keys(),
                                 app.config["NODE_ID"])
        inbox.apply(page.items, received_from=origin.node_id, relay=True)
        inbox.advance(db.session.scalar(select(Peer.id).where(Peer.node_id == origin.node_id)),
                      page)
        db.session.commit()


def stored(app):
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(HeldRecord)
                                  .where(HeldRecord.tombstoned_at.is_(None))),
                db.session.scalar(select(func.count()).select_from(ReceivedEntry)
                                  .where(ReceivedEntry.payload.is_not(None))),
                inbox.relay_page(0, 100)[0],
                db.session.execute(select(Fact.record_id, Fact.public, Fact.violation,
                                          Fact.governorate, Fact.month)).all())


@all_databases
def test_a_tally_is_counted_in_public_and_never_held_or_relayed(the_hub):
    member, tally_id = Origin(seed=81), str(uuid.uuid4())
    member.pin(the_hub)
    receive(the_hub, member, tally(member, tally_id))
    held, payloads, relayed, facts = stored(the_hub)
    assert (held, payloads, relayed) == (0, 0, [])
    assert facts == [(tally_id, True, "threats", "TN-61", 202503)]
    with the_hub.app_context():
        statistics.rebuild()  # the tally's facts are its only count: a rebuild keeps them
        db.session.commit()
    assert stored(the_hub)[3] == facts
    receive(the_hub, member, member.tombstone("hub", tally_id))
    assert stored(the_hub)[3] == []


@all_databases
def test_a_newer_tally_replaces_the_counts_of_the_one_before(the_hub):
    member, tally_id = Origin(seed=82), str(uuid.uuid4())
    member.pin(the_hub)
    two = {**CASE, "incidents": CASE["incidents"] * 2}
    receive(the_hub, member, tally(member, tally_id), tally(member, tally_id, two, version=2))
    assert len(stored(the_hub)[3]) == 2


TAMPERED = {
    "an extra field": {**CASE, "title": "Summons"},
    "an exact place": {**CASE, "incidents": [{**CASE["incidents"][0],
                                              "place": "TN-61:sakiet-ezzit"}]},
    "free text": {**CASE, "incidents": [{**CASE["incidents"][0],
                                         "violation": "Summoned by the police"}]},
    "a day": {**CASE, "incidents": [{**CASE["incidents"][0], "occurred_on": "2025-03-14"}]},
    "a defender's name": {**CASE, "defender": {"age": "30-44", "name": "Salma"}},
    "a code its vocabulary lacks": {**CASE, "incidents": [{**CASE["incidents"][0],
                                                           "violation": "no-such-violation"}]},
}


@all_databases
@pytest.mark.parametrize("how", sorted(TAMPERED))
def test_a_tampered_tally_is_refused_and_nothing_is_written(federation_app, how):
    hub = federation_app(plugins=("federation", "plugins.cases"), FEDERATION_ROLE="hub")
    member = Origin(seed=83)
    member.pin(hub)
    good, bad = tally(member, str(uuid.uuid4())), tally(member, str(uuid.uuid4()), TAMPERED[how])
    with pytest.raises(Refused) as refused:
        receive(hub, member, good, bad)
    assert refused.value.code == "tally-invalid"
    with hub.app_context():
        assert db.session.scalar(select(func.count()).select_from(ReceivedEntry)) == 0
        assert db.session.scalar(select(func.count()).select_from(Fact)) == 0


@pytest.mark.parametrize("consent", [
    {"audiences": ["hub", "public-aggregate"], "purposes": ["statistics"], "expires": None},
    {"audiences": ["public-aggregate"], "purposes": ["advocacy"], "expires": None},
])
def test_a_tally_under_a_consent_that_does_not_send_one_is_refused(the_hub, consent):
    member = Origin(seed=84)
    member.pin(the_hub)
    with pytest.raises(Refused) as refused:
        receive(the_hub, member, tally(member, str(uuid.uuid4()), consent=consent))
    assert refused.value.code == "tally-invalid"


def test_a_tally_in_a_peers_feed_or_relayed_is_refused():
    member = Origin(seed=85)
    raw = member._append("peers", "tally", {
        "record_type": "cases.case", "record_id": str(uuid.uuid4()), "version": 1,
        "payload_hash": "0" * 64, "consent": PUBLIC_ONLY})
    with pytest.raises(Refused) as refused:
        protocol.read_entry(raw["entry"].encode())
    assert refused.value.code == "tally-invalid"


def test_a_tally_payload_is_only_the_counted_dimensions():
    from federation import tally as tallies

    public = {"title": "Summons", "status": "open", "risk": "high",
              "defender": {"pseudonym": "S.", "age": "30-44", "activism": ["labour", "land"],
                           "gender": "woman", "residence": "TN-61"},
              "incidents": [{"occurred_on": "2025-03", "place": "TN-61", "violation": "threats",
                             "perpetrator_type": "police", "legal_basis": ["penal-code"]}]}
    made = tallies.payload(public)
    assert made == {"status": "open", "defender": {"age": "30-44",
                                                   "activism": ["labour", "land"]},
                    "incidents": [{"occurred_on": "2025-03", "place": "TN-61",
                                   "violation": "threats", "perpetrator_type": "police"}]}
    assert protocol.read_tally(made) == made


# -- real nodes ----------------------------------------------------------------------------


def share_public_only(node, author_id, reviewer_id):
    from core import consent, records, review
    from tests.fixtures.testimony.models import Testimony

    with node.context():
        author = node.user(author_id)
        record = records.new(Testimony, author)
        record.title = "Summons after a radio interview"
        record.narrative = "Salma Ben Ali was summoned after the interview."
        record.place = "TN-61:sakiet-ezzit"
        record.happened_on = date(2025, 3, 14)
        record.tags = ["summons"]
        records.save(record, author)
        consent.record(record, user=author, given_by="defender", method="oral",
                       audiences=["public-aggregate"], purposes=["statistics"],
                       obtained_on=date(2026, 1, 1))
        review.approve(record, "public-aggregate", node.user(reviewer_id))
        return record.uuid


@pytest.fixture(params=["sqlite", "postgresql"])
def member_and_hub(request, make_node):
    from federation.testing import pair

    member = make_node("tunis", wait=False)
    hub = make_node("hub", role="hub", database=request.param, wait=False)
    member.wait(), hub.wait()
    pair(member, hub)
    return member, hub


@pytest.mark.slow
def test_a_public_aggregate_only_record_is_counted_never_held_and_its_withdrawal_uncounts(
        member_and_hub, people):
    from tests.federation.conftest import withdraw

    member, hub = member_and_hub
    salma, huda = people(member)
    record_id = share_public_only(member, salma, huda)
    hub.sync()
    with hub.context():
        facts = db.session.execute(select(Fact.record_id, Fact.public)).all()
        entries = db.session.execute(select(ReceivedEntry.kind, ReceivedEntry.record_id,
                                            ReceivedEntry.payload)).all()
        held = inbox.held_payloads()
        relayed, _ = inbox.relay_page(0, 100)
    assert len(facts) == 1 and facts[0][1] is True
    assert facts[0][0] != record_id  # a tally id: nothing links it to the record's id
    assert held == {} and relayed == []
    assert [(kind, payload) for kind, _, payload in entries] == [("tally", None)]
    assert record_id not in str(entries) and "Salma" not in str(entries)
    with member.context():  # the node's ledger says what left, under the record's own id
        sent = db.session.execute(select(LedgerEntry.record_uuid, LedgerEntry.audience)).all()
    assert sent == [(record_id, "public-aggregate")]
    withdraw(member, record_id, salma)
    hub.sync()
    with hub.context():
        assert db.session.scalar(select(func.count()).select_from(Fact)) == 0
        assert db.session.scalar(select(func.count()).select_from(HeldRecord).where(
            HeldRecord.tombstoned_at.is_(None))) == 0


def test_random_tallies_survive_the_strict_reader():
    rng = random.Random(7)
    for _ in range(200):
        value = {"incidents": [{"occurred_on": f"20{rng.randint(10, 30)}-{rng.randint(1, 12):02d}",
                                "place": rng.choice(["TN", "TN-61", "EG-C"])}]}
        assert protocol.read_tally(value) == value


# -- on the node: the outbox ---------------------------------------------------------------


@pytest.fixture
def node(federation_app):
    from tests.conftest import TESTIMONY

    return federation_app(["federation", TESTIMONY, "plugins.country_tn"], unlocked=True)


@pytest.fixture
def writers(node, make_user):
    return make_user("salma", role="documenter"), make_user("huda", role="reviewer")


@pytest.fixture
def testimony(node, writers):
    from core import records
    from core.models import User
    from tests.fixtures.testimony.models import Testimony

    with node.test_request_context():
        author = db.session.get(User, writers[0].id)
        record = records.new(Testimony, author)
        record.narrative = "Salma Ben Ali was summoned after the interview."
        record.title = "Summons"
        record.place = "TN-61:sakiet-ezzit"
        record.happened_on = date(2025, 3, 14)
        records.set_identifying(record, record, "teller_name", "Salma Ben Ali")
        records.save(record, author)
        return record.uuid


def consent_to(node, uuid, user, audiences, purposes, obtained_on=date(2026, 1, 1),
               expires_on=None):
    from core import consent
    from core.models import User
    from tests.conftest import load_testimony

    with node.test_request_context():
        consent.record(load_testimony(node, uuid), user=db.session.get(User, user.id),
                       given_by="defender", method="oral", audiences=audiences,
                       purposes=purposes, obtained_on=obtained_on, expires_on=expires_on)


def approve(node, uuid, user, audience):
    from core import review
    from core.models import User
    from tests.conftest import load_testimony

    with node.test_request_context():
        review.approve(load_testimony(node, uuid), audience, db.session.get(User, user.id))


def hub_feed(node):
    import json

    from federation.models import OutboxEntry

    with node.app_context():
        return [(e.kind, json.loads(e.entry), e.payload) for e in db.session.scalars(
            select(OutboxEntry).where(OutboxEntry.feed == "hub").order_by(OutboxEntry.seq))]


@all_databases
def test_an_approved_public_aggregate_only_record_makes_one_tally_of_codes(node, testimony,
                                                                            writers):
    salma, huda = writers
    consent_to(node, testimony, salma, ["public-aggregate"], ["statistics"])
    assert hub_feed(node) == []  # consented, not yet approved: the review gate
    approve(node, testimony, huda, "public-aggregate")
    approve(node, testimony, huda, "public-aggregate")  # again: nothing new
    [(kind, body, payload)] = hub_feed(node)
    assert kind == "tally" and "relay" not in body
    assert body["record_id"] != testimony and protocol.UUID.match(body["record_id"])
    assert body["consent"] == PUBLIC_ONLY
    assert protocol.read_tally(protocol.strict_loads(payload)) is not None
    assert "Salma" not in payload and "Summons" not in payload and testimony not in payload


@all_databases
def test_a_record_without_statistics_or_with_the_hub_makes_no_tally(node, testimony, writers):
    salma, huda = writers
    consent_to(node, testimony, salma, ["public-aggregate"], ["advocacy"])
    approve(node, testimony, huda, "public-aggregate")
    assert hub_feed(node) == []
    consent_to(node, testimony, salma, ["hub", "public-aggregate"], ["statistics"],
               date(2026, 1, 2))
    approve(node, testimony, huda, "public-aggregate")
    approve(node, testimony, huda, "hub")
    assert [kind for kind, *_ in hub_feed(node)] == ["record"]  # counted as a record


@all_databases
@pytest.mark.parametrize("change", ["withdrawn", "purpose-lost", "hub-named", "same",
                                    "narrowed"])
def test_a_tally_is_tombstoned_when_its_consent_no_longer_sends_it(node, testimony, writers,
                                                                  change):
    from tests.federation.conftest import withdraw

    salma, huda = writers
    consent_to(node, testimony, salma, ["public-aggregate"], ["statistics"])
    approve(node, testimony, huda, "public-aggregate")
    tally_id = hub_feed(node)[0][1]["record_id"]
    if change == "withdrawn":
        withdraw(_Context(node), testimony, salma.id)
    elif change == "purpose-lost":
        consent_to(node, testimony, salma, ["public-aggregate"], ["advocacy"], date(2026, 1, 2))
    elif change == "hub-named":
        consent_to(node, testimony, salma, ["hub", "public-aggregate"], ["statistics"],
                   date(2026, 1, 2))
    elif change == "narrowed":  # an end set: narrower, so no review again
        consent_to(node, testimony, salma, ["public-aggregate"], ["statistics"],
                   date(2026, 1, 2), expires_on=date(2030, 1, 1))
    else:  # a purpose added: wider, so the review gate again
        consent_to(node, testimony, salma, ["public-aggregate"], ["statistics", "advocacy"],
                   date(2026, 1, 2))
        approve(node, testimony, huda, "public-aggregate")
    feed = hub_feed(node)
    assert {body["record_id"] for _, body, _ in feed} == {tally_id}
    if change == "same":  # the same tally, under the new consent's terms
        assert [kind for kind, *_ in feed] == ["tally", "tally"]
        assert feed[1][1]["consent"]["purposes"] == ["advocacy", "statistics"]
    elif change == "narrowed":
        assert [kind for kind, *_ in feed] == ["tally", "tally"]
        assert feed[1][1]["consent"]["expires"] == "2030-01-01"
    else:
        assert [kind for kind, *_ in feed] == ["tally", "tombstone"]
        assert feed[0][2] is None  # its payload purged on the node too


class _Context:
    """What ``tests.federation.conftest.withdraw`` needs of a node: a context and users."""

    def __init__(self, app):
        self.app = app

    def context(self):
        return self.app.test_request_context()

    def user(self, user_id):
        from core.models import User

        return db.session.get(User, user_id)


def test_the_golden_tally_entry_canonicalises_hashes_signs_and_reads_byte_for_byte():
    import hashlib
    import json
    from pathlib import Path

    from nacl.signing import SigningKey

    vectors = Path(__file__).parent / "vectors"
    entries = json.loads((vectors / "golden-entries.json").read_text())
    golden = json.loads((vectors / "golden-tally.json").read_text())
    text = protocol.canonical(golden["entry"]["fields"])
    assert text.decode() == golden["entry"]["canonical"]
    assert protocol.sha256_hex(text) == golden["entry"]["hash"]
    key = SigningKey(hashlib.sha256(entries["seed_phrases"][0].encode()).digest())
    assert protocol.b64(key.sign(text).signature) == golden["entry"]["signature"]
    entry = protocol.read_entry(text)
    assert (entry.kind, entry.feed, entry.relay) == ("tally", "hub", False)
    assert protocol.read_payload(golden["payload"], entry) == golden["payload"].encode()


@all_databases
def test_a_tally_signed_after_its_key_was_revoked_leaves_the_counts(the_hub):
    from datetime import timedelta

    member, tally_id = Origin(seed=86), str(uuid.uuid4())
    member.pin(the_hub)
    receive(the_hub, member, tally(member, tally_id))
    assert len(stored(the_hub)[3]) == 1
    with the_hub.app_context():
        key = db.session.scalar(select(inbox.Key).where(inbox.Key.origin == member.node_id))
        key.revoked_at = member.at - timedelta(seconds=5)
        assert inbox.invalidate_signed_after_revocation(key) == 1
        db.session.commit()
    assert stored(the_hub)[3] == []


@all_databases
def test_a_tally_whose_consent_expires_leaves_the_counts_though_its_origin_is_silent(the_hub):
    from datetime import timedelta

    from core import clock

    member, tally_id, lasting = Origin(seed=87), str(uuid.uuid4()), str(uuid.uuid4())
    member.pin(the_hub)
    ends = (clock.now().date() + timedelta(days=3)).isoformat()
    receive(the_hub, member, tally(member, tally_id, consent={**PUBLIC_ONLY, "expires": ends}),
            tally(member, lasting))
    assert {fact[0] for fact in stored(the_hub)[3]} == {tally_id, lasting}
    with the_hub.app_context():
        inbox.purge_expired(clock.now().date() + timedelta(days=2))
        db.session.commit()
    assert {fact[0] for fact in stored(the_hub)[3]} == {tally_id, lasting}
    with the_hub.app_context():
        inbox.purge_expired(clock.now().date() + timedelta(days=3))
        db.session.commit()
    assert {fact[0] for fact in stored(the_hub)[3]} == {lasting}


def test_a_tally_already_expired_when_it_arrives_is_not_counted(the_hub):
    member = Origin(seed=88)
    member.pin(the_hub)
    receive(the_hub, member, tally(member, str(uuid.uuid4()),
                                   consent={**PUBLIC_ONLY, "expires": "2020-01-01"}))
    assert stored(the_hub)[3] == []
