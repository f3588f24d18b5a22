"""Real nodes over real HTTP: a guide written in Tunis and approved for the hub reaches the
hub's library after one sync — readable and searchable there, without its authors; a new
version reaches it only once approved; a tombstone (its author narrows it to this node)
takes it out of the hub's catalogue and index."""

import pytest
from sqlalchemy import select

from core import review
from core.extensions import db
from core.models import User
from federation.testing import pair
from plugins.knowledge import search, store
from plugins.knowledge.models import Entry, Resource

from .conftest import resource_data

pytestmark = pytest.mark.slow


@pytest.fixture
def federation_plugins():
    return ["federation", "plugins.knowledge"]


def _hub_entries(hub):
    with hub.context():
        return [(e.title, e.local, e.audience) for e in db.session.scalars(select(Entry))]


def test_a_guide_travels_to_the_hubs_library_and_leaves_it(make_node):
    tunis, hub = make_node("tunis"), make_node("hub", role="hub")
    pair(tunis, hub)
    salma = tunis.make_user("salma", "documenter")
    huda = tunis.make_user("huda", "reviewer")
    with tunis.context():
        guide = store.write(None, resource_data(audience="public"), tunis.user(salma))
        uuid = guide.uuid
    assert not [e for e in hub.sync(tunis).values() if e]
    assert _hub_entries(hub) == []  # not approved: nothing left
    with tunis.context():
        review.approve(db.session.scalar(select(Resource).where(Resource.uuid == uuid)), "hub",
                       tunis.user(huda))
    assert not [e for e in hub.sync(tunis).values() if e]
    assert _hub_entries(hub) == [("Guide de sécurité numérique", False, "public")]
    with hub.context():
        hits, total = search.results("manifestation")
        assert total == 1 and hits[0].entry.record_uuid == uuid
        entry = hits[0].entry
        assert "Qzx" not in repr([entry.title, entry.summary, entry.body, entry.byline])

    # A new version waits for review; the hub keeps the approved one.
    with tunis.context():
        guide = db.session.scalar(select(Resource).where(Resource.uuid == uuid))
        store.write(guide, resource_data(title="Deuxième édition", audience="public"),
                    tunis.user(salma))
    hub.sync(tunis)
    assert _hub_entries(hub) == [("Guide de sécurité numérique", False, "public")]

    # Narrowed to this node: tombstoned, gone from the hub's library and index.
    with tunis.context():
        guide = db.session.scalar(select(Resource).where(Resource.uuid == uuid))
        store.write(guide, resource_data(title="Deuxième édition", audience="node"),
                    db.session.get(User, salma))
    assert not [e for e in hub.sync(tunis).values() if e]
    assert _hub_entries(hub) == []
    with hub.context():
        assert search.results("manifestation") == ([], 0)
