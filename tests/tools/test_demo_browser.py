"""Real Chromium across the demo (``tools.demo.Demo``: a hub and three member nodes, each on
its own SQLite file, served over HTTP on 127.0.0.1 by a gunicorn process of its own, synced by
rounds of the real `rabita sync`): a documenter on the Tunisia node records a case with the defender's
consent and a reviewer approves it; after a sync round the hub's statistics count it — hidden
while fewer than k cases are counted, shown once enough are — and the other members hold it;
she withdraws the consent on her node and, after the next round, the hub's counts and the
other nodes' Shared with us no longer have it."""

from __future__ import annotations

import secrets
from datetime import date

import pytest

from core.testing import TestUser
from tests.fixtures.pages import approve, fill_case, record_consent, sign_in, withdraw_consent
from tools.demo import DEMO_PASSWORD, Demo

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# The month the test's cases happened in: the demo's fictional cases all fall in the five years
# before today (plugins/cases/sample.py), so this month holds only what the test shares — which
# the test checks on the hub's page before it shares anything.
MONTH = f"{date.today().year - 7}-05"
VIOLATION = "judicial-harassment"
FILTERS = f"since={MONTH}&until={MONTH}&country=TN&violation={VIOLATION}"  # the hub's pages


def person(accounts: dict, username: str) -> TestUser:
    """A demo account as the page helpers sign her in."""
    account = accounts[username]
    return TestUser(None, username, account["role"], DEMO_PASSWORD, account["totp"])


@pytest.fixture
def open_page(chromium_browser):
    """A new page with its own cookies (closed after the test): ``open_page()``."""
    contexts = []

    def open_page():
        context = chromium_browser.new_context(locale="en-GB")
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def document(page, node, *, title: str, audiences, purposes) -> str:
    """She writes a case that happened in MONTH, in Sfax, and records the defender's consent;
    returns its id."""
    page.goto(f"{node.url}/cases/new")
    fill_case(page, "fr", title=title, occurred_on=f"{MONTH}-14", violation=VIOLATION,
              narrative="Convoquée au poste de police après l'entretien à la radio.")
    page.click("#submit")
    page.wait_for_selector("#workflow")
    uuid = page.url.rsplit("/", 1)[1]
    record_consent(page, node, uuid, audiences=audiences, purposes=purposes)
    return uuid


def counted(page, hub) -> int | None:
    """The hub's count of incidents of VIOLATION in Tunisia in MONTH, as its statistics page
    shows it: a number, or None where it is hidden."""
    page.goto(f"{hub.url}/federation/statistics?measure=incidents&rows=violation&{FILTERS}")
    return _total(page.locator("#main-table tfoot td").last)


def counted_in_public(open_page, hub) -> int | None:
    """The same count on the hub's public page, read by anyone (a new browser: the page may
    be kept in a browser's cache for minutes)."""
    page = open_page()
    page.goto(f"{hub.url}/public/statistics?{FILTERS}")
    return _total(page.locator("#public-table-1 tfoot td").last)


def _total(total) -> int | None:
    if total.locator(".suppressed").count():
        return None
    return int(total.inner_text())


def shown(count: int, k: int) -> int | None:
    """What the page must show of a true count: itself, or nothing when 0 < count < k."""
    return None if 0 < count < k else count


def found(page, node, canary: str) -> list[str]:
    """The addresses of the records the node's Shared with us finds by the canary word."""
    page.goto(f"{node.url}/federation/shared?q={canary}")
    links = page.locator("main table tbody a[href*='/federation/shared/']")
    return [f"{node.url}{links.nth(n).get_attribute('href')}" for n in range(links.count())]


def test_a_case_counted_at_the_hub_then_withdrawn_everywhere(tmp_path, open_page):
    with Demo(tmp_path / "demo") as demo:
        servers = demo.servers.values()
        hub = next(server for server in servers if server.role == "hub")
        tunis = next(server for server in servers if server.country == "TN")
        others = [s for s in servers if s.role != "hub" and s is not tunis]  # Egypt, Lebanon
        k = demo.statistics_k()
        canary = f"zqcanary{secrets.token_hex(4)}"
        documenter, reviewer, reader = open_page(), open_page(), open_page()
        sign_in(documenter, tunis, person(demo.accounts, "salma"))
        sign_in(reviewer, tunis, person(demo.accounts, "huda"))
        sign_in(reader, hub, person(demo.accounts, "amina"))
        readers = [(node, open_page()) for node in others]
        for node, page in readers:
            sign_in(page, node, person(demo.accounts, "amina"))

        # What the hub counts in that month before the test shares anything: a figure shown.
        before, in_public = counted(reader, hub), counted_in_public(open_page, hub)
        assert None not in (before, in_public), "the hub hides its count for the test's month"

        # Salma documents a case with the defender's consent for the hub's statistics and for
        # partner nodes; Huda approves what leaves for each; one sync round: the hub counts it
        # (hidden while the month's count is below k) and the other nodes hold it.
        uuid = document(documenter, tunis, title=f"Convocation {canary}",
                        audiences=["hub", "peers"], purposes=["statistics", "advocacy"])
        approve(reviewer, tunis, uuid, ["hub", "peers"])
        assert demo.sync_round() == []
        assert counted(reader, hub) == shown(before + 1, k)
        holders = [(hub, reader), *readers]
        held = {}
        for node, page in holders:
            addresses = found(page, node, canary)
            assert len(addresses) == 1 and uuid in addresses[0], (node.key, addresses)
            held[node.key] = addresses[0]
            page.goto(held[node.key])
            assert canary in page.inner_text("main")

        # k more cases for the hub's statistics only: now the month's count is shown (to the
        # hub's people: no defender consented to the public page).
        for number in range(k):
            more = document(documenter, tunis, title=f"Convocation {number}",
                            audiences=["hub"], purposes=["statistics"])
            approve(reviewer, tunis, more, ["hub"])
        assert demo.sync_round() == []
        assert counted(reader, hub) == before + 1 + k
        assert counted_in_public(open_page, hub) == in_public  # none consented to the public

        # She withdraws the first case's consent on its page; after a round the hub counts it
        # no more and no node holds it.
        withdraw_consent(documenter, tunis, uuid)
        assert demo.sync_round() == []
        assert counted(reader, hub) == before + k
        for node, page in holders:
            assert found(page, node, canary) == []
            assert page.goto(held[node.key]).status == 404
