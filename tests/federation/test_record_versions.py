"""The version window (docs/federation.md, "Record type versions"): an entry says which
version of its record type its payload follows; a receiver applies its own version and the
next, keeping a newer payload exactly as received, and refuses a page with anything newer."""

import random
import uuid
from datetime import date

import pytest
from sqlalchemy import select

from core.extensions import db
from federation import inbox, protocol
from federation.models import ReceivedEntry
from federation.reasons import Refused
from tests.federation.conftest import Origin
from tests.federation.test_bundles import _document, export, load

TESTIMONY_NODE = ("federation", "tests.fixtures.testimony", "plugins.country_tn")
LAW = "tn-decree-law-2022-54"


@pytest.fixture
def receiver(federation_app):
    """A node that has testimony.testimony at version 1."""
    return federation_app(plugins=TESTIMONY_NODE)


def receive(app, origin, *raws):
    with app.app_context():
        page = inbox.verify_feed(origin.node_id, "peers", list(raws), raws[-1]["seq"],
                                 inbox.Keys(), app.config["NODE_ID"])
        inbox.apply(page.items, received_from=origin.node_id)
        db.session.commit()


def held(app, origin):
    with app.app_context():
        return inbox.held_payloads(origin.node_id)


def test_a_receiver_applies_the_next_version_and_keeps_its_payload_as_received(receiver):
    origin = Origin()
    origin.pin(receiver)
    record = str(uuid.uuid4())
    newer = {"title": "Summons", "new_field": ["code-a"]}
    raw = origin.record("peers", record, payload=newer, type_version=2)
    assert '"type_version":2' in raw["entry"]
    receive(receiver, origin, raw)
    assert held(receiver, origin)[(origin.node_id, record)] == newer  # nothing dropped
    with receiver.app_context():
        entry = protocol.read_entry(db.session.scalar(select(ReceivedEntry.entry)).encode())
    assert entry.type_version == 2


def test_two_versions_ahead_refuses_the_page_and_writes_nothing(receiver):
    origin = Origin()
    origin.pin(receiver)
    first = origin.record("peers", str(uuid.uuid4()))
    too_new = origin.record("peers", str(uuid.uuid4()), type_version=3)
    with pytest.raises(Refused) as refused:
        receive(receiver, origin, first, too_new)
    assert refused.value.code == "record-type-version"
    assert held(receiver, origin) == {}
    receive(receiver, origin, first)  # the sync goes on up to the entry it cannot read yet
    assert len(held(receiver, origin)) == 1


@pytest.mark.parametrize("said", [1, 0, "2", True, 1001])
def test_a_type_version_has_one_form(receiver, said):
    origin = Origin()
    with pytest.raises(Refused) as refused:
        protocol.read_entry(origin.record("peers", str(uuid.uuid4()),
                                          type_version=said)["entry"].encode())
    assert refused.value.code == "entry-invalid"


def test_a_tombstone_carries_no_type_version():
    origin = Origin()
    raw = origin._append("peers", "tombstone", {
        "record_type": "testimony.testimony", "record_id": str(uuid.uuid4()), "version": 1,
        "reason": "withdrawn", "type_version": 2})
    with pytest.raises(Refused):
        protocol.read_entry(raw["entry"].encode())


# -- two nodes: cases at version 2 sent to a node still on version 1 -------------------------


@pytest.fixture
def version_two_and_one(make_node):
    """Tunis runs cases at version 2; Sfax still at version 1 (tests.fixtures.previous)."""
    from federation import peers

    tunis = make_node("tunis", serve=False,
                      plugins=["federation", "plugins.cases", "plugins.country_tn"])
    sfax = make_node("sfax", serve=False,
                     plugins=["federation", "tests.fixtures.previous.cases", "plugins.country_tn"])
    with tunis.context():
        peers.add(sfax.url, sfax.fingerprint, "sfax", None, send_request=False,
                  document=_document(sfax))
    with sfax.context():
        peers.add(tunis.url, tunis.fingerprint, "tunis", None, send_request=False,
                  document=_document(tunis))
    return tunis, sfax


def writers(node):
    return node.make_user("salma", "documenter"), node.make_user("huda", "reviewer")


def share_case(node, legal_basis, people):
    """A sample case on ``node``, its incidents citing ``legal_basis``, approved for peers."""
    from core import consent, records, review
    from plugins.cases import sample

    salma, huda = people
    with node.context():
        author = node.user(salma)
        case = sample.build(random.Random(len(legal_basis)), author)
        for incident in case.incidents:
            incident.legal_basis = legal_basis
        records.save(case, author)
        consent.record(case, user=author, given_by="defender", method="oral",
                       audiences=["peers"], purposes=["advocacy"], obtained_on=date(2026, 1, 1))
        review.approve(case, "peers", node.user(huda))
        return case.uuid


@pytest.mark.slow
def test_a_node_on_the_previous_version_applies_cases_of_the_new_one(version_two_and_one,
                                                                      tmp_path):
    from core import records
    from federation import shared

    tunis, sfax = version_two_and_one
    with sfax.context():
        assert records.record_types().get("cases.case").version == 1
    cited = share_case(tunis, [LAW], writers(tunis))
    assert export(tunis, sfax, tmp_path / "cases.rabita") == 1
    assert load(sfax, tmp_path / "cases.rabita") == 1
    with sfax.context():
        payload = inbox.held_payloads()[(tunis.node_id, cited)]
        entry = protocol.read_entry(db.session.scalar(select(ReceivedEntry.entry)).encode())
        words = shared.readable(shared.one(tunis.node_id, cited), "en")
    assert entry.type_version == 2 and entry.record_type == "cases.case"
    assert [i["legal_basis"] for i in payload["incidents"]] == [[LAW]] * len(
        payload["incidents"])  # kept as received
    incidents = next(item for item in words if item.label == "Incidents")
    assert "legal basis" in str(incidents.value) and LAW in str(incidents.value)


@pytest.mark.slow
def test_a_served_node_on_the_previous_version_pulls_cases_of_the_new_one(make_node):
    """The same over HTTP between two node processes: Sfax (version 1, on PostgreSQL) pulls
    Tunis's peers feed and applies the version 2 entries, a case without a legal basis too."""
    from federation.testing import pair

    tunis = make_node("tunis", wait=False,
                      plugins=["federation", "plugins.cases", "plugins.country_tn"])
    sfax = make_node("sfax", wait=False, database="postgresql",
                     plugins=["federation", "tests.fixtures.previous.cases", "plugins.country_tn"])
    tunis.wait(), sfax.wait()
    pair(sfax, tunis)
    people = writers(tunis)
    cited, silent = share_case(tunis, [LAW], people), share_case(tunis, [], people)
    assert sfax.sync(tunis) == {"tunis": None}
    with sfax.context():
        payloads = inbox.held_payloads(tunis.node_id)
        versions = {protocol.read_entry(text.encode()).type_version
                    for text in db.session.scalars(select(ReceivedEntry.entry))}
    assert versions == {2}
    assert all(i["legal_basis"] == [LAW] for i in payloads[(tunis.node_id, cited)]["incidents"])
    assert all("legal_basis" not in i for i in payloads[(tunis.node_id, silent)]["incidents"])
