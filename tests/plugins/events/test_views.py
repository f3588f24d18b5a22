"""The pages: an organiser writes an event through the form, a member registers, the
organiser ticks the check-in list; forged or foreign ids and bad input change nothing; the
calendar's month, week and agenda views and filters; Arabic is right to left."""

import json
from datetime import UTC, datetime
from uuid import uuid4

from sqlalchemy import func, select

from core.extensions import db
from core.models import AuditEntry, User
from core.testing import add_person, signed_in_client
from plugins.events.models import Event, Organiser, Registration

FORM = {"title": "Atelier de sécurité numérique", "description": "Téléphones",
        "kind": "workshop", "starts_at": "2026-03-20T18:00", "ends_at": "2026-03-20T20:00",
        "timezone": "Europe/Paris", "recurrence": "", "city": "Tunis",
        "location_visibility": "secret", "location": "Dar Zaytouna, 14 rue des Oliviers",
        "online_link": "https://meet.example.org/zaytouna-7Q", "audience": "coalition",
        "capacity": "2", "registration_open": "y", "languages": ["ar", "fr"]}


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _event(app) -> Event:
    with app.app_context():
        return db.session.scalars(select(Event)).one()


def test_an_organiser_writes_an_event_and_a_member_registers(app, make_user, login_as):
    organiser = login_as(make_user("salma", role="documenter"))
    answer = organiser.submit("/events/new", FORM)
    assert answer.status_code == 302, answer.get_data(as_text=True)
    event = _event(app)
    assert event.starts_at == datetime(2026, 3, 20, 17, tzinfo=UTC)
    member = login_as(make_user("amina"))
    page = member.get(f"/events/e/{event.uuid}").get_data(as_text=True)
    assert "Atelier" in page and "Zaytouna" not in page and "meet.example" not in page
    answer = member.submit(f"/events/e/{event.uuid}/register", {})
    assert answer.status_code == 303
    page = member.get(f"/events/e/{event.uuid}").get_data(as_text=True)
    assert "Zaytouna" in page and "meet.example" in page  # registered: she may see them
    listing = organiser.get(f"/events/e/{event.uuid}/organise").get_data(as_text=True)
    assert "amina" in listing


def test_bad_form_input_is_refused_and_nothing_is_saved(app, make_user, login_as):
    organiser = login_as(make_user("salma", role="documenter"))
    for changes in ({"ends_at": "2026-03-20T17:00"}, {"timezone": "Mars/Olympus"},
                    {"recurrence": "FREQ=DAILY"}, {"kind": "picnic"}, {"capacity": "-3"}):
        answer = organiser.submit("/events/new", {**FORM, **changes}, page="/events/new")
        assert answer.status_code == 400, changes
    assert _count(app, Event) == 0
    page = organiser.submit("/events/new", {**FORM, "recurrence": "FREQ=DAILY"},
                            page="/events/new").get_data(as_text=True)
    assert "must end" in page


def test_a_member_cannot_write_or_organise(app, make_user, login_as):
    login_as(make_user("salma", role="documenter")).submit("/events/new", FORM)
    event = _event(app)
    member = login_as(make_user("amina"))
    assert member.submit("/events/new", FORM, page="/events/").status_code == 403
    assert member.get(f"/events/e/{event.uuid}/organise").status_code == 403
    assert _count(app, Event) == 1


def test_forged_and_foreign_ids_are_a_404_and_change_nothing(app, make_user, login_as):
    organiser = login_as(make_user("salma", role="documenter"))
    organiser.submit("/events/new", FORM)
    member = login_as(make_user("amina"))
    for forged in (str(uuid4()), "not-an-id", "1 OR 1=1", "%00"):
        assert member.get(f"/events/e/{forged}").status_code == 404
        token = member.csrf_token("/events/")
        assert member.post(f"/events/e/{forged}/register",
                           data={"csrf_token": token}).status_code == 404
    assert _count(app, Registration) == 0


def test_a_forged_registration_id_on_the_check_in_list_saves_nothing(app, make_user, login_as):
    organiser = login_as(make_user("salma", role="documenter"))
    organiser.submit("/events/new", FORM)
    event = _event(app)
    login_as(make_user("amina")).submit(f"/events/e/{event.uuid}/register", {})
    with app.app_context():
        mine = db.session.scalars(select(Registration)).one().uuid
    answer = organiser.submit(f"/events/e/{event.uuid}/check-in",
                              {"present": [mine, str(uuid4())]},
                              page=f"/events/e/{event.uuid}/organise")
    assert answer.status_code == 400
    assert "not registered" in answer.get_data(as_text=True)
    with app.app_context():
        assert not db.session.scalars(select(Registration)).one().checked_in
    answer = organiser.submit(f"/events/e/{event.uuid}/check-in", {"present": [mine]},
                              page=f"/events/e/{event.uuid}/organise")
    assert answer.status_code == 303
    with app.app_context():
        assert db.session.scalars(select(Registration)).one().checked_in


