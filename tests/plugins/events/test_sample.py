"""Sample events (the demo's): written through the store as the form would, one per audience
asked, in the coming weeks, organised by their author, every place and link invented."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from core import consent, records
from core.extensions import db
from plugins.events import sample
from plugins.events.models import Event


def test_sample_events_follow_the_audiences_asked_and_say_they_are_fictional(app, make_user):
    salma = make_user("salma", role="documenter")
    with app.test_request_context():
        written = sample.create(salma, ["coalition", "public", "members"], seed="tunis",
                                timezone="Africa/Tunis", city="Tunis")
        events = db.session.scalars(select(Event).order_by(Event.id)).all()
        assert [event.uuid for event in events] == [event.uuid for event in written]
        assert [event.audience for event in events] == ["coalition", "public", "members"]
        assert [bool(consent.allows(event, "hub")) for event in events] == [True, True, False]
        now = datetime.now(UTC)
        for event in events:
            assert now < event.starts_at < now + timedelta(weeks=9)
            assert event.timezone == "Africa/Tunis" and event.city == "Tunis"
            assert [o.user_id for o in event.organisers] == [salma.id]
            assert "fictive" in records.identifying_value(event, event, "location")


def test_the_same_seed_gives_the_same_events(app, make_user):
    salma = make_user("salma", role="documenter")
    with app.test_request_context():
        first, second = (sample.create(salma, ["public"] * 3, seed="cairo") for _ in range(2))
        assert [e.title for e in first] == [e.title for e in second]
