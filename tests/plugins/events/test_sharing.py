"""An event is about no person: no consent, the organiser's audience says where it may go,
review still applies; a record about a person still needs her consent."""

from datetime import date

import pytest

from core import consent, records, review
from core.extensions import db
from core.models import User
from plugins.events import store
from plugins.events.models import Event
from tests.conftest import load_testimony

from .conftest import event_data


@pytest.fixture
def people(make_user):
    return make_user("salma", role="documenter"), make_user("huda", role="reviewer")


def _approve(app, event_uuid, audience, reviewer):
    event = db.session.scalar(db.select(Event).where(Event.uuid == event_uuid))
    return review.approve(event, audience, db.session.get(User, reviewer.id))


def test_a_coalition_event_needs_no_consent_but_still_needs_review(app, people, make_event):
    salma, huda = people
    with app.test_request_context():
        event = make_event(salma, audience="coalition")
        assert consent.current(event) is None
        assert consent.allows(event, "hub").audience_list == ("peers", "hub")
        assert review.shareable(event, "hub").reason == "not-approved"
        _approve(app, event.uuid, "hub", huda)
        assert review.shareable(event, "hub").ok


@pytest.mark.parametrize("audience", ["members"])
def test_a_members_only_event_goes_nowhere(app, people, make_event, audience):
    salma, huda = people
    with app.test_request_context():
        event = make_event(salma, audience=audience)
        for where in ("peers", "hub", "public-aggregate"):
            assert consent.allows(event, where) is None
            assert review.shareable(event, where).reason == "no-consent"
        with pytest.raises(review.ReviewError) as refused:
            _approve(app, event.uuid, "hub", huda)
        assert "organiser chose does not include" in str(refused.value)
        assert "consent" not in str(refused.value)


def test_an_event_takes_no_consent(app, people, make_event):
    salma, _huda = people
    with app.test_request_context():
        event = make_event(salma)
        with pytest.raises(consent.ConsentError, match="no person"):
            consent.record(event, user=db.session.get(User, salma.id), given_by="defender",
                           method="oral", audiences=["hub"], purposes=["advocacy"],
                           obtained_on=date(2026, 1, 1))
        assert consent.history(event) == []


def test_an_event_whose_model_does_not_say_its_audiences_goes_nowhere(app, people, make_event,
                                                                      monkeypatch):
    salma, _huda = people
    with app.test_request_context():
        event = make_event(salma)
        monkeypatch.delattr(Event, "chosen_audiences")
        assert consent.allows(event, "hub") is None
        assert not review.shareable(event, "hub")


def test_a_record_about_a_person_still_needs_her_consent(records_app, make_user,
                                                         make_testimony):
    uuid = make_testimony(make_user("salma", role="documenter"))
    with records_app.test_request_context():
        testimony = load_testimony(records_app, uuid)
        assert consent.has_data_subject(testimony)
        assert consent.allows(testimony, "hub") is None
        assert review.shareable(testimony, "hub").reason == "no-consent"


def test_narrowing_the_audience_revokes_the_approval(app, people, make_event):
    salma, huda = people
    with app.test_request_context():
        event = make_event(salma, audience="coalition")
        _approve(app, event.uuid, "hub", huda)
        store.write(event, event_data(audience="members"), db.session.get(User, salma.id))
        assert not review.shareable(event, "hub")
        assert records.redaction(event, "hub").payload["audience"] == "members"


def test_its_organisers_never_leave_the_node(app, make_user, make_event):
    salma = make_user("salma-organiser-q7", role="documenter")
    nour = make_user("nour-organiser-q7", role="reviewer")
    with app.test_request_context():
        event = make_event(db.session.get(User, salma.id),
                           organisers=[str(salma.id), str(nour.id)])
        assert {o.user_id for o in event.organisers} == {salma.id, nour.id}
        for audience in ("peers", "hub"):
            payload = str(records.redaction(event, audience).payload)
            assert "organiser" not in payload and "-q7" not in payload, audience
        assert "organiser" not in str(records.values(event, identifying=True))
