"""Real Chromium on real node processes, in Arabic and French, on a laptop and a phone: a
documenter's session ends mid-testimony and nothing she typed is lost; a case goes from its
documenter to the review queue, back to her with a note, fixed, approved, taken by two
partner nodes synced from their pages, withdrawn — and she reads that both deleted it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import update

from core import clock
from core.extensions import db
from core.models import ServerSession
from core.testing import add_person, screenshot
from federation.testing import pair
from tests.fixtures.pages import NAME, fill_case, record_consent, sign_in, withdraw_consent

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PLUGINS = ["federation", "plugins.cases", "plugins.country_tn"]
SIZES = {"laptop": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 760}}
TESTIMONY = {
    "ar": "استدعيت إلى مركز الشرطة بعد المقابلة الإذاعية، وسئلت ست ساعات عن كل ضيف في "
          "برنامجها وعن مصادر تمويل الجمعية. هددوها بمنع السفر إن تحدثت مرة أخرى. ",
    "fr": "Convoquée au poste de police après l'entretien à la radio, interrogée six heures "
          "sur chaque invité de son émission et sur le financement de l'association. On l'a "
          "menacée d'une interdiction de voyager si elle reparlait. ",
}


def person(node, username, role, language):
    with node.context():
        return add_person(username, role, locale=language)


def open_page(browser, size):
    context = browser.new_context(viewport=SIZES[size])
    return context, context.new_page()


def end_sessions(node, who):
    """Her session ends as 45 minutes idle end it (its row stays until purged)."""
    with node.context():
        db.session.execute(update(ServerSession).where(ServerSession.user_id == who.id)
                           .values(last_seen_at=clock.now() - timedelta(minutes=45)))
        db.session.commit()


@pytest.mark.parametrize("language", ["ar", "fr"])
@pytest.mark.parametrize("size", ["laptop", "phone"])
def test_her_session_ends_mid_testimony_and_nothing_is_lost(make_node, chromium_browser,
                                                            language, size):
    tunis = make_node("tunis", plugins=PLUGINS)
    salma = person(tunis, "salma", "documenter", language)
    context, page = open_page(chromium_browser, size)
    sign_in(page, tunis, salma)
    assert page.get_attribute("html", "lang") == language
    page.goto(f"{tunis.url}/cases/new")
    narrative = TESTIMONY[language] * 12  # a long testimony
    fill_case(page, language, narrative=narrative)
    page.click("button[name=add_incident]")  # a second incident, on the first form
    page.wait_for_selector("#incidents-1-narrative")
    page.fill("#incidents-1-narrative", TESTIMONY[language])
    page.select_option("#incidents-1-violation", "travel-ban")
    page.select_option("#incidents-1-place", "TN-11")
    end_sessions(tunis, salma)  # she stopped to listen, for 45 minutes
    page.click("#submit")
    page.wait_for_url(f"{tunis.url}/login")
    assert page.locator(".flash.error").count() == 1
    screenshot(page, f"desk-session-ended-{language}-{size}")
    sign_in(page, tunis, salma, steps_ahead=1, lands=r"/cases/new\?draft=")
    assert page.input_value("#incidents-0-narrative") == narrative
    assert page.input_value("#incidents-1-narrative") == TESTIMONY[language]
    assert page.input_value("#defender-real_name") == NAME[language]
    assert page.input_value("#defender-contacts") == "+216 20 123 456"
    screenshot(page, f"desk-testimony-restored-{language}-{size}")
    with page.expect_navigation():
        page.click("#submit")
    assert page.locator("#workflow").count() == 1, page.locator(".errors").all_inner_texts()
    assert TESTIMONY[language].split()[0] in page.inner_text("main")
    context.close()


def wait_for_sync(page, node):
    """Her partner page refreshes itself while the round runs; its result is then said."""
    for _ in range(60):
        page.wait_for_timeout(1000)
        page.goto(f"{node.url}/federation/peers")
        if page.locator(".sync-state").count() and page.locator(
                "form[action$='/sync'] button").count():
            return page.inner_text(".sync-state")
    raise AssertionError("the sync did not end")


def sync_from_the_page(page, node):
    page.goto(f"{node.url}/federation/peers")
    page.click("form[action$='/sync'] button")
    page.wait_for_url(re.compile(re.escape(node.url) + "/federation/peers"))
    said = wait_for_sync(page, node)
    assert re.search(r"\d\d:\d\d:\d\d", said), said
    return said


@pytest.mark.parametrize("language", ["ar", "fr"])
@pytest.mark.parametrize("size", ["laptop", "phone"])
def test_a_case_from_documenter_to_deleted_on_both_holders(make_node, chromium_browser,
                                                           language, size):
    tunis = make_node("tunis", plugins=PLUGINS, wait=False)
    sfax = make_node("sfax", plugins=PLUGINS, wait=False)
    gabes = make_node("gabes", plugins=PLUGINS, wait=False)
    for node in (tunis, sfax, gabes):
        node.wait()
    pair(tunis, sfax)
    pair(tunis, gabes)
    salma = person(tunis, "salma", "documenter", language)
    huda = person(tunis, "huda", "reviewer", language)
    admins = {sfax: person(sfax, "rim", "admin", language),
              gabes: person(gabes, "lina", "admin", language)}
    documenter_context, documenter = open_page(chromium_browser, size)
    reviewer_context, reviewer = open_page(chromium_browser, size)
    sign_in(documenter, tunis, salma)
    sign_in(reviewer, tunis, huda)

    # The documenter writes the case and records the defender's consent for partner nodes.
    documenter.goto(f"{tunis.url}/cases/new")
    fill_case(documenter, language, narrative=TESTIMONY[language])
    documenter.click("#submit")
    documenter.wait_for_selector("#workflow")
    uuid = documenter.url.rsplit("/", 1)[1]
    record_consent(documenter, tunis, uuid, audiences=["peers"], purposes=["advocacy"])

    # The reviewer finds it counted on her home page, and sends it back with a note.
    reviewer.goto(f"{tunis.url}/")
    assert "<strong>1</strong>" in reviewer.inner_html(".stats a[href$='/cases/review-queue']")
    reviewer.click("a[href$='/cases/review-queue']")
    reviewer.click(f"a[href$='/cases/{uuid}']")
    note = "Précisez le poste de police." if language == "fr" else "حددي مركز الشرطة."
    reviewer.fill("#note", note)
    reviewer.click(".send-back [type=submit]")
    reviewer.wait_for_selector(".flash.success")
    screenshot(reviewer, f"desk-sent-back-{language}-{size}")

    # She reads the note on her case, sees what would leave, and fixes it.
    documenter.goto(f"{tunis.url}/cases/{uuid}")
    assert note in documenter.inner_text(".review-note")
    documenter.click(f"a[href$='/cases/{uuid}/outgoing']")
    leaving = documenter.inner_text("main")
    assert NAME[language] not in leaving and "123 456" not in leaving
    screenshot(documenter, f"desk-outgoing-{language}-{size}")
    documenter.goto(f"{tunis.url}/cases/{uuid}/edit")
    documenter.fill("#summary", note)
    documenter.click("#submit")
    documenter.wait_for_selector("#workflow")

    # Back in the queue; approved.
    reviewer.goto(f"{tunis.url}/cases/review-queue")
    reviewer.click(f"a[href$='/records/cases.case/{uuid}/review']")
    reviewer.locator("#audience-peers form button").click()
    reviewer.wait_for_selector(".flash.success")
    reviewer.goto(f"{tunis.url}/cases/review-queue")
    assert reviewer.locator(f"a[href$='/cases/{uuid}']").count() == 0

    # Each partner's administrator syncs from her page: both now hold it.
    holder_pages = {}
    for node, admin in admins.items():
        context, page = open_page(chromium_browser, size)
        sign_in(page, node, admin)
        sync_from_the_page(page, node)
        holder_pages[node] = page
    screenshot(holder_pages[sfax], f"desk-synced-{language}-{size}")
    documenter.goto(f"{tunis.url}/cases/{uuid}")
    assert documenter.locator(".holders li").count() == 2

    # She withdraws the consent; the partners sync again and delete their copies.
    withdraw_consent(documenter, tunis, uuid)
    for node, page in holder_pages.items():
        sync_from_the_page(page, node)
    documenter.goto(f"{tunis.url}/cases/{uuid}")
    counted = documenter.inner_text(".deleted-count")
    assert re.findall(r"\d+", counted) == ["2", "2"], counted
    screenshot(documenter, f"desk-deleted-on-both-{language}-{size}")
    for context in (documenter_context, reviewer_context):
        context.close()
