"""The outbox: entries only for approved, consented records, per audience; tombstones when
consent ends; a chain that still verifies after payloads are purged; the ledger on serving."""

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from core import consent, ledger, records, review
from core.extensions import db
from core.models import User
from core.testing import all_databases
from federation import identity, outbox, protocol, signing
from federation.models import OutboxEntry
from tests.conftest import TESTIMONY, load_testimony

pytestmark = all_databases


@pytest.fixture
def node(federation_app):
    return federation_app(["federation", TESTIMONY, "plugins.country_tn"], unlocked=True)


@pytest.fixture
def people(node, make_user):
    return make_user("salma", role="documenter"), make_user("huda", role="reviewer")


@pytest.fixture
def testimony(node, people):
    from tests.fixtures.testimony.models import Testimony

    salma, _ = people
    with node.test_request_context():
        author = db.session.get(User, salma.id)
        record = records.new(Testimony, author)
        record.narrative = "Salma Ben Ali was summoned after the interview."
        record.title = "Summons"
        records.set_identifying(record, record, "teller_name", "Salma Ben Ali")
        records.set_identifying(record, record, "teller_phone", "+216 20 123 456")
        records.save(record, author)
        return record.uuid


def give_consent(node, uuid, user, audiences, expires_on=None):
    with node.test_request_context():
        consent.record(load_testimony(node, uuid), user=db.session.get(User, user.id),
                       given_by="defender", method="oral", audiences=audiences,
                       purposes=["advocacy"], obtained_on=date(2026, 1, 1),
                       expires_on=expires_on)


def approve(node, uuid, user, audience):
    with node.test_request_context():
        review.approve(load_testimony(node, uuid), audience, db.session.get(User, user.id))


def entries(node, feed=None):
    with node.app_context():
        query = select(OutboxEntry).order_by(OutboxEntry.feed, OutboxEntry.seq)
        if feed:
            query = query.where(OutboxEntry.feed == feed)
        return [(e.feed, e.seq, e.kind, json.loads(e.entry), e.payload, e.sig)
                for e in db.session.scalars(query)]


def test_nothing_leaves_without_consent_and_approval(node, testimony, people):
    salma, huda = people
    assert entries(node) == []
    give_consent(node, testimony, salma, ["hub"])
    assert entries(node) == []  # consented, not yet approved
    approve(node, testimony, huda, "hub")
    (feed, seq, kind, body, payload, _sig), = entries(node)
    assert (feed, seq, kind) == ("hub", 1, "record")
    assert body["consent"] == {"audiences": ["hub"], "purposes": ["advocacy"], "expires": None}
    assert body["payload_hash"] == protocol.sha256_hex(payload.encode())


def test_an_entry_is_per_audience_and_holds_no_identifying_value(node, testimony, people):
    salma, huda = people
    give_consent(node, testimony, salma, ["hub", "peers"])
    approve(node, testimony, huda, "peers")
    approve(node, testimony, huda, "hub")
    made = entries(node)
    assert [(f, k) for f, _s, k, *_ in made] == [("hub", "record"), ("peers", "record")]
    for *_, body, payload, _sig in made:
        text = json.dumps(body) + payload
        assert "Salma" not in text and "123 456" not in text


def test_a_public_aggregate_approval_makes_no_entry(node, testimony, people):
    salma, huda = people
    give_consent(node, testimony, salma, ["public-aggregate"])
    approve(node, testimony, huda, "public-aggregate")
    assert entries(node) == []


def test_each_feed_is_a_signed_hash_chain(node, testimony, people):
    salma, huda = people
    give_consent(node, testimony, salma, ["peers"])
    approve(node, testimony, huda, "peers")
    with node.test_request_context():
        record = load_testimony(node, testimony)
        record.title = "Summons, and a travel ban"
        records.save(record, db.session.get(User, salma.id))
    approve(node, testimony, huda, "peers")
    with node.app_context():
        public = signing.identity().genesis.public_key
    previous = protocol.GENESIS
    made = entries(node, "peers")
    assert [body["version"] for *_, body, _p, _s in made] == [1, 2]
    for _feed, seq, _kind, body, _payload, sig in made:
        raw = protocol.canonical(body)
        assert body["seq"] == seq and body["prev"] == previous
        assert identity.verify(public, raw, protocol.unb64(sig))
        previous = protocol.sha256_hex(raw)


