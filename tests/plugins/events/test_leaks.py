"""Leak checks extended to events: attendee names (as people type them: whole, in Arabic, in
lower case) and secret places are found 0 times at rest (SQLite file, WAL, dump; pg_dump),
in what would leave for partner nodes and the hub, and in the shared calendar's table."""

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from core import records
from core.extensions import db
from core.plugins import plugin_manager
from core.records import SharedRecord
from core.testing import all_databases, database_copies
from plugins.events import shared, store
from plugins.events.models import Event, SharedEvent

from .conftest import event_data

NAMES = ("Qzxattendee Haddad", "قزكنارية الحداد", "qzxoutsider bennani")
PLACE = "Qzxsecret house, 9 rue Qzxolive"
LINK = "https://meet.example.org/Qzxroom"
CANARIES = ("Qzxattendee", "قزكنارية", "qzxoutsider", "Qzxsecret", "Qzxolive", "Qzxroom")


def _write(app, salma):
    with app.test_request_context():
        event = store.write(None, event_data(location=PLACE, online_link=LINK,
                                             audience="public"), salma)
        for name in NAMES:
            store.add_outsider(event, name, f"{name}@example.org", "18-29", "participant",
                               salma)
        store.check_in(event, {r.uuid for r in store.attendees(event)}, salma)
        store.report(event, "Outcomes", f"Call {NAMES[0]} at {PLACE}", salma)
        return event.uuid


def _found(text: str) -> list[str]:
    return [c for c in CANARIES if c.casefold() in text.casefold()]


@all_databases
def test_attendees_and_secret_places_are_sealed_at_rest(make_app, make_user, database_url):
    app = make_app(PLUGINS=["plugins.events"], unlocked=True)
    _write(app, make_user("salma", role="documenter"))
    for where, copy in database_copies(database_url).items():
        text = copy.decode("utf-8", errors="replace")
        assert _found(text) == [], where


@pytest.mark.parametrize("audience", ["peers", "hub"])
def test_what_would_leave_holds_no_attendee_or_place(app, make_user, audience):
    uuid = _write(app, make_user("salma", role="documenter"))
    with app.test_request_context():
        event = db.session.scalar(select(Event).where(Event.uuid == uuid))
        sent = records.redaction(event, audience)
    assert _found(repr(sent.payload)) == []
    assert sent.payload["participation"]["count"] is None  # three people: too few to say


def test_the_shared_calendar_holds_no_attendee_or_place(app, make_user):
    uuid = _write(app, make_user("salma", role="documenter"))
    with app.test_request_context():
        event = db.session.scalar(select(Event).where(Event.uuid == uuid))
        payload = records.redaction(event, "hub").payload
        shared.received(SharedRecord("a" * 32, "events.event", str(uuid), 2, json.dumps(payload)))
        db.session.commit()
        rows = db.session.scalars(select(SharedEvent)).all()
        assert [r.title for r in rows] == ["Digital safety training"]
        assert _found(repr([vars(r) for r in rows])) == []
        first, last = datetime(2026, 3, 1).astimezone(), datetime(2026, 4, 1).astimezone()
        assert [o.event.title for o in shared.public_events(first, last)] == [
            "Digital safety training"]


def test_a_purged_shared_event_leaves_the_calendar(app, make_user):
    uuid = _write(app, make_user("salma", role="documenter"))
    with app.test_request_context():
        event = db.session.scalar(select(Event).where(Event.uuid == uuid))
        text = json.dumps(records.redaction(event, "hub").payload)
        shared.received(SharedRecord("a" * 32, "events.event", uuid, 2, text))
        shared.received(SharedRecord("a" * 32, "events.event", uuid, 3, text))  # a newer one
        assert len(db.session.scalars(select(SharedEvent)).all()) == 1
        shared.purged(SharedRecord("a" * 32, "events.event", uuid, 3, None))
        db.session.commit()
        assert db.session.scalars(select(SharedEvent)).all() == []


def test_a_hubs_public_page_lists_coming_public_events_without_places(app, make_user,
                                                                      fake_clock):
    uuid = _write(app, make_user("salma", role="documenter"))
    with app.test_request_context():
        event = db.session.scalar(select(Event).where(Event.uuid == uuid))
        text = json.dumps(records.redaction(event, "hub").payload)
        shared.received(SharedRecord("a" * 32, "events.event", uuid, 2, text))
        db.session.commit()
        fake_clock.current = datetime(2026, 3, 1, tzinfo=UTC)
        sections = plugin_manager(app).hook.public_page_sections(locale="fr")
    lines = [line for found in sections for section in found for line in section["lines"]]
    assert lines == ["2026-03-20 18:00 (Europe/Paris) Digital safety training — Tunis"]
    assert _found(repr(sections)) == []
