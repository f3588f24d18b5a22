"""The hub's statistics store: filled as records are stored, emptied as they are purged, the
same as a rebuild; consent purposes decide what is counted; tables and exports suppressed."""

import csv
import io
import json
import random
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core import clock
from core.extensions import db
from core.testing import all_databases
from federation import inbox, statistics
from federation.statistics import Fact, Filters
from tests.federation.conftest import Origin, as_item

VIOLATIONS = ["arbitrary-detention", "smear-campaign", "threats"]
PLACES = ["EG-C", "EG-ALX", "TN-11", "TN"]


@pytest.fixture
def the_hub(federation_app):
    return federation_app(FEDERATION_ROLE="hub")


def case(rng, incidents=None):
    return {
        "status": rng.choice(["open", "closed"]),
        "defender": {"age": rng.choice(["18-29", "30-44"]),
                     "activism": rng.sample(["labour", "lgbtqi", "land"], rng.randint(0, 2))},
        "incidents": [{"occurred_on": f"2025-{rng.randint(1, 12):02d}",
                       "place": rng.choice(PLACES), "violation": rng.choice(VIOLATIONS),
                       "perpetrator_type": rng.choice(["police", "army"])}
                      for _ in range(rng.randint(0, 3) if incidents is None else incidents)],
    }


def consent(purposes=("statistics",), audiences=("hub",), expires=None):
    return {"audiences": sorted(audiences), "purposes": sorted(purposes), "expires": expires}


def receive(app, origin, *raws):
    with app.app_context():
        inbox.apply([as_item(r) for r in raws], received_from=origin.node_id, relay=True)
        db.session.commit()


def counted(app):
    with app.app_context():
        return statistics.facts()


def rebuilt(app):
    with app.app_context():
        statistics.rebuild()
        db.session.commit()
        return statistics.facts()


@all_databases
def test_only_records_consented_to_statistics_are_counted_public_only_with_public_aggregate(
        the_hub):
    member, rng = Origin(seed=71), random.Random(1)
    counted_id, public_id, not_counted = (str(uuid.uuid4()) for _ in range(3))
    receive(the_hub, member,
            member.record("hub", counted_id, payload=case(rng, 2), consent=consent()),
            member.record("hub", public_id, payload=case(rng, 1), consent=consent(
                audiences=("hub", "public-aggregate"))),
            member.record("hub", not_counted, payload=case(rng, 3),
                          consent=consent(purposes=("advocacy",))))
    with the_hub.app_context():
        rows = db.session.execute(select(Fact.record_id, Fact.public)).all()
    assert sorted(rows) == sorted([(counted_id, False)] * 2 + [(public_id, True)])


def test_a_node_that_is_no_hub_counts_nothing(federation_app):
    node, member = federation_app(), Origin(seed=71)
    member.pin(node)
    receive(node, member, member.record("hub", str(uuid.uuid4()),
                                        payload=case(random.Random(2), 1), consent=consent()))
    assert counted(node) == []


@all_databases
@pytest.mark.parametrize("leaves", ["tombstone", "purpose-lost", "expired", "revoked-key"])
def test_a_record_that_leaves_leaves_every_count_in_the_same_transaction(the_hub, leaves):
    member, rng = Origin(seed=72), random.Random(3)
    member.pin(the_hub)
    kept, going = str(uuid.uuid4()), str(uuid.uuid4())
    expires = (clock.now().date() + timedelta(days=3)).isoformat()
    receive(the_hub, member,
            member.record("hub", kept, payload=case(rng, 1), consent=consent()),
            member.record("hub", going, payload=case(rng, 2), consent=consent(expires=expires)))
    assert {f[1] for f in counted(the_hub)} == {kept, going}
    if leaves == "tombstone":
        receive(the_hub, member, member.tombstone("hub", going))
    elif leaves == "purpose-lost":
        receive(the_hub, member, member.record("hub", going, version=2, payload=case(rng, 2),
                                               consent=consent(purposes=("advocacy",))))
    elif leaves == "expired":
        with the_hub.app_context():
            inbox.purge_expired(clock.now().date() + timedelta(days=4))
            db.session.commit()
    else:
        with the_hub.app_context():
            key = db.session.scalar(select(inbox.Key).where(inbox.Key.origin == member.node_id))
            key.revoked_at = member.at - timedelta(days=1)
            inbox.invalidate_signed_after_revocation(key)
            db.session.commit()
            kept_left = db.session.scalar(select(func.count()).select_from(Fact))
        assert kept_left == 0  # both were signed after the revocation
        return
    assert {f[1] for f in counted(the_hub)} == {kept}
    assert counted(the_hub) == rebuilt(the_hub)


