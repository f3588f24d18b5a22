"""Review before sharing: reviewer is not the author; an edit that changes a payload revokes."""

from datetime import date

import pytest

from core import consent, records, review
from core.approvals import current_approval, last_approval
from core.extensions import db
from core.models import User
from core.testing import all_databases
from tests.conftest import TESTIMONY, load_testimony

pytestmark = all_databases


@pytest.fixture
def approvals(make_plugin):
    seen = []
    return seen, make_plugin("watcher", record_approved=lambda record, approval:
                             seen.append((record.uuid, approval.audience)))


@pytest.fixture
def node(make_app, approvals):
    return make_app(PLUGINS=[TESTIMONY, "plugins.country_tn", approvals[1]], unlocked=True)


@pytest.fixture
def people(make_user):
    return make_user("salma", role="documenter"), make_user("huda", role="reviewer")


@pytest.fixture
def consented(node, people, make_testimony_in):
    salma, _huda = people
    uuid = make_testimony_in(node, salma)
    with node.app_context():
        consent.record(load_testimony(node, uuid), user=db.session.get(User, salma.id),
                       given_by="defender", method="oral", audiences=["hub"],
                       purposes=["advocacy"], obtained_on=date(2026, 1, 1))
    return uuid


@pytest.fixture
def make_testimony_in():
    from tests.fixtures.testimony.models import Testimony

    def factory(node, author):
        with node.app_context():
            record = records.new(Testimony, db.session.get(User, author.id))
            record.narrative = "Salma Ben Ali was summoned."
            records.set_identifying(record, record, "teller_name", "Salma Ben Ali")
            records.save(record, db.session.get(User, author.id))
            return record.uuid

    return factory


def approve_as(node, uuid, user, audience="hub"):
    with node.test_request_context():
        return review.approve(load_testimony(node, uuid), audience, db.session.get(User, user.id))


def shareable(node, uuid, audience="hub"):
    with node.test_request_context():
        return review.shareable(load_testimony(node, uuid), audience)


def test_a_reviewer_approves_what_the_hub_will_see(node, consented, people):
    _salma, huda = people
    assert shareable(node, consented).reason == "not-approved"
    approval = approve_as(node, consented, huda)
    assert shareable(node, consented).ok
    with node.test_request_context():
        prepared = records.redaction(load_testimony(node, consented), "hub")
        assert approval.payload_hash == prepared.payload_hash
        assert "Salma" not in str(prepared.payload)


def test_hook_record_approved(node, consented, people, approvals):
    approve_as(node, consented, people[1])
    assert approvals[0] == [(consented, "hub")]


def test_the_author_cannot_approve_her_own_record(node, make_user, make_testimony_in):
    huda = make_user("huda", role="reviewer")
    uuid = make_testimony_in(node, huda)
    with node.app_context():
        consent.record(load_testimony(node, uuid), user=db.session.get(User, huda.id),
                       given_by="defender", method="oral", audiences=["hub"],
                       purposes=["advocacy"], obtained_on=date(2026, 1, 1))
    with pytest.raises(review.ReviewError, match="another reviewer must approve"):
        approve_as(node, uuid, huda)
    assert not shareable(node, uuid)


def edit_as(node, uuid, user, narrative):
    with node.test_request_context():
        record = load_testimony(node, uuid)
        record.narrative = narrative
        records.save(record, db.session.get(User, user.id))


def test_a_reviewer_who_edited_it_cannot_approve_what_her_edit_produced(
        node, consented, people, make_user):
    """She is not its author, but she wrote the version the approval would cover."""
    _salma, huda = people
    edit_as(node, consented, huda, "Summoned by the police.")
    with pytest.raises(review.ReviewError, match="wrote or edited"):
        approve_as(node, consented, huda)
    approve_as(node, consented, make_user("noura", role="reviewer"))
    assert shareable(node, consented).ok


