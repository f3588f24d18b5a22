"""Calendar files (RFC 5545), parsed back with icalendar: instants across zones, a series
crossing a daylight-saving change, no place, link or attendee in any feed; a member's feed
behind a secret address she can revoke, of which only a hash is kept."""

from datetime import UTC, datetime

import pytest
from icalendar import Calendar
from sqlalchemy import select

from core import review
from core.extensions import db
from core.models import User
from plugins.events import store
from plugins.events.models import Event, FeedToken

from .conftest import event_data

SECRETS = ("Zaytouna", "Oliviers", "meet.example", "zaytouna-7Q", "Leila", "Bennani")


@pytest.fixture
def events(app, make_user):
    """A weekly series in Paris crossing the change to summer time, a public event in
    Beirut, and a members-only one; an outsider registered for the first."""
    salma = make_user("salma", role="documenter")
    huda = make_user("huda", role="reviewer")
    with app.test_request_context():
        series = store.write(None, event_data(recurrence="FREQ=WEEKLY;COUNT=3"), salma)
        store.add_outsider(series, "Leila Bennani", "+216 20 123 456", "30-44", "speaker",
                           salma)
        public = store.write(None, event_data(
            title="Public statement launch", kind="statement-launch", audience="public",
            timezone="Asia/Beirut", starts_at=datetime(2026, 3, 29, 11),
            ends_at=datetime(2026, 3, 29, 12)), salma)
        store.write(None, event_data(title="Public but not reviewed", audience="public"), salma)
        review.approve(public, "hub", db.session.get(User, huda.id))
        store.write(None, event_data(title="Safe space", kind="safe-space",
                                     audience="members"), salma)
    return salma


def _parsed(body: bytes) -> Calendar:
    text = body.decode()
    assert not [s for s in SECRETS if s in text], text
    return Calendar.from_ical(body)


def _vevents(calendar: Calendar):
    return {str(item["summary"]): item for item in calendar.walk("VEVENT")}


def test_the_public_feed_holds_public_events_only_in_their_zone(app, events):
    body = app.test_client().get("/events/feed.ics")
    assert body.status_code == 200 and body.mimetype == "text/calendar"
    found = _vevents(_parsed(body.data))
    assert list(found) == ["Public statement launch"]  # the unreviewed one is not there
    start = found["Public statement launch"].decoded("dtstart")
    assert str(start.tzinfo) == "Asia/Beirut"
    assert start.astimezone(UTC) == datetime(2026, 3, 29, 8, tzinfo=UTC)  # Beirut: UTC+3
    zones = [str(z["tzid"]) for z in _parsed(body.data).walk("VTIMEZONE")]
    assert zones == ["Asia/Beirut"]


def test_a_series_crossing_a_dst_change_keeps_its_local_time(app, events, login_as):
    client = login_as(events)
    with app.app_context():
        series = db.session.scalars(select(Event).where(Event.recurrence.is_not(None))).one()
    calendar = _parsed(client.get(f"/events/e/{series.uuid}.ics").data)
    item = _vevents(calendar)["Digital safety training"]
    assert str(item["rrule"].to_ical().decode()) == "FREQ=WEEKLY;COUNT=3"
    assert "LOCATION" not in item or str(item["location"]) == "Tunis"
    start = item.decoded("dtstart")
    assert (str(start.tzinfo), start.hour) == ("Europe/Paris", 18)
    assert [z["tzid"] for z in calendar.walk("VTIMEZONE")] == ["Europe/Paris"]
    # Expanded from the parsed file: 18:00 in Paris each week, 17:00 UTC then 16:00 UTC
    from dateutil.rrule import rrulestr  # noqa: PLC0415 -- only this test expands a rule

    rule = rrulestr(item["rrule"].to_ical().decode(), dtstart=start)
    assert [s.astimezone(UTC).hour for s in rule] == [17, 17, 16]


def test_a_secret_place_is_not_even_its_city_in_a_file(app, events, login_as):
    client = login_as(events)
    with app.app_context():
        series = db.session.scalars(select(Event).where(Event.recurrence.is_not(None))).one()
    item = _vevents(_parsed(client.get(f"/events/e/{series.uuid}.ics").data))[
        "Digital safety training"]
    assert "LOCATION" not in item


def test_a_members_feed_is_behind_a_secret_address_she_can_revoke(app, events, make_user,
                                                                  login_as):
    amina = login_as(make_user("amina"))
    page = amina.submit("/events/feed", {"action": "new"}).get_data(as_text=True)
    address = page.split("/events/feed/")[1].split(".ics")[0]
    with app.app_context():
        kept = db.session.scalars(select(FeedToken)).one()
        assert kept.token_hash != address and address not in kept.token_hash
    anyone = app.test_client()
    found = _vevents(_parsed(anyone.get(f"/events/feed/{address}.ics").data))
    assert set(found) == {"Digital safety training", "Public statement launch",
                          "Public but not reviewed", "Safe space"}
    amina.submit("/events/feed", {"action": "revoke"})
    assert anyone.get(f"/events/feed/{address}.ics").status_code == 404
    assert anyone.get("/events/feed/" + "x" * 43 + ".ics").status_code == 404


def test_every_feed_parses_and_leaks_nothing(app, events, make_user, login_as):
    amina = login_as(make_user("amina"))
    page = amina.submit("/events/feed", {"action": "new"}).get_data(as_text=True)
    address = page.split("/events/feed/")[1].split(".ics")[0]
    with app.app_context():
        uuids = list(db.session.scalars(select(Event.uuid)))
    bodies = [app.test_client().get("/events/feed.ics").data,
              app.test_client().get(f"/events/feed/{address}.ics").data,
              *[amina.get(f"/events/e/{uuid}.ics").data for uuid in uuids]]
    for body in bodies:
        assert _parsed(body).walk("VEVENT")