def test_over_capacity_and_closed_say_so_and_save_nothing(app, make_user, login_as):
    organiser = login_as(make_user("salma", role="documenter"))
    organiser.submit("/events/new", {**FORM, "capacity": "1"})
    event = _event(app)
    login_as(make_user("amina")).submit(f"/events/e/{event.uuid}/register", {})
    rim = login_as(make_user("rim"))
    rim.submit(f"/events/e/{event.uuid}/register", {})
    assert "full" in rim.get(f"/events/e/{event.uuid}").get_data(as_text=True)
    answer = organiser.submit(f"/events/e/{event.uuid}/attendees",
                              {"name": "Leila", "age_band": "18-29", "role": "participant"},
                              page=f"/events/e/{event.uuid}/organise")
    assert answer.status_code == 400 and "full" in answer.get_data(as_text=True)
    assert _count(app, Registration) == 1


def test_month_week_and_agenda_views_with_filters(app, make_user, login_as):
    organiser = login_as(make_user("salma", role="documenter"))
    organiser.submit("/events/new", FORM)
    organiser.submit("/events/new", {**FORM, "title": "Commémoration du 8 mars",
                                     "kind": "commemoration", "audience": "public",
                                     "starts_at": "2026-03-08T10:00",
                                     "ends_at": "2026-03-08T12:00"})
    member = login_as(make_user("amina"))
    month = member.get("/events/?view=month&on=2026-03-01").get_data(as_text=True)
    assert "Atelier" in month and "Commémoration" in month
    week = member.get("/events/?view=week&on=2026-03-19").get_data(as_text=True)
    assert "Atelier" in week and "Commémoration" not in week
    agenda = member.get("/events/?view=agenda&on=2026-03-01&kind=commemoration")
    assert "Commémoration" in agenda.get_data(as_text=True)
    assert "Atelier" not in agenda.get_data(as_text=True)
    public = member.get("/events/?view=month&on=2026-03-01&audience=public")
    assert "Atelier" not in public.get_data(as_text=True)


def test_the_arabic_calendar_is_right_to_left(app, make_user, login_as):
    member = login_as(make_user("amina"))
    page = member.get("/events/?view=month", headers={"Accept-Language": "ar"})
    assert page.status_code == 200
    assert 'dir="rtl"' in page.get_data(as_text=True)


def test_a_misspelt_zone_falls_back_to_the_nodes_then_utc(make_app, insecure_fast_kdf):
    app = make_app(PLUGINS=["plugins.events"], unlocked=True, EVENTS_TIMEZONE="Mars/Olympus")
    with app.app_context():
        amina = add_person("amina")
    member = signed_in_client(app, amina.id)
    page = member.get("/events/?view=week&tz=Nowhere/Else")
    assert page.status_code == 200 and 'value="UTC"' in page.get_data(as_text=True)


# -- organisers -----------------------------------------------------------------------------


def _organiser_ids(app) -> set[int]:
    with app.app_context():
        return set(db.session.scalars(select(Organiser.user_id)))


def test_only_its_organisers_and_administrators_manage_an_event(app, make_user, login_as):
    salma, nour = make_user("salma", role="documenter"), make_user("nour", role="reviewer")
    login_as(salma).submit("/events/new", FORM)
    event = _event(app)
    assert _organiser_ids(app) == {salma.id}  # the creator, by default
    other = login_as(make_user("hiba", role="documenter"))  # may organise, not this one
    admin = login_as(make_user("rania", role="admin"))
    pages = [f"/events/e/{event.uuid}/{page}" for page in ("edit", "organise", "report")]
    for page in pages:
        assert other.get(page).status_code == 404, page
        assert admin.get(page).status_code == 200, page
    for page in ("check-in", "attendees"):
        token = other.csrf_token("/events/")
        assert other.post(f"/events/e/{event.uuid}/{page}",
                          data={"csrf_token": token}).status_code == 404
    assert f"/events/e/{event.uuid}/organise" not in other.get(
        f"/events/e/{event.uuid}").get_data(as_text=True)
    chosen = login_as(salma).submit(f"/events/e/{event.uuid}/edit",
                                    {**FORM, "organisers": [str(salma.id), str(nour.id)]},
                                    page=f"/events/e/{event.uuid}/edit")
    assert chosen.status_code == 302, chosen.get_data(as_text=True)
    assert _organiser_ids(app) == {salma.id, nour.id}
    assert login_as(nour).get(pages[1]).status_code == 200