def test_an_edit_after_an_approval_bars_its_writer_from_the_next_one(
        node, consented, people, make_user):
    salma, huda = people
    noura = make_user("noura", role="reviewer")
    approve_as(node, consented, huda)
    edit_as(node, consented, huda, "Summoned twice.")
    with pytest.raises(review.ReviewError, match="wrote or edited"):
        approve_as(node, consented, huda)
    approve_as(node, consented, noura)  # she wrote nothing since the last approval
    edit_as(node, consented, salma, "Summoned three times.")
    approve_as(node, consented, huda)  # her edit is covered by noura's approval
    assert shareable(node, consented).ok


def test_approving_the_same_version_again_asks_the_same_two_people(node, consented, people,
                                                                    make_user):
    """Approving a version again (after a policy change revoked its approval, say) covers
    what its first approval did: its writer still cannot give it, another reviewer can."""
    _salma, huda = people
    approve_as(node, consented, huda)
    approve_as(node, consented, huda)  # salma wrote version 1, not huda
    edit_as(node, consented, huda, "Summoned again.")
    approve_as(node, consented, make_user("noura", role="reviewer"))
    with pytest.raises(review.ReviewError, match="wrote or edited"):
        approve_as(node, consented, huda)  # version 2 again: still hers
    assert shareable(node, consented).ok


def test_a_record_no_known_person_wrote_is_approved_by_nobody(node, people):
    """Sample data, imports, a deleted account: someone must stand behind it first."""
    from tests.fixtures.testimony.models import Testimony

    salma, huda = people
    with node.app_context():
        record = records.new(Testimony, None)
        record.narrative = "A summons."
        records.save_new([record], None, action="record.imported")
        consent.record(record, user=db.session.get(User, salma.id), given_by="defender",
                       method="oral", audiences=["hub"], purposes=["advocacy"],
                       obtained_on=date(2026, 1, 1))
        uuid = record.uuid
    with pytest.raises(review.ReviewError, match="No one else is known"):
        approve_as(node, uuid, huda)
    edit_as(node, uuid, salma, "A summons, checked.")
    approve_as(node, uuid, huda)
    assert shareable(node, uuid).ok


def test_a_deleted_authors_record_needs_a_known_writer(node, consented, people):
    salma, huda = people
    with node.app_context():
        db.session.delete(db.session.get(User, salma.id))
        db.session.commit()
    with pytest.raises(review.ReviewError, match="No one else is known"):
        approve_as(node, consented, huda)


def test_only_reviewers_approve(node, consented, people):
    with pytest.raises(review.ReviewError, match="Only a reviewer"):
        approve_as(node, consented, people[0])


def test_no_consent_no_approval(node, consented, people):
    with pytest.raises(review.ReviewError, match="no consent"):
        approve_as(node, consented, people[1], audience="peers")


def test_an_edit_that_changes_the_payload_revokes_the_approval(node, consented, people):
    salma, huda = people
    approve_as(node, consented, huda)
    with node.test_request_context():
        record = load_testimony(node, consented)
        record.narrative = "Salma Ben Ali was summoned twice."
        records.save(record, db.session.get(User, salma.id))
    assert shareable(node, consented).reason == "not-approved"


def test_an_edit_that_leaves_the_payload_alone_keeps_it(node, consented, people):
    salma, huda = people
    approve_as(node, consented, huda)
    with node.test_request_context():
        record = load_testimony(node, consented)
        records.set_identifying(record, record, "teller_address", "12 rue de Marseille")
        records.save(record, db.session.get(User, salma.id))
        assert record.version == 2
    assert shareable(node, consented).ok


def test_withdrawing_consent_makes_it_unshareable(node, consented, people):
    salma, huda = people
    approve_as(node, consented, huda)
    with node.test_request_context():
        current = consent.current(load_testimony(node, consented))
        consent.withdraw(current, reason="defender-request", user=db.session.get(User, salma.id))
    assert shareable(node, consented).reason == "no-consent"


WIDE = dict(audiences=["hub", "peers"], purposes=["advocacy", "statistics"],
            expires_on=date(2031, 6, 1))


