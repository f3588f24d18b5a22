"""Real Chromium on a real node process: a member reads, in Arabic, what a partner shared."""

import pytest

from core.testing import TEST_PASSWORD, screenshot, sign_in

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


def test_two_administrators_pair_their_nodes_by_fingerprint(make_node, chromium_browser):
    from federation import peers

    tunis, sfax = make_node("tunis", wait=False), make_node("sfax", wait=False)
    tunis.wait(), sfax.wait()
    hana, rim = tunis.make_person("hana", "admin"), sfax.make_person("rim", "admin")
    at_tunis = chromium_browser.new_context().new_page()
    at_sfax = chromium_browser.new_context().new_page()
    requested = []
    for page in (at_tunis, at_sfax):
        page.on("request", lambda request: requested.append(request.url))
    for page, node, person in ((at_tunis, tunis, hana), (at_sfax, sfax, rim)):
        page.goto(f"{node.url}/login")
        sign_in(page, node.url, person)

    # Each reads her node's fingerprint on its page, to read to the other by phone.
    at_sfax.goto(f"{sfax.url}/federation/peers")
    read_from_sfax = at_sfax.inner_text(".fingerprint")
    at_tunis.goto(f"{tunis.url}/federation/peers")
    read_from_tunis = at_tunis.inner_text(".fingerprint")
    assert read_from_sfax == sfax.fingerprint and read_from_tunis == tunis.fingerprint

    # Hana adds Sfax; one digit misheard is refused and adds nothing.
    at_tunis.click("text=Add a partner node or the hub")
    at_tunis.fill("#url", sfax.url)
    misheard = read_from_sfax[:-1] + ("0" if read_from_sfax[-1] != "0" else "1")
    at_tunis.fill("#fingerprint", misheard)
    at_tunis.click("#submit")
    assert at_tunis.locator("[role=alert]").count() == 1
    assert "fingerprint" in at_tunis.inner_text("[role=alert]").lower()
    with tunis.context():
        assert peers.everyone() == []
    at_tunis.fill("#fingerprint", read_from_sfax)
    at_tunis.fill("#label", "Sfax")
    at_tunis.click("#submit")
    at_tunis.wait_for_url(f"{tunis.url}/federation/peers")
    assert "now approves this node with its fingerprint" in at_tunis.inner_text("main")

    # Rim sees Tunis waiting and approves it with the fingerprint Hana read her.
    at_sfax.reload()
    waiting = at_sfax.locator("form.part", has_text=tunis.node_id)
    waiting.locator("[name=fingerprint]").fill(read_from_tunis)
    waiting.locator("[name=label]").fill("Tunis")
    waiting.locator("[type=submit]").click()
    at_sfax.wait_for_url(f"{sfax.url}/federation/peers")
    assert "the two nodes are paired" in at_sfax.inner_text("main")
    assert "Tunis" in at_sfax.inner_text("table")
    at_tunis.reload()
    assert "Sfax" in at_tunis.inner_text("table")
    screenshot(at_sfax, "peers-paired")
    with sfax.context():
        assert peers.find(tunis.node_id).approved
    with tunis.context():
        assert peers.find(sfax.node_id).approved
    assert requested and all(url.startswith((tunis.url, sfax.url)) for url in requested)