@all_databases
def test_rebuild_gives_the_same_facts_as_counting_as_records_arrive(the_hub):
    rng = random.Random(4)
    members = [Origin(seed=73), Origin(seed=74)]
    for member in members:
        member.pin(the_hub)
    ids = [str(uuid.uuid4()) for _ in range(12)]
    versions = dict.fromkeys(ids, 0)
    gone = set()
    for _ in range(6):
        member = rng.choice(members)
        raws = []
        for record_id in rng.sample(ids, 5):
            if (member.node_id, record_id) in gone:
                continue
            if rng.random() < 0.15:
                raws.append(member.tombstone("hub", record_id, max(1, versions[record_id])))
                gone.add((member.node_id, record_id))
                continue
            versions[record_id] += 1
            raws.append(member.record(
                "hub", record_id, version=versions[record_id], payload=case(rng),
                consent=consent(purposes=rng.choice([("statistics",), ("advocacy",),
                                                     ("advocacy", "statistics")]),
                                audiences=rng.choice([("hub",), ("hub", "public-aggregate")]))))
        receive(the_hub, member, *raws)
    incremental = counted(the_hub)
    assert incremental  # something was counted
    assert incremental == rebuilt(the_hub)


def test_the_command_rebuilds_the_statistics(the_hub):
    member = Origin(seed=75)
    receive(the_hub, member, member.record("hub", str(uuid.uuid4()),
                                           payload=case(random.Random(5), 2),
                                           consent=consent()))
    before = counted(the_hub)
    with the_hub.app_context():
        db.session.execute(Fact.__table__.delete())
        db.session.commit()
    result = the_hub.test_cli_runner().invoke(args=["federation", "rebuild-statistics"])
    assert result.exit_code == 0, result.output
    assert "Counted 2" in result.output
    assert counted(the_hub) == before


def fill(app, per_cell: dict):
    """Facts straight into the store: {(country, violation): how many}."""
    with app.app_context():
        rows = []
        for (country, violation), many in per_cell.items():
            for _ in range(many):
                rows.append({"origin": "n" * 32, "record_id": str(uuid.uuid4()),
                             "public": country != "TN", "first": True, "country": country,
                             "governorate": None, "violation": violation,
                             "perpetrator": "police", "activism": None, "age_band": None,
                             "year": 2025, "month": 202503, "status": "open"})
        statistics.insert_rows(Fact.__table__, rows)
        db.session.commit()


def test_a_table_shows_no_count_below_k_and_hides_what_would_reveal_one(the_hub):
    fill(the_hub, {("EG", "threats"): 2, ("EG", "smear-campaign"): 9,
                   ("TN", "threats"): 7, ("TN", "smear-campaign"): 8})
    with the_hub.app_context():
        two = statistics.table(("country", "violation"))
        one = statistics.table(("violation",), filters=Filters(since="2025-01",
                                                               until="2025-12"))
        public = statistics.table(("violation",), public=True)
    assert two.cell("EG", "threats") is None
    assert two.cell("EG", "smear-campaign") is None  # its row total is shown
    assert two.cell("TN", "threats") is None and two.cell("TN", "smear-campaign") is None
    assert two.row_total("EG") == 11 and two.total == 26
    assert one.cell("threats") == 9 and one.total == 26
    assert public.cell("threats") is None and public.cell("smear-campaign") is None
    assert public.total == 11


def test_k_can_only_be_raised(federation_app):
    low = federation_app(FEDERATION_ROLE="hub", FEDERATION_STATISTICS_K=2)
    high = federation_app(FEDERATION_ROLE="hub", name="high", FEDERATION_STATISTICS_K=10,
                          FEDERATION_STATISTICS_PUBLIC_K=7)
    with low.app_context():
        assert statistics.k() == 5
    with high.app_context():
        assert statistics.k() == 10 and statistics.k(public=True) == 10


def test_bad_filters_and_dimensions_are_refused():
    with pytest.raises(ValueError):
        Filters(since="2025-13")
    with pytest.raises(ValueError):
        Filters(country="EG'; --")


@all_databases
def test_exports_say_period_filters_k_and_moment_and_hide_the_same_cells(the_hub):
    fill(the_hub, {("EG", "threats"): 3, ("EG", "smear-campaign"): 12,
                   ("TN", "threats"): 6, ("TN", "smear-campaign"): 8})
    filters = Filters(since="2025-01", until="2025-06", perpetrator="police")
    with the_hub.app_context():
        table = statistics.table(("country", "violation"), filters=filters)
        exported = json.loads(statistics.to_json(table))
        text, hxl = statistics.to_csv(table), statistics.to_hxl(table)
    assert exported["period"] == {"since": "2025-01", "until": "2025-06"}
    assert exported["filters"] == {"since": "2025-01", "until": "2025-06",
                                   "perpetrator": "police"}
    assert exported["k"] == 5 and exported["as_of"]
    shown = [f["count"] for f in exported["figures"] if f["count"] is not None]
    assert all(count == 0 or count >= 5 for count in shown)
    assert {"country": "EG", "violation": "threats", "count": None} in exported["figures"]
    for body, skip in ((text, 1), (hxl, 2)):
        lines = [line for line in body.splitlines() if not line.startswith("# ")]
        rows = list(csv.reader(io.StringIO("\n".join(lines))))
        assert rows[0] == ["country", "violation", "count"]
        counts = [int(r[2]) for r in rows[skip:] if r[2]]
        assert sorted(counts) == sorted(shown)
    assert "# k: 5" in text and "#country+code" in hxl