def consent_again(node, uuid, user, **terms):
    """Record a new consent for the record, replacing the current one."""
    with node.app_context():
        consent.record(load_testimony(node, uuid), user=db.session.get(User, user.id),
                       given_by="defender", method="oral", obtained_on=date(2026, 1, 1),
                       **{**WIDE, **terms})


@pytest.mark.parametrize("terms", [
    dict(purposes=["advocacy"]),                         # statistics dropped
    dict(audiences=["hub"]),                             # peers dropped
    dict(expires_on=date(2030, 12, 1)),                  # an earlier end
    dict(audiences=["hub"], purposes=["statistics"], expires_on=date(2030, 6, 1)),
    dict(),                                              # the same terms again
], ids=["purpose", "audience", "end", "all-three", "same"])
def test_a_narrower_consent_keeps_the_approval(node, people, make_testimony_in, terms):
    salma, huda = people
    uuid = make_testimony_in(node, salma)
    consent_again(node, uuid, salma)
    approve_as(node, uuid, huda)
    consent_again(node, uuid, salma, **terms)
    assert shareable(node, uuid).ok
    with node.app_context():
        record = load_testimony(node, uuid)
        kept = current_approval(record, "hub")
        assert kept is not None and kept.payload is not None


def test_an_end_where_there_was_none_keeps_the_approval(node, people, make_testimony_in):
    salma, huda = people
    uuid = make_testimony_in(node, salma)
    consent_again(node, uuid, salma, expires_on=None)
    approve_as(node, uuid, huda)
    consent_again(node, uuid, salma, expires_on=date(2030, 1, 1))
    assert shareable(node, uuid).ok


def test_a_narrower_consent_without_an_audience_ends_its_approval(node, people,
                                                                  make_testimony_in):
    salma, huda = people
    uuid = make_testimony_in(node, salma)
    consent_again(node, uuid, salma)
    approve_as(node, uuid, huda)
    approve_as(node, uuid, huda, audience="peers")
    consent_again(node, uuid, salma, audiences=["hub"])
    assert shareable(node, uuid).ok
    assert shareable(node, uuid, "peers").reason == "no-consent"
    with node.app_context():
        assert current_approval(load_testimony(node, uuid), "peers") is None


@pytest.mark.parametrize("terms", [
    dict(purposes=["advocacy", "statistics", "referral"]),  # a purpose added
    dict(audiences=["hub", "peers", "public-aggregate"]),   # an audience added
    dict(expires_on=date(2032, 1, 1)),                       # a later end
    dict(expires_on=None),                                   # no end any more
    dict(audiences=["hub"], purposes=["advocacy", "referral"]),  # narrower and wider
], ids=["purpose", "audience", "later-end", "no-end", "mixed"])
def test_a_wider_consent_ends_the_approval(node, people, make_testimony_in, terms):
    salma, huda = people
    uuid = make_testimony_in(node, salma)
    consent_again(node, uuid, salma)
    approve_as(node, uuid, huda)
    consent_again(node, uuid, salma, **terms)
    assert shareable(node, uuid).reason == "not-approved"
    with node.app_context():
        ended = last_approval(load_testimony(node, uuid), "hub")
        assert ended.revoked_because == "consent-superseded" and ended.payload is None


def test_a_locked_node_shares_nothing(node, consented, people):
    approve_as(node, consented, people[1])
    from core import keystore

    with node.app_context():
        keystore.keystore().lock()
    assert shareable(node, consented).reason == "locked"


def test_review_can_be_turned_off_per_record_type(make_app, make_user, make_testimony_in):
    node = make_app(PLUGINS=[TESTIMONY, "plugins.country_tn"], unlocked=True,
                    REVIEW_REQUIRED={"testimony.testimony": False})
    salma = make_user("salma", role="documenter")
    uuid = make_testimony_in(node, salma)
    with node.app_context():
        consent.record(load_testimony(node, uuid), user=db.session.get(User, salma.id),
                       given_by="defender", method="oral", audiences=["hub"],
                       purposes=["advocacy"], obtained_on=date(2026, 1, 1))
    assert shareable(node, uuid).ok
