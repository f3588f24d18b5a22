"""Real Chromium under the node's Content-Security-Policy: hostile Markdown (raw HTML,
``javascript:`` links, image handlers, SVG), titles, tags, bylines and file names render
inert on every library page — no script runs (a dialog would be caught) — and a resource
reads on a 375 px screen and prints without the site's chrome."""

import pytest

from core.extensions import db
from core.models import User
from core.testing import screenshot
from plugins.knowledge import store

from .conftest import PDF, resource_data, upload

pytestmark = [pytest.mark.browser, pytest.mark.slow]

BODY = "\n\n".join([
    "# Guide\n\nDu texte **gras** et un [lien sûr](https://example.org).",
    "<script>alert('raw script')</script>",
    "<img src=x onerror=\"alert('raw img')\">",
    "<svg onload=\"alert('raw svg')\"><script>alert('svg script')</script></svg>",
    "[cliquez](javascript:alert('js link')) [encore](JaVaScRiPt:alert('js link 2'))",
    "[données](data:text/html,<script>alert('data link')</script>)",
    "![image](x\" onerror=\"alert('md img'))",
    "![svg](data:image/svg+xml,<svg onload=alert('svg image')>)",
    "<a href=\"javascript:alert('raw link')\">raw link</a>",
    "<iframe src=\"javascript:alert('iframe')\"></iframe>",
    "<details open ontoggle=\"alert('toggle')\">x</details>",
    "<style>body{display:none}</style>",
    "| a | b |\n|---|---|\n| <b onmouseover=alert('cell')>x</b> | 2 |",
])
TITLE = "<img src=x onerror=alert('title')> Guide <script>alert('title2')</script>"
TAGS = "<svg onload=alert('tag')>, \"><script>alert('tag2')</script>"
FILE_NAME = "<img src=x onerror=alert('file')>.pdf"


def _sign_in(context, server, user):
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


def test_hostile_text_is_inert_and_a_resource_reads_on_a_phone_and_prints(
        app, make_user, live_server, chromium_browser):
    salma = make_user("salma", role="documenter")
    amina = make_user("amina", role="member", locale="ar")
    with app.test_request_context():
        author = db.session.get(User, salma.id)
        french = store.write(None, resource_data(title=TITLE, body=BODY, tags=TAGS,
                                                 byline="<b onclick=alert('byline')>Nissa</b>"),
                             author, upload=upload(PDF, FILE_NAME))
        store.write(None, resource_data(language="ar", title="دليل <script>alert('ar')</script>",
                                        body="## قبل المظاهرة\n\n" + BODY, tags=TAGS,
                                        translation_of=french.uuid), author)
        store.write(french, resource_data(title=TITLE, body=BODY + "\n\nv2", tags=TAGS), author)
        uuid = french.uuid
    dialogs: list[str] = []
    with live_server(app) as server:
        context = chromium_browser.new_context()
        page = _sign_in(context, server, salma)
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        # The detector works: a script that does run is caught.
        page.evaluate("() => alert('detector')")
        assert dialogs == ["detector"]
        dialogs.clear()

        for path in (f"/knowledge/r/{uuid}", "/knowledge/", f"/knowledge/r/{uuid}/versions/1",
                     "/knowledge/tags/" + "<svg onload=alert('tag')>", f"/knowledge/r/{uuid}/edit",
                     "/"):
            answer = page.goto(server.url + path)
            assert answer.status == 200, path
            assert "default-src 'self'" in answer.headers["content-security-policy"]
            page.wait_for_load_state("load")
            page.evaluate("""() => document.querySelectorAll('main *').forEach(el => {
                for (const kind of ['mouseover', 'focus', 'toggle', 'load', 'error'])
                    el.dispatchEvent(new Event(kind)); })""")
            assert dialogs == [], path
            assert page.locator("main script, main svg, main iframe, main style").count() == 0
            assert page.locator("main [onerror], main [onload], main [onclick], "
                                "main [onmouseover], main [ontoggle]").count() == 0, path
            hrefs = page.eval_on_selector_all("main a[href]", "els => els.map(e => e.href)")
            assert not [h for h in hrefs if h.lower().startswith(("javascript:", "data:"))], path
        page.goto(f"{server.url}/knowledge/r/{uuid}")
        assert "alert('title')" in page.inner_text("h1")  # shown as text, not run
        assert FILE_NAME in page.inner_text(".files")

        # The editor's preview renders the same text inert.
        page.goto(f"{server.url}/knowledge/new")
        page.fill("#title", TITLE)
        page.fill("#body", BODY)
        page.select_option("#language", "fr")
        page.click("button[name=preview]")
        page.wait_for_selector(".preview")
        assert dialogs == []
        assert page.locator(".preview script, .preview svg, .preview [onerror]").count() == 0
        assert "gras" in page.inner_text(".preview strong")
        screenshot(page, "knowledge-editor-preview")

        # A member reads it in Arabic on a 375 px screen: nothing wider than the screen.
        reader = _sign_in(chromium_browser.new_context(viewport={"width": 375, "height": 800}),
                          server, amina)
        reader.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        reader.goto(f"{server.url}/knowledge/r/{uuid}")
        assert reader.get_attribute("html", "dir") == "rtl"
        assert reader.evaluate("document.documentElement.scrollWidth") <= 375
        assert reader.locator("article[lang=ar]").count() == 1
        screenshot(reader, "knowledge-resource-375")
        reader.goto(f"{server.url}/knowledge/")
        wide = reader.evaluate("""() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > 376 || e.getBoundingClientRect().left < -1)
            .map(e => e.tagName + '.' + e.className + ' ' + e.getBoundingClientRect().left + '-' + e.getBoundingClientRect().right).slice(0, 12)""")
        assert reader.evaluate("document.documentElement.scrollWidth") <= 375, wide
        screenshot(reader, "knowledge-library-375")

        # It prints without the menu, the forms and the sharing panels.
        reader.emulate_media(media="print")
        reader.goto(f"{server.url}/knowledge/r/{uuid}")
        assert not reader.locator("header.site").is_visible()
        assert not reader.locator("nav.actions, .sharing, .versions").first.is_visible()
        assert reader.locator("article.main > h1").is_visible()
        screenshot(reader, "knowledge-resource-print")
        assert dialogs == []