def test_forged_organisers_are_not_a_valid_choice_and_save_nothing(app, make_user, login_as):
    salma = make_user("salma", role="documenter")
    member, gone = make_user("amina"), make_user("wafa", role="documenter")
    with app.app_context():
        db.session.get(User, gone.id).disabled_at = datetime(2026, 1, 1, tzinfo=UTC)
        db.session.commit()
    client = login_as(salma)
    for forged in ([str(member.id)], [str(gone.id)], ["99999"], ["1 OR 1=1"],
                   [str(salma.id), "99999"]):
        answer = client.submit("/events/new", {**FORM, "organisers": forged},
                               page="/events/new")
        assert answer.status_code == 400, forged
        assert "Not a valid choice" in answer.get_data(as_text=True), forged
    assert _count(app, Event) == 0
    client.submit("/events/new", FORM)
    event = _event(app)
    answer = client.submit(f"/events/e/{event.uuid}/edit",
                           {**FORM, "title": "Changed", "organisers": [str(member.id)]},
                           page=f"/events/e/{event.uuid}/edit")
    assert answer.status_code == 400 and "Not a valid choice" in answer.get_data(as_text=True)
    assert _organiser_ids(app) == {salma.id} and _event(app).title != "Changed"


# -- cancelling a registration --------------------------------------------------------------


def _audited(app, action: str) -> list[dict]:
    with app.app_context():
        return [json.loads(row.details) for row in db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action))]


def test_she_cancels_her_registration_and_the_place_frees_up(app, make_user, login_as):
    login_as(make_user("salma", role="documenter")).submit("/events/new",
                                                           {**FORM, "capacity": "1"})
    event = _event(app)
    amina, rim = login_as(make_user("amina")), login_as(make_user("rim"))
    amina.submit(f"/events/e/{event.uuid}/register", {})
    rim.submit(f"/events/e/{event.uuid}/register", {})
    assert _count(app, Registration) == 1  # full
    answer = rim.submit(f"/events/e/{event.uuid}/cancel", {}, page=f"/events/e/{event.uuid}")
    assert answer.status_code == 303 and _count(app, Registration) == 1  # not hers to cancel
    answer = amina.submit(f"/events/e/{event.uuid}/cancel", {}, page=f"/events/e/{event.uuid}")
    assert answer.status_code == 303 and _count(app, Registration) == 0
    page = amina.get(f"/events/e/{event.uuid}").get_data(as_text=True)
    assert "Zaytouna" not in page  # no longer registered: the secret place is hidden again
    rim.submit(f"/events/e/{event.uuid}/register", {})
    assert _count(app, Registration) == 1  # her place went to rim
    assert [d.get("by") for d in _audited(app, "events.registration_cancelled")] == ["attendee"]


def test_an_organiser_removes_a_registration_and_forged_ids_change_nothing(app, make_user,
                                                                           login_as):
    organiser = login_as(make_user("salma", role="documenter"))
    organiser.submit("/events/new", FORM)
    event = _event(app)
    login_as(make_user("amina")).submit(f"/events/e/{event.uuid}/register", {})
    with app.app_context():
        hers = db.session.scalars(select(Registration)).one().uuid
    page = f"/events/e/{event.uuid}/organise"
    other = login_as(make_user("hiba", role="documenter"))
    assert other.post(f"/events/e/{event.uuid}/attendees/remove", data={
        "csrf_token": other.csrf_token("/events/"), "registration": hers}).status_code == 404
    for forged in (str(uuid4()), "", "1 OR 1=1"):
        answer = organiser.submit(f"/events/e/{event.uuid}/attendees/remove",
                                  {"registration": forged}, page=page)
        assert answer.status_code == 400 and "not registered" in answer.get_data(as_text=True)
    assert _count(app, Registration) == 1
    answer = organiser.submit(f"/events/e/{event.uuid}/attendees/remove",
                              {"registration": hers}, page=page)
    assert answer.status_code == 303 and _count(app, Registration) == 0
    assert [d.get("by") for d in _audited(app, "events.registration_cancelled")] == [
        "organiser"]


def test_an_organiser_filter_that_is_no_id_is_ignored(app, make_user, login_as):
    organiser = login_as(make_user("salma", role="documenter"))
    organiser.submit("/events/new", {**FORM, "starts_at": "2026-03-20T18:00"})
    for odd in ("2147483648", "9223372036854775808", "9" * 40, "²", "-1", "1 OR 1=1"):
        answer = organiser.get(f"/events/?view=month&on=2026-03-01&organiser={odd}")
        assert answer.status_code == 200, odd
        assert "Atelier" in answer.get_data(as_text=True), odd  # no filter: all shown
