"""What federation sends of an event: nothing before review, then its payload to the feeds
its organiser's audience names; a narrowed audience tombstones it where it may no longer go."""

from sqlalchemy import select

from core import review
from core.extensions import db
from core.models import User
from federation.models import OutboxEntry
from plugins.events import store
from plugins.events.models import Event

from .conftest import event_data


def _entries(app, uuid):
    with app.app_context():
        return [(e.feed, e.kind) for e in db.session.scalars(
            select(OutboxEntry).where(OutboxEntry.record_id == uuid).order_by(OutboxEntry.seq))]


def test_an_event_leaves_after_review_and_is_retracted_when_narrowed(federation_app,
                                                                    make_user):
    node = federation_app(["federation", "plugins.events"])
    salma, huda = make_user("salma", role="documenter"), make_user("huda", role="reviewer")
    with node.test_request_context():
        event = store.write(None, event_data(audience="coalition"), salma)
        uuid = event.uuid
    assert _entries(node, uuid) == []  # no consent needed, but review is
    with node.test_request_context():
        event = db.session.scalar(select(Event).where(Event.uuid == uuid))
        review.approve(event, "hub", db.session.get(User, huda.id))
    assert _entries(node, uuid) == [("hub", "record")]
    with node.test_request_context():
        event = db.session.scalar(select(Event).where(Event.uuid == uuid))
        payload = db.session.scalars(select(OutboxEntry.payload)).one()
        assert "Tunis" in payload
        assert "Zaytouna" not in payload and "meet.example" not in payload
        store.write(event, event_data(audience="members"), db.session.get(User, salma.id))
    assert _entries(node, uuid) == [("hub", "record"), ("hub", "tombstone")]