def test_approving_again_adds_nothing(node, testimony, people):
    salma, huda = people
    give_consent(node, testimony, salma, ["peers"])
    approve(node, testimony, huda, "peers")
    approve(node, testimony, huda, "peers")
    assert len(entries(node)) == 1


def test_an_edit_leaves_only_after_a_new_approval(node, testimony, people):
    salma, huda = people
    give_consent(node, testimony, salma, ["peers"])
    approve(node, testimony, huda, "peers")
    with node.test_request_context():
        record = load_testimony(node, testimony)
        record.title = "A new title"
        records.save(record, db.session.get(User, salma.id))
    assert len(entries(node)) == 1  # the approval was revoked by the edit
    approve(node, testimony, huda, "peers")
    assert [body["version"] for *_, body, _p, _s in entries(node)] == [1, 2]


def test_withdrawal_tombstones_every_feed_and_purges_payloads(node, testimony, people):
    salma, huda = people
    give_consent(node, testimony, salma, ["hub", "peers"])
    approve(node, testimony, huda, "peers")
    approve(node, testimony, huda, "hub")
    with node.test_request_context():
        current = consent.current(load_testimony(node, testimony))
        consent.withdraw(current, reason="safety", user=db.session.get(User, salma.id))
    made = entries(node)
    tombstones = [(f, body["reason"]) for f, _s, kind, body, _p, _sig in made if kind == "tombstone"]
    assert sorted(tombstones) == [("hub", "withdrawn"), ("peers", "withdrawn")]
    assert all(payload is None for *_, payload, _sig in made)
    # the chain still links: purging touched payloads, not entries
    for feed in ("hub", "peers"):
        chain = entries(node, feed)
        assert chain[-1][3]["prev"] == protocol.sha256_hex(protocol.canonical(chain[-2][3]))


def test_a_locked_node_refuses_to_end_a_shared_records_consent_and_changes_nothing(
        node, testimony, people, fake_clock):
    """A tombstone must be signed, and a locked node cannot sign: ending the consent there
    and nowhere else would leave every copy with its holders. So it is refused until an
    administrator unlocks; then the withdrawal reaches every feed."""
    from core import keystore
    from core.models import Consent
    from core.testing import TEST_PASSPHRASE

    salma, huda = people
    give_consent(node, testimony, salma, ["peers"],
                 expires_on=fake_clock().date() + timedelta(days=30))
    approve(node, testimony, huda, "peers")
    before = entries(node)
    keystore.keystore(node).lock()
    with node.test_request_context():
        record = load_testimony(node, testimony)
        with pytest.raises(consent.ConsentError, match="The node is locked"):
            consent.withdraw(consent.current(record), reason="safety",
                             user=db.session.get(User, salma.id))
        db.session.rollback()
        with pytest.raises(consent.ConsentError, match="The node is locked"):
            consent.record(record, user=db.session.get(User, salma.id), given_by="defender",
                           method="oral", audiences=["hub"], purposes=["advocacy"],
                           obtained_on=date(2026, 1, 1))
        db.session.rollback()
        fake_clock.advance(days=400)
        assert consent.expire_due() == []  # due, but it waits for the unlocked node
        assert db.session.scalar(select(Consent.ended_at)) is None
    assert entries(node) == before
    keystore.keystore(node).unlock(TEST_PASSPHRASE)
    with node.test_request_context():
        assert [c.record_uuid for c in consent.expire_due()] == [testimony]
    tombstones = [body["reason"] for *_, kind, body, _p, _s in entries(node) if kind == "tombstone"]
    assert tombstones == ["expired"]


def test_a_locked_node_still_ends_the_consent_of_a_record_never_approved(node, testimony,
                                                                          people):
    from core import keystore

    salma, _huda = people
    give_consent(node, testimony, salma, ["peers"])
    keystore.keystore(node).lock()
    with node.test_request_context():
        consent.withdraw(consent.current(load_testimony(node, testimony)), reason="safety",
                         user=db.session.get(User, salma.id))
        assert consent.current(load_testimony(node, testimony)) is None


