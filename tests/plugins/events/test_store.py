"""Writing events and attendees: bad input gets a clear error and saves nothing; capacity and
closed registration hold; participation is counts only, small ones hidden."""

from datetime import datetime

import pytest
from sqlalchemy import func, select

from core import keystore, records
from core.extensions import db
from core.models import User
from plugins.events import store
from plugins.events.models import Event, Registration

from .conftest import event_data


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize(("changes", "message"), [
    ({"ends_at": datetime(2026, 3, 20, 17)}, "after the start"),
    ({"timezone": "Europe/Atlantis"}, "Unknown time zone"),
    ({"recurrence": "FREQ=WEEKLY"}, "must end"),
    ({"recurrence": "FREQ=DAILY;COUNT=5000"}, "at most"),
    ({"kind": "picnic"}, "type"),
    ({"audience": "everyone"}, "audience"),
])
def test_bad_input_is_refused_and_nothing_is_saved(app, make_user, changes, message):
    salma = make_user("salma", role="documenter")
    with app.test_request_context():
        with pytest.raises(store.EventError, match=message):
            store.write(None, event_data(**changes), salma)
        db.session.rollback()
        assert _count(Event) == 0


def test_a_full_event_refuses_one_more_and_saves_nothing(app, make_user, make_event):
    salma = make_user("salma", role="documenter")
    amina, rim = make_user("amina"), make_user("rim")
    with app.test_request_context():
        event = make_event(salma, capacity=1)
        store.register(event, db.session.get(User, amina.id))
        with pytest.raises(store.EventError, match="full"):
            store.register(event, db.session.get(User, rim.id))
        db.session.rollback()
        with pytest.raises(store.EventError, match="full"):
            store.add_outsider(event, "Leila Outsider", None, "18-29", "participant", salma)
        db.session.rollback()
        assert _count(Registration) == 1


def test_closed_registration_refuses_and_saves_nothing(app, make_user, make_event):
    salma, amina = make_user("salma", role="documenter"), make_user("amina")
    with app.test_request_context():
        event = make_event(salma, registration_open=False)
        with pytest.raises(store.EventError, match="closed"):
            store.register(event, db.session.get(User, amina.id))
        db.session.rollback()
        assert _count(Registration) == 0


def test_registering_twice_keeps_one_registration(app, make_user, make_event):
    salma, amina = make_user("salma", role="documenter"), make_user("amina")
    with app.test_request_context():
        event = make_event(salma)
        her = db.session.get(User, amina.id)
        assert store.register(event, her).id == store.register(event, her).id
        assert store.registration_of(event, her) is not None
        assert store.registration_of(event, db.session.get(User, salma.id)) is None


def test_an_outsider_is_kept_sealed_with_only_what_is_needed(app, make_user, make_event):
    salma = make_user("salma", role="documenter")
    with app.test_request_context():
        event = make_event(salma)
        with pytest.raises(store.EventError, match="name"):
            store.add_outsider(event, "  ", None, "18-29", "participant", salma)
        with pytest.raises(store.EventError, match="lists"):
            store.add_outsider(event, "Leila", None, "ancient", "participant", salma)
        db.session.rollback()
        registration = store.add_outsider(event, "Leila Bennani", "+216 20 123 456", "30-44",
                                          "speaker", salma)
        assert b"Leila" not in registration.name and registration.member is None
        assert keystore.keystore().unlocked


def test_participation_is_counts_with_small_ones_hidden(app, make_user, make_event):
    salma = make_user("salma", role="documenter")
    with app.test_request_context():
        event = make_event(salma, capacity=None)
        for number in range(6):
            store.add_outsider(event, f"Person {number}", None, "18-29",
                               "speaker" if number == 0 else "participant", salma)
        store.check_in(event, {r.uuid for r in store.attendees(event)}, salma)
        counted = store.participation(event)
    assert counted == {"count": 6, "by_age_band": {"18-29": 6},
                       "by_role": {"participant": 5, "speaker": None}}


def test_the_report_keeps_outcomes_and_shares_counts_not_names(app, make_user, make_event):
    salma = make_user("salma", role="documenter")
    with app.test_request_context():
        event = make_event(salma)
        for number in range(3):
            store.add_outsider(event, f"Nadia Qx{number}", None, "18-29", "participant", salma)
        store.check_in(event, {r.uuid for r in store.attendees(event)}, salma)
        store.report(event, "Twelve phones secured", "Call Nadia Qx0 on Monday", salma)
        payload = records.redaction(event, "hub").payload
    assert payload["outcomes"] == "Twelve phones secured"
    assert payload["participation"] == {"count": None, "by_age_band": {"18-29": None},
                                        "by_role": {"participant": None}}
    assert "Nadia" not in repr(payload) and "follow_ups" not in payload
