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
        payload = "\n".join(page.locator("table.comparison td.leaves").all_inner_texts())
        assert "زيتونة" in payload and NAME.split()[0] not in payload and "20 123" not in payload
        screenshot(page, "review-arabic")
        page.locator("#audience-hub form button").click()
        page.wait_for_selector(".flash.success")
        reviewer.close()

        member = chromium_browser.new_context()
        page = sign_in(member, server, amina)
        seen = []
        for path in (f"/cases/{uuid}", "/cases/"):
            page.goto(f"{server.url}{path}")
            seen.append(page.content())
        for box in ("#q", "#site-search"):  # the list's words, then the search box's
            page.fill(box, "زيتونة")
            with page.expect_navigation():
                page.press(box, "Enter")
            seen.append(page.content())
        exported = page.request.get(f"{server.url}/cases/export.json").text()
        for body in seen + [exported]:
            assert "سلمى" not in body and "20 123 456" not in body and "العميد" not in body
        assert "زيتونة" in seen[0] and "زيتونة" in exported
        screenshot(page, "case-as-member-arabic")
        member.close()



def test_words_and_names_searched_for_stay_out_of_addresses_and_history(
        app, make_user, login_as, live_server, chromium_browser, tmp_path):
    """Find-by-name, the list's words and the search box post what is typed: no address the
    browser visits holds it, nor Chromium's History or form-autofill databases."""
    from urllib.parse import unquote

    from core.testing import CHROMIUM, CHROMIUM_ARGS
    from tests.plugins.cases.conftest import case_form

    name, word, other_word = "Warda Zitouni", "palmeraie", "oliveraie"
    salma = make_user("salma", role="documenter")
    login_as(salma).submit("/cases/new", case_form(**{
        "defender-real_name": name, "title": f"Threats near the {word}",
        "summary": f"Olive was followed from the {other_word} twice."}))
    reference = _only_reference(app)
    # as someone reads it out: lower case, O for 0, L for 1, spaces for dashes
    spoken = reference.lower().replace("0", "o").replace("1", "l").replace("-", " ")
    profile, visited = tmp_path / "profile", []
    with live_server(app) as server:
        context = chromium_browser.browser_type.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = sign_in(context, server, salma)
        page.on("framenavigated", lambda frame: visited.append(frame.url))
        page.goto(f"{server.url}/cases/find")
        page.fill("#name", name.lower())
        with page.expect_navigation():
            page.click("button[type=submit].primary")
        assert reference in page.content() and name.lower() not in page.content()
        for box, typed in (("#q", word), ("#q", spoken), ("#site-search", other_word)):
            page.goto(f"{server.url}/cases/")
            page.fill(box, typed)
            with page.expect_navigation():
                page.press(box, "Enter")
            assert reference in page.content(), typed
            visited.append(page.url)
        context.close()  # Chromium writes its History down
    secrets = [name, "warda", "zitouni", word, other_word, spoken, reference,
               reference.replace("-", "")]
    addresses = [unquote(url).casefold() for url in visited]
    assert len(addresses) >= 8 and not _holding(addresses, secrets)
    urls, terms = _history(profile, tmp_path)
    assert any("/cases/find" in url for url in urls)  # History does record this browsing
    assert not _holding(urls, secrets) and terms == []
    assert not _holding(_autofill(profile, tmp_path), secrets)


def _only_reference(app) -> str:
    from sqlalchemy import select

    from core.extensions import db
    from plugins.cases.models import Case

    with app.app_context():
        return db.session.scalar(select(Case)).reference


def _holding(texts: list[str], secrets: list[str]) -> list[tuple[str, str]]:
    return [(secret, text) for text in texts for secret in secrets
            if secret.casefold() in text.casefold()]


def _copied_database(path, tmp_path):
    """A SQLite database of the profile, copied (Chromium may still hold it)."""
    import shutil
    import sqlite3

    copy = tmp_path / f"copy-{path.name}"
    shutil.copy(path, copy)
    return sqlite3.connect(copy)


def _history(profile, tmp_path) -> tuple[list[str], list[str]]:
    """Every address and title in Chromium's History, and its typed search terms."""
    from urllib.parse import unquote

    with _copied_database(profile / "Default" / "History", tmp_path) as database:
        urls = [f"{unquote(url)} {title or ''}"
                for url, title in database.execute("SELECT url, title FROM urls")]
        terms = [row[0] for row in database.execute("SELECT term FROM keyword_search_terms")]
    return urls, terms


def _autofill(profile, tmp_path) -> list[str]:
    """What Chromium would offer to fill in again (its "Web Data" autofill table)."""
    path = profile / "Default" / "Web Data"
    if not path.exists():
        return []
    with _copied_database(path, tmp_path) as database:
        tables = {row[0] for row in database.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "autofill" not in tables:
            return []
        return [row[0] for row in database.execute("SELECT value FROM autofill")]


def test_the_review_marks_a_name_the_scrubber_did_not_know(app, make_user, login_as,
                                                           live_server, chromium_browser):
    """A lawyer named only in the narrative and an exact date are not in any field of the case,
    so scrubbing cannot know them: the review page, in Arabic, marks them in what would leave,
    shows that payload once, beside the record as written, right to left."""
    from tests.plugins.cases.conftest import case_form

    salma = make_user("salma", role="documenter", locale="ar")
    huda = make_user("huda", role="reviewer", locale="ar", second_factor=True)
    narrative = ("التقت سلمى بن علي مع المحامي كريم الحداد يوم 14 نوفمبر؛ "
                 "Her lawyer Karim Haddad filed a complaint.")
    client = login_as(salma)
    response = client.submit("/cases/new", case_form(**{
        "defender-real_name": NAME, "incidents-0-narrative": narrative}))
    uuid = response.headers["Location"].rsplit("/", 1)[-1]
    page_of_consent = f"/records/cases.case/{uuid}/consent"
    client.submit(page_of_consent, {"given_by": "defender", "method": "oral",
                                    "audiences": ["peers", "hub"], "purposes": ["advocacy"],
                                    "obtained_on": "2025-03-20", "expires_on": ""})
    with live_server(app) as server:
        page = sign_in(chromium_browser.new_context(), server, huda)
        page.goto(f"{server.url}/records/cases.case/{uuid}/review")
        assert page.get_attribute("html", "dir") == "rtl"
        row = page.locator("table.comparison tr").filter(has_text="كريم").last
        leaves = row.locator("td.leaves")
        marked = leaves.locator("mark.suspect").all_inner_texts()
        assert any("Karim" in text or "Haddad" in text for text in marked), marked
        assert any("الحداد" in text or "كريم" in text for text in marked), marked
        assert any("14" in text for text in marked), marked  # the exact date
        assert "سلمى" not in leaves.inner_text()  # her recorded name is scrubbed, not marked
        assert "سلمى بن علي" in row.locator("td.as-written").inner_text()
        # once: the narrative leaves for peers and the hub alike, shown in one cell
        assert page.locator("td.leaves").filter(has_text="Karim").count() == 1
        assert "→" not in leaves.inner_text()  # same value for every audience: no split
        # right to left: the field's name stands at the right, what leaves at the left
        field, written, out = (row.locator(cell).bounding_box()
                               for cell in ("th", "td.as-written", "td.leaves"))
        assert field["x"] > written["x"] > out["x"]
        height = page.evaluate("document.documentElement.scrollHeight")
        screenshot(page, "review-marks-arabic")
        assert height < 4000, height  # one table, not the record three times over

