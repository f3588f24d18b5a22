"""Real Chromium on a real node process: a member reads, in Arabic, what a partner shared."""

import pytest

from core.testing import TEST_PASSWORD, screenshot

pytestmark = pytest.mark.browser


def test_a_member_reads_a_shared_record_in_arabic(shared, browser_page):
    page, sfax = browser_page, shared.sfax
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{sfax.url}/login")
    page.click("button[lang=ar]")
    page.wait_for_load_state()
    page.fill("#username", "amina")
    page.fill("#password", TEST_PASSWORD)
    page.click("#submit")
    page.wait_for_url(f"{sfax.url}/")
    page.click("text=ما شُورك معنا")
    page.wait_for_url(f"{sfax.url}/federation/shared")
    assert page.get_attribute("html", "dir") == "rtl"
    page.click(f"text={shared.uuid[:8]}")
    page.wait_for_url(f"{sfax.url}{shared.url}")
    text = page.inner_text("main")
    assert "Summons after a radio interview" in text and "[redacted]" in text
    assert "Salma" not in text and "Ben Ali" not in text
    assert "كما شُورك" in text
    screenshot(page, "shared-record-arabic")
    assert requested and all(url.startswith(sfax.url) for url in requested)