def test_a_tombstone_is_final_for_the_origin_too(node, testimony, people):
    salma, huda = people
    give_consent(node, testimony, salma, ["peers"])
    approve(node, testimony, huda, "peers")
    with node.test_request_context():
        current = consent.current(load_testimony(node, testimony))
        consent.withdraw(current, reason="defender-request", user=db.session.get(User, salma.id))
    give_consent(node, testimony, salma, ["peers"])
    approve(node, testimony, huda, "peers")
    assert [kind for _f, _s, kind, *_ in entries(node)] == ["record", "tombstone"]


def test_a_narrower_consent_tombstones_the_audience_it_drops(node, testimony, people):
    salma, huda = people
    give_consent(node, testimony, salma, ["hub", "peers"])
    approve(node, testimony, huda, "peers")
    approve(node, testimony, huda, "hub")
    give_consent(node, testimony, salma, ["peers"])
    tombstones = [(f, body["reason"]) for f, _s, kind, body, *_ in entries(node)
                  if kind == "tombstone"]
    assert tombstones == [("hub", "superseded")]


def test_expiry_tombstones(node, testimony, people, fake_clock):
    salma, huda = people
    give_consent(node, testimony, salma, ["peers"], expires_on=date(2026, 12, 31))
    approve(node, testimony, huda, "peers")
    fake_clock.current = fake_clock.current.replace(year=2027, month=1, day=2)
    with node.test_request_context():
        consent.expire_due()
    assert [body.get("reason") for *_, body, _p, _s in entries(node)] == [None, "expired"]
    assert entries(node)[0][3]["consent"]["expires"] == "2026-12-31"


def test_the_hub_may_relay_only_what_partner_nodes_may_see(node, testimony, people):
    salma, huda = people
    give_consent(node, testimony, salma, ["hub", "peers"])
    approve(node, testimony, huda, "hub")
    assert [body["relay"] for *_, body, _p, _s in entries(node, "hub")] == [False]
    approve(node, testimony, huda, "peers")  # now approved for partner nodes: relay it
    assert [body["relay"] for *_, body, _p, _s in entries(node, "hub")] == [False, True]


def test_a_hub_only_record_is_never_relayable(node, testimony, people):
    salma, huda = people
    give_consent(node, testimony, salma, ["hub"])
    approve(node, testimony, huda, "hub")
    assert [body["relay"] for *_, body, _p, _s in entries(node, "hub")] == [False]


def test_rotation_is_announced_in_every_feed_signed_by_the_old_key(node):
    with node.test_request_context():
        old, new = outbox.rotate_key()
        old_public = signing.identity().key(old).public_key
    for feed in ("hub", "peers"):
        (_f, _s, kind, body, _p, sig), = entries(node, feed)
        assert kind == "key" and body["key"] == old
        assert body["key_event"]["key_id"] == new
        assert identity.verify(old_public, protocol.canonical(body), protocol.unb64(sig))


def test_serving_writes_the_ledger_once_per_recipient_and_version(node, testimony, people):
    salma, huda = people
    give_consent(node, testimony, salma, ["peers"])
    approve(node, testimony, huda, "peers")
    with node.test_request_context():
        for _ in range(2):  # a page fetched again
            items, head = outbox.page("peers", 0, 10, recipient="b" * 32)
            db.session.commit()
        assert head == 1 and len(items) == 1
        sent = ledger.entries()
        assert [(e.recipient, e.version, e.audience) for e in sent] == [("b" * 32, 1, "peers")]
        assert sent[0].consent_id == consent.current(load_testimony(node, testimony)).id


def test_review_free_record_types_are_shared_on_consent(federation_app, make_user):
    app = federation_app(["federation", TESTIMONY, "plugins.country_tn"], unlocked=True,
                         REVIEW_REQUIRED={"testimony.testimony": False})
    salma = make_user("salma", role="documenter")
    from tests.fixtures.testimony.models import Testimony

    with app.test_request_context():
        record = records.new(Testimony, db.session.get(User, salma.id))
        records.save(record, db.session.get(User, salma.id))
        consent.record(record, user=db.session.get(User, salma.id), given_by="defender",
                       method="oral", audiences=["peers"], purposes=["advocacy"],
                       obtained_on=date(2026, 1, 1))
    assert [kind for _f, _s, kind, *_ in entries(app)] == ["record"]
