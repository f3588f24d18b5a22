"""Real Chromium, JavaScript off, on a real hub that synced a real member node's cases: the
statistics page and the advocacy brief (several chosen tables) draw their SVG charts in
Arabic and in English, and
the public page shows no record-level value (canary names typed into the source cases)."""

import random
from datetime import date

import pytest

from core.testing import screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CASES = 12


def canary(number: int, part: str) -> str:
    return f"Zqwidcanary{number:02d}{part} إِيمانُ"


def share_cases(node) -> tuple[list[str], int]:
    """Cases with a canary in every named thing, consented to statistics in public; their
    ids and how many incidents they hold."""
    from core import consent, records, review
    from plugins.cases import sample

    salma, huda = node.make_user("salma", "documenter"), node.make_user("huda", "reviewer")
    shared, incidents = [], 0
    with node.context():
        author = node.user(salma)
        for number in range(CASES):
            case = sample.build(random.Random(number), author)
            case.title, case.restricted = canary(number, "title"), False
            case.defender.pseudonym = canary(number, "pseudonym")
            records.set_identifying(case, case.defender, "real_name", canary(number, "name"))
            for incident in case.incidents:
                incident.violation, incident.place = "judicial-harassment", "TN-61"
                incident.occurred_on = date(2025, 3, 14)
                incident.narrative = canary(number, "narrative")
            records.save(case, author)
            consent.record(case, user=author, given_by="defender", method="oral",
                           audiences=["hub", "public-aggregate"], purposes=["statistics"],
                           obtained_on=date(2026, 1, 1))
            review.approve(case, "hub", node.user(huda))
            shared.append(case.uuid)
            incidents += len(case.incidents)
    return shared, incidents


@pytest.fixture
def hub_with_cases(make_node):
    from federation.testing import pair

    plugins = ["federation", "plugins.cases", "plugins.country_tn"]
    member = make_node("tunis", plugins=plugins, wait=False)
    hub = make_node("hub", role="hub", plugins=plugins, wait=False)
    member.wait(), hub.wait()
    pair(member, hub)
    shared = share_cases(member)
    hub.sync()
    return hub, *shared


def test_charts_in_arabic_and_english_without_javascript_and_no_record_on_the_public_page(
        hub_with_cases, chromium_browser):
    hub, ids, incidents = hub_with_cases
    context = chromium_browser.new_context(java_script_enabled=False)
    page = context.new_page()
    requested = []
    page.on("request", lambda request: requested.append(request.url))

    # The public page, without signing in: counts only, in both languages.
    for lang, direction in (("ar", "rtl"), ("en", "ltr")):
        answer = page.goto(f"{hub.url}/public/statistics?lang={lang}")
        assert answer.status == 200 and "public" in answer.headers["cache-control"]
        assert page.get_attribute("html", "dir") == direction
        assert page.locator("svg.chart").count() == 3
        html = page.content()
        assert "Zqwidcanary" not in html and "إِيمانُ" not in html and "ايمان" not in html
        assert not any(uuid in html for uuid in ids)
        assert f"\t{incidents}\n" in page.inner_text("table.statistics >> nth=0")
        screenshot(page, f"hub-public-{lang}")
    assert not context.cookies()

    # Signed in: the statistics page and the brief, in Arabic and in English.
    reader = hub.make_person("mona", "admin")
    page.goto(f"{hub.url}/login")
    sign_in(page, hub.url, reader)
    for lang, direction in (("ar", "rtl"), ("en", "ltr")):
        page.goto(f"{hub.url}/login")
        page.click(f"button[lang={lang}]")
        page.wait_for_load_state()
        page.goto(f"{hub.url}/federation/statistics?rows=country&columns=violation")
        assert page.get_attribute("html", "dir") == direction
        charts = page.locator("svg.chart")
        assert charts.count() == 2 and charts.first.is_visible()
        assert page.locator("svg.chart title").count() >= 2
        assert page.locator("svg.chart rect").count() >= 1  # a bar is drawn
        screenshot(page, f"hub-statistics-{lang}")
        # several chosen tables, each with its own dimensions and filters, and a trend
        page.goto(f"{hub.url}/federation/statistics/brief?1-rows=violation&2-of=trend"
                  f"&2-since=2025-01&2-until=2025-06&3-rows=country&3-columns=violation"
                  f"&3-violation=judicial-harassment&lang={lang}")
        assert page.get_attribute("html", "lang") == lang
        assert page.locator("svg.chart").count() == 3
        assert page.locator("section.brief-part").count() == 3
        assert page.locator("svg.chart polyline, svg.chart circle").count() >= 1
        assert "2025-01 – 2025-06" in page.inner_text("section.brief-part >> nth=1")
        page.emulate_media(media="print")
        assert not page.locator("nav.page-languages").is_visible()
        assert page.locator("svg.chart >> nth=2").is_visible()
        page.emulate_media(media="screen")
        screenshot(page, f"hub-brief-{lang}")
    assert requested and all(url.startswith(hub.url) for url in requested)
    context.close()
