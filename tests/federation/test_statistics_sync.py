"""A hub's counts follow its members' consent over real sync rounds, between real node
processes: a record withdrawn on its node, or whose consent loses the ``statistics``
purpose, leaves every count after one round (a node on SQLite, the hub on each database)."""

from datetime import date

import pytest

from federation import statistics
from tests.conftest import load_testimony

pytestmark = pytest.mark.slow


def share(node, author_id, reviewer_id, purposes, audiences=("hub",)):
    """A testimony on ``node`` consented to ``audiences`` for ``purposes``, approved for each
    by a reviewer."""
    from core import consent, records, review
    from tests.fixtures.testimony.models import Testimony

    with node.context():
        author = node.user(author_id)
        record = records.new(Testimony, author)
        record.title = "Summons after a radio interview"
        record.narrative = "Summoned after the interview."
        record.place = "TN-61:sakiet-ezzit"
        record.happened_on = date(2025, 3, 14)
        record.tags = ["summons"]
        records.save(record, author)
        consent.record(record, user=author, given_by="defender", method="oral",
                       audiences=list(audiences), purposes=list(purposes),
                       obtained_on=date(2026, 1, 1))
        for audience in audiences:
            review.approve(record, audience, node.user(reviewer_id))
        return record.uuid


def counted_ids(hub) -> set[str]:
    with hub.context():
        return {fact[1] for fact in statistics.facts()}


@pytest.fixture(params=["sqlite", "postgresql"])
def member_and_hub(request, make_node):
    from federation.testing import pair

    member = make_node("tunis", wait=False)
    hub = make_node("hub", role="hub", database=request.param, wait=False)
    member.wait(), hub.wait()
    pair(member, hub)
    return member, hub


def test_a_withdrawn_record_leaves_every_count_after_one_round(member_and_hub, people):
    from tests.federation.conftest import withdraw

    member, hub = member_and_hub
    salma, huda = people(member)
    kept = share(member, salma, huda, ["advocacy", "statistics"])
    going = share(member, salma, huda, ["statistics"])
    unconsented = share(member, salma, huda, ["advocacy"])
    hub.sync()
    assert counted_ids(hub) == {kept, going}
    assert unconsented not in counted_ids(hub)
    withdraw(member, going, salma)
    hub.sync()
    assert counted_ids(hub) == {kept}


def test_a_consent_that_loses_statistics_leaves_every_count_after_one_round(member_and_hub,
                                                                              people):
    from core import approvals, consent

    member, hub = member_and_hub
    salma, huda = people(member)
    kept = share(member, salma, huda, ["statistics"])
    losing = share(member, salma, huda, ["advocacy", "statistics"])
    hub.sync()
    assert counted_ids(hub) == {kept, losing}
    with member.context():
        record = load_testimony(member.app, losing)
        consent.record(record, user=member.user(salma), given_by="defender", method="oral",
                       audiences=["hub"], purposes=["advocacy"],
                       obtained_on=date(2026, 2, 1))
        # A narrower consent makes nothing new leave: the approval stands, no review again.
        assert approvals.current_approval(record, "hub") is not None
    hub.sync()
    assert counted_ids(hub) == {kept}
    with hub.context():
        assert statistics.rebuild() == 1  # rebuild agrees: one fact, the kept record's


def test_a_record_consented_only_to_public_aggregate_is_never_stored_as_a_record(
        member_and_hub, people):
    from federation import inbox

    member, hub = member_and_hub
    salma, huda = people(member)
    counted_too = share(member, salma, huda, ["statistics"])
    public_only = share(member, salma, huda, ["statistics"], audiences=("public-aggregate",))
    hub.sync()
    with hub.context():
        held = inbox.held_payloads()
        relayed, _ = inbox.relay_page(0, 100)
    assert [record_id for _, record_id in held] == [counted_too]
    assert public_only not in counted_ids(hub) and relayed == []  # hub-only: not relayed
