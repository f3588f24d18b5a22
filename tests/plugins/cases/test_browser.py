"""Real Chromium, in Arabic: a documenter documents a case and records consent, a reviewer
approves what the hub will see, and a member sees no identifying value anywhere."""

import pytest

from core.testing import screenshot

pytestmark = pytest.mark.browser

NAME, PHONE = "سلمى بن علي", "+216 20 123 456"


def sign_in(context, server, user):
    page = context.new_page()
    page.goto(f"{server.url}/login")
    page.fill("#username", user.username)
    page.fill("#password", user.password)
    page.click("#submit")
    if user.totp_secret:
        page.wait_for_url(f"{server.url}/login/code")
        page.fill("#code", user.code())
        page.click("#submit")
    page.wait_for_url(f"{server.url}/")
    return page


def test_documenting_reviewing_and_hiding_in_arabic(app, make_user, live_server,
                                                    chromium_browser):
    salma = make_user("salma", role="documenter", locale="ar")
    huda = make_user("huda", role="reviewer", locale="ar", second_factor=True)
    amina = make_user("amina", role="member", locale="ar")
    with live_server(app) as server:
        documenter = chromium_browser.new_context()
        page = sign_in(documenter, server, salma)
        assert page.get_attribute("html", "dir") == "rtl"
        page.goto(f"{server.url}/cases/new")
        page.fill("#title", "ملاحقة قضائية بعد مقابلة إذاعية")
        page.fill("#summary", "استدعيت زيتونة مرتين بعد حديثها في الإذاعة.")
        page.select_option("#risk", "high")
        page.fill("#defender-pseudonym", "زيتونة")
        page.fill("#defender-real_name", NAME)
        page.fill("#defender-contacts", PHONE)
        page.fill("#defender-age", "34")
        page.select_option("#defender-residence", "TN-61:sakiet-ezzit")
        page.check("input[name='defender-activism'][value='womens-rights']")
        page.fill("#incidents-0-occurred_on", "2025-03-14")
        page.select_option("#incidents-0-violation", "judicial-harassment")
        page.select_option("#incidents-0-place", "TN-61")
        page.select_option("#incidents-0-perpetrator_type", "police")
        page.fill("#incidents-0-narrative", f"استجوبت {NAME} ست ساعات حول المقابلة.")
        page.fill("#incidents-0-perpetrator_identity", "العميد المتخيل")
        screenshot(page, "case-form-arabic")
        page.click("#submit")
        page.wait_for_selector("#tasks")
        assert NAME in page.content()
        case_url = page.url
        screenshot(page, "case-detail-arabic")
        uuid = case_url.rsplit("/", 1)[1]
        page.goto(f"{server.url}/records/cases.case/{uuid}/consent")
        page.select_option("#given_by", "defender")
        page.select_option("#method", "oral")
        page.check("input[name='audiences'][value='hub']")
        page.check("input[name='purposes'][value='advocacy']")
        page.fill("#obtained_on", "2025-03-20")
        page.click("#submit")
        page.wait_for_selector(".flash.success")
        documenter.close()

        reviewer = chromium_browser.new_context()
        page = sign_in(reviewer, server, huda)
        page.goto(f"{server.url}/records/cases.case/{uuid}/review")
        hub = page.locator("section.panel").filter(has=page.locator("form"))
        payload = hub.locator(".compare > div").nth(1).inner_text()
        assert "زيتونة" in payload and NAME.split()[0] not in payload and "20 123" not in payload
        screenshot(page, "review-arabic")
        hub.locator("form button").click()
        page.wait_for_selector(".flash.success")
        reviewer.close()

        member = chromium_browser.new_context()
        page = sign_in(member, server, amina)
        seen = []
        for path in (f"/cases/{uuid}", "/cases/", "/cases/?q=%D8%B2%D9%8A%D8%AA%D9%88%D9%86%D8%A9",
                     "/search?q=%D8%B2%D9%8A%D8%AA%D9%88%D9%86%D8%A9"):
            page.goto(f"{server.url}{path}")
            seen.append(page.content())
        exported = page.request.get(f"{server.url}/cases/export.json").text()
        for body in seen + [exported]:
            assert "سلمى" not in body and "20 123 456" not in body and "العميد" not in body
        assert "زيتونة" in seen[0] and "زيتونة" in exported
        screenshot(page, "case-as-member-arabic")
        member.close()
