"""Real Chromium: signing in with password and second factor, in Arabic and in English."""

import pytest

from core.testing import screenshot, sign_in

pytestmark = pytest.mark.browser


def test_signing_in_in_arabic_shows_a_right_to_left_page(app, make_user, live_server, browser_page):
    salma = make_user("salma", role="documenter")
    with live_server(app) as server:
        page = browser_page
        page.goto(f"{server.url}/login")
        page.click("button[lang=ar]")
        page.wait_for_load_state()
        assert page.get_attribute("html", "dir") == "rtl"
        assert page.get_attribute("html", "lang") == "ar"
        sign_in(page, server.url, salma)
        assert page.get_attribute("html", "dir") == "rtl"
        heading = page.inner_text("h1")
        assert "salma" in heading and "Welcome" not in heading
        assert any("\u0600" <= char <= "\u06ff" for char in heading)  # written in Arabic
        # Mirrored layout: the brand sits at the right edge in Arabic.
        brand = page.locator(".brand").bounding_box()
        width = page.viewport_size["width"]
        assert brand["x"] > width / 2
        screenshot(page, "home-arabic")


def test_signing_in_in_english(app, make_user, live_server, browser_page):
    nour = make_user("nour", role="admin")
    with live_server(app) as server:
        page = browser_page
        page.goto(f"{server.url}/login")
        assert page.get_attribute("html", "dir") == "ltr"
        sign_in(page, server.url, nour)
        assert "Welcome, nour" in page.inner_text("h1")
        assert page.locator(".brand").bounding_box()["x"] < page.viewport_size["width"] / 2
        page.click("text=Users")
        page.wait_for_url(f"{server.url}/admin/users")
        screenshot(page, "users-english")


def test_pages_load_nothing_from_elsewhere(app, make_user, live_server, browser_page):
    amina = make_user("amina")
    requested = []
    browser_page.on("request", lambda request: requested.append(request.url))
    with live_server(app) as server:
        browser_page.goto(f"{server.url}/login")
        browser_page.fill("#username", amina.username)
        browser_page.fill("#password", amina.password)
        browser_page.click("#submit")
        browser_page.wait_for_url(f"{server.url}/")
    assert requested and all(url.startswith(server.url) for url in requested)


def test_enrolment_shows_recovery_codes_and_one_signs_her_in(app, make_user, live_server,
                                                             chromium_browser, browser_page):
    import pyotp

    salma = make_user("salma", role="documenter", second_factor=False)
    with live_server(app) as server:
        page = browser_page
        page.goto(f"{server.url}/login")
        page.fill("#username", salma.username)
        page.fill("#password", salma.password)
        page.click("#submit")
        page.wait_for_url(f"{server.url}/second-factor")
        secret = page.inner_text(".secret code").replace(" ", "")
        page.fill("#code", pyotp.TOTP(secret).now())
        page.click("#submit")
        page.wait_for_selector(".recovery-codes")
        codes = page.locator(".recovery-codes code").all_inner_texts()
        assert len(codes) == 10 and all(len(code.replace(" ", "")) == 16 for code in codes)
        screenshot(page, "recovery-codes")
        page.click("text=I have written them down")
        page.wait_for_url(f"{server.url}/")
        assert "Welcome, salma" in page.inner_text("h1")
        # Another day, another browser, no phone: her password and a code she wrote down,
        # typed with Arabic-Indic digits.
        context = chromium_browser.new_context()
        try:
            other = context.new_page()
            other.goto(f"{server.url}/login")
            other.fill("#username", salma.username)
            other.fill("#password", salma.password)
            other.click("#submit")
            other.wait_for_url(f"{server.url}/login/code")
            assert "recovery codes" in other.inner_text("main")
            other.fill("#code", codes[2].translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")))
            other.click("#submit")
            other.wait_for_url(f"{server.url}/account/")
            text = other.inner_text("main")
            assert "You signed in with a recovery code. 9 codes are left." in text
            assert "Set up a new phone" in text
            screenshot(other, "signed-in-with-a-recovery-code")
        finally:
            context.close()
