"""What leaves the node, and what arrives: a resource needs review (its author's audience
says where it may go), a testimony her consent and review; authors, narrators and contacts
never leave; an approved version stays what was shared until the next is approved; a
resource another node shared is readable and searchable here, gone with its index when
purged, and on a hub's public page when public."""

import json
from datetime import date

import pytest
from sqlalchemy import func, select

from core import consent, records, review
from core.extensions import db
from core.models import User
from core.plugins import plugin_manager
from core.records import SharedRecord
from plugins.knowledge import catalogue, search, store
from plugins.knowledge.models import Entry, EntryTag, Resource

from .conftest import resource_data, story_data

ORIGIN = "b" * 32


@pytest.fixture
def people(make_user):
    return make_user("salma", role="documenter"), make_user("huda", role="reviewer")


def _user(person):
    return db.session.get(User, person.id)


def test_a_resource_needs_review_and_goes_where_its_author_chose(app, people, make_resource):
    salma, huda = people
    with app.test_request_context():
        guide = make_resource(salma, audience="coalition")
        assert consent.allows(guide, "hub").audience_list == ("peers", "hub")
        assert review.shareable(guide, "hub").reason == "not-approved"
        review.approve(guide, "hub", _user(huda))
        assert review.shareable(guide, "hub").ok
        mine = make_resource(salma, audience="node")
        for where in ("peers", "hub"):
            assert review.shareable(mine, where).reason == "no-consent"
        with pytest.raises(consent.ConsentError, match="no person"):
            consent.record(guide, user=_user(salma), given_by="defender", method="oral",
                           audiences=["hub"], purposes=["advocacy"], obtained_on=date(2026, 1, 1))


def test_a_testimony_needs_her_consent_and_review(app, people, make_resource):
    salma, huda = people
    with app.test_request_context():
        testimony = make_resource(salma, kind="testimony")
        assert consent.has_data_subject(testimony)
        assert review.shareable(testimony, "hub").reason == "no-consent"
        consent.record(testimony, user=_user(salma), given_by="defender", method="written",
                       audiences=["hub"], purposes=["advocacy"], obtained_on=date(2026, 1, 1))
        assert review.shareable(testimony, "hub").reason == "not-approved"
        review.approve(testimony, "hub", _user(huda))
        assert review.shareable(testimony, "hub").ok


@pytest.mark.parametrize("audience", ["peers", "hub"])
def test_names_never_leave(app, people, make_resource, audience):
    salma, _huda = people
    with app.test_request_context():
        guide = make_resource(salma, body="Écrit par Salma Qzxhaddad pour la coalition.")
        testimony = make_resource(salma, kind="testimony")
        sent = records.redaction(guide, audience).payload
        assert "authors" not in sent and sent["byline"] == "Collectif Nissa"
        assert "Qzx" not in json.dumps(sent)  # the authors' names scrubbed from the text too
        told = records.redaction(testimony, audience).payload
        assert not {"authors", "narrator", "contact"} & set(told)
        assert "Qzx" not in json.dumps(told) and "20 123 456" not in json.dumps(told)
        assert told["kind"] == "testimony" and told["language"] == "fr"


def test_an_approved_version_stays_what_was_shared_until_the_next_is_approved(
        federation_app, make_user):
    from federation.models import OutboxEntry

    node = federation_app(["federation", "plugins.knowledge"])
    salma, huda = make_user("salma", role="documenter"), make_user("huda", role="reviewer")
    with node.test_request_context():
        guide = store.write(None, resource_data(), _user(salma))
        uuid = guide.uuid
        review.approve(guide, "hub", _user(huda))
        store.write(guide, resource_data(title="Deuxième édition, pas encore relue"),
                    _user(salma))
        assert not review.shareable(guide, "hub").ok  # the edit waits for review
        sent = db.session.scalars(select(OutboxEntry).where(OutboxEntry.record_id == uuid)).all()
        assert [(e.feed, e.kind, e.version) for e in sent] == [("hub", "record", 1)]
        assert "Guide de sécurité numérique" in sent[0].payload
        assert "Deuxième édition" not in sent[0].payload
        review.approve(db.session.scalar(select(Resource).where(Resource.uuid == uuid)), "hub",
                       _user(huda))
        sent = db.session.scalars(select(OutboxEntry).where(OutboxEntry.record_id == uuid)
                                  .order_by(OutboxEntry.seq)).all()
        assert [(e.kind, e.version) for e in sent] == [("record", 1), ("record", 2)]
        assert "Deuxième édition" in sent[-1].payload


def _shared(app, salma, **changes) -> tuple[str, str]:
    """A resource as another node would send it: its redacted payload."""
    with app.test_request_context():
        guide = store.write(None, resource_data(**changes), _user(salma))
        payload = records.redaction(guide, "hub").payload
        uuid = f"5f0c2d8e-4c1b-4d7a-9a53-{len(changes):012d}"
        store.delete(guide, _user(salma))
    return uuid, json.dumps(payload)


