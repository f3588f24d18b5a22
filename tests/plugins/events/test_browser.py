"""Real Chromium and real nodes: an organiser writes an event in French, a member registers
on the Arabic calendar, a reviewer approves it for the hub; after one sync the hub's shared
calendar shows it without its secret place, and the member downloads its .ics."""

from datetime import UTC, datetime

import pytest
from icalendar import Calendar

from core import review
from core.extensions import db
from core.models import User
from core.testing import screenshot, sign_in
from federation.testing import pair
from plugins.events.models import Event

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PLACE, LINK = "Maison Qzxsecrète, 3 impasse des Jasmins", "https://meet.example.org/Qzxroom"


@pytest.fixture
def federation_plugins():
    return ["federation", "plugins.events"]


def _signed_in(browser, node, person):
    page = browser.new_context(accept_downloads=True).new_page()
    page.goto(f"{node.url}/login")
    if person.totp_secret:
        sign_in(page, node.url, person)
        return page
    page.fill("#username", person.username)
    page.fill("#password", person.password)
    page.click("#submit")
    page.wait_for_url(f"{node.url}/")
    return page


def test_an_event_travels_from_a_french_organiser_to_the_hubs_calendar(make_node,
                                                                         chromium_browser):
    tunis, hub = make_node("tunis"), make_node("hub", role="hub")
    pair(tunis, hub)
    salma = tunis.make_person("salma", "documenter")
    huda = tunis.make_person("huda", "reviewer")
    amina = tunis.make_person("amina", "member")
    rim = hub.make_person("rim", "member")
    with tunis.context():
        for person, locale in ((salma, "fr"), (amina, "ar")):
            db.session.get(User, person.id).locale = locale
        db.session.commit()

    # Salma writes the event in French.
    page = _signed_in(chromium_browser, tunis, salma)
    page.goto(f"{tunis.url}/events/new")
    assert page.get_attribute("html", "lang") == "fr"
    page.fill("#title", "Atelier de sécurité numérique")
    page.select_option("#kind", "workshop")
    page.fill("#starts_at", "2026-12-18T18:00")
    page.fill("#ends_at", "2026-12-18T20:00")
    page.fill("#timezone", "Europe/Paris")
    page.fill("#city", "Tunis")
    page.select_option("#location_visibility", "secret")
    page.fill("#location", PLACE)
    page.fill("#online_link", LINK)
    page.select_option("#audience", "coalition")
    page.fill("#capacity", "12")
    page.locator("button[type=submit].primary").click()
    page.wait_for_selector(".flash.success")
    uuid = page.url.rsplit("/", 1)[1]
    screenshot(page, "event-french")

    # Amina registers from the Arabic calendar, then sees the secret place.
    page = _signed_in(chromium_browser, tunis, amina)
    page.goto(f"{tunis.url}/events/?view=month&on=2026-12-01")
    assert page.get_attribute("html", "dir") == "rtl"
    page.set_viewport_size({"width": 375, "height": 800})
    screenshot(page, "events-month-arabic-375")
    page.click("text=Atelier de sécurité numérique")
    assert PLACE not in page.content()
    page.locator("form[action$='/register'] button").click()
    page.wait_for_selector(".flash.success")
    assert PLACE in page.content()

    # She downloads the event's calendar file: no place, no link, the right instant.
    with page.expect_download() as download:
        page.click(f"a[href$='{uuid}.ics']")
    body = download.value.path().read_bytes()
    assert b"Qzx" not in body and b"meet.example" not in body
    item = Calendar.from_ical(body).walk("VEVENT")[0]
    assert item.decoded("dtstart").astimezone(UTC) == datetime(2026, 12, 18, 17, tzinfo=UTC)

    # Huda approves it for the hub; one sync later the hub's calendar shows it.
    with tunis.context():
        event = db.session.scalar(db.select(Event).where(Event.uuid == uuid))
        review.approve(event, "hub", db.session.get(User, huda.id))
    assert not [error for error in hub.sync(tunis).values() if error]
    page = _signed_in(chromium_browser, hub, rim)
    page.goto(f"{hub.url}/events/shared?on=2026-12-01")
    shown = page.inner_text("main")
    assert "Atelier de sécurité numérique" in shown and "Tunis" in shown
    assert "Qzx" not in page.content() and "meet.example" not in page.content()
    screenshot(page, "hub-shared-calendar")