def test_a_shared_resource_is_readable_and_searchable_here(app, people, make_user, login_as):
    salma, _huda = people
    uuid, text = _shared(app, salma, audience="public", title="Guide partagé par Sfax")
    with app.test_request_context():
        catalogue.received(SharedRecord(ORIGIN, "knowledge.resource", uuid, 1, text))
        db.session.commit()
        entry = db.session.scalars(select(Entry)).one()
        assert not entry.local and entry.origin == ORIGIN and entry.title == "Guide partagé par Sfax"
    amina = login_as(make_user("amina", role="member"))
    page = amina.get(f"/knowledge/r/{uuid}").get_data(as_text=True)
    assert "Guide partagé par Sfax" in page and "<strong>localisation</strong>" in page
    assert f"shared by {ORIGIN}" in amina.get("/knowledge/").get_data(as_text=True)
    assert login_as(salma).get(f"/knowledge/r/{uuid}/edit").status_code == 404  # not ours
    found = amina.submit("/knowledge/", {"q": "manifestation"}).get_data(as_text=True)
    assert "Guide partagé par Sfax" in found


def test_a_purged_shared_resource_leaves_the_catalogue_and_index_in_its_transaction(
        app, people):
    salma, _huda = people
    uuid, text = _shared(app, salma)
    with app.test_request_context():
        catalogue.received(SharedRecord(ORIGIN, "knowledge.resource", uuid, 1, text))
        catalogue.received(SharedRecord(ORIGIN, "knowledge.resource", uuid, 2, text))
        db.session.commit()
        assert search.results("manifestation")[1] == 1
        catalogue.purged(SharedRecord(ORIGIN, "knowledge.resource", uuid, 2, None))
        # Before the purge's commit, in its transaction: gone from the index already.
        assert search.results("manifestation") == ([], 0)
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(Entry)) == 0
        assert db.session.scalar(select(func.count()).select_from(EntryTag)) == 0


@pytest.mark.parametrize("payload", [
    {"kind": "poem"}, {"language": "de"}, {"title": ""}, {"audience": "all"},
    {"tags": "not a list"}, {"title": 42},
])
def test_a_malformed_shared_resource_is_left_out(app, people, payload):
    salma, _huda = people
    uuid, text = _shared(app, salma)
    bad = json.dumps({**json.loads(text), **payload})
    with app.test_request_context():
        catalogue.received(SharedRecord(ORIGIN, "knowledge.resource", uuid, 1, bad))
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(Entry)) == 0


def test_a_hubs_public_page_lists_public_resources_only(app, people):
    salma, _huda = people
    public_uuid, public = _shared(app, salma, audience="public", title="Guide public")
    coalition_uuid, coalition = _shared(app, salma, audience="coalition", title="Pour nous",
                                        summary="x")
    with app.test_request_context():
        catalogue.received(SharedRecord(ORIGIN, "knowledge.resource", public_uuid, 1, public))
        catalogue.received(SharedRecord(ORIGIN, "knowledge.resource", coalition_uuid, 1,
                                        coalition))
        db.session.commit()
        sections = plugin_manager(app).hook.public_page_sections(locale="fr")
    lines = [line for found in sections for section in found for line in section["lines"]]
    assert len(lines) == 1 and lines[0].startswith("Guide public — Guide, Français")
    assert "Qzx" not in repr(sections)


def test_a_shared_testimony_is_only_for_those_who_may_read_testimonies(app, people, make_user,
                                                                        login_as):
    salma, _huda = people
    with app.test_request_context():
        told = store.write(None, story_data(), _user(salma))
        text = json.dumps(records.redaction(told, "hub").payload)
        store.delete(told, _user(salma))
        uuid = "6a1d7e2f-0000-4000-8000-000000000001"
        catalogue.received(SharedRecord(ORIGIN, "knowledge.testimony", uuid, 1, text))
        db.session.commit()
    assert login_as(make_user("amina", role="member")).get(
        f"/knowledge/r/{uuid}").status_code == 404
    page = login_as(salma).get(f"/knowledge/r/{uuid}").get_data(as_text=True)
    assert "a vécu à Sfax" in page and "Qzx" not in page


def test_public_resources_are_readable_without_signing_in(app, people):
    salma, _huda = people
    public_uuid, public = _shared(app, salma, audience="public", title="Guide public",
                                  body="# Titre\n\n<script>alert(1)</script>**gras**",
                                  licence="cc0-1.0")
    coalition_uuid, coalition = _shared(app, salma, audience="coalition", title="Pour nous",
                                        summary="x")
    with app.test_request_context():
        catalogue.received(SharedRecord(ORIGIN, "knowledge.resource", public_uuid, 1, public))
        catalogue.received(SharedRecord(ORIGIN, "knowledge.resource", coalition_uuid, 1,
                                        coalition))
        own = store.write(None, resource_data(audience="public", title="Le nôtre, non relu"),
                          _user(salma))
        own_uuid = own.uuid
    anonymous = app.test_client()
    listing = anonymous.get("/knowledge/public/")
    assert listing.status_code == 200
    text = listing.get_data(as_text=True)
    assert "Guide public" in text and "Pour nous" not in text and "non relu" not in text
    page = anonymous.get(f"/knowledge/public/{public_uuid}").get_data(as_text=True)
    assert "<strong>gras</strong>" in page and "<script>alert" not in page
    for uuid in (coalition_uuid, own_uuid, "x" * 40, "9b2f3c1e-0000-4000-8000-000000000000"):
        assert anonymous.get(f"/knowledge/public/{uuid}").status_code == 404
    assert anonymous.get(f"/knowledge/r/{public_uuid}").status_code in (302, 401)
