"""The hub's public page: no sign-in, the same for everyone (no session, no cookie, no CSRF
token, cacheable), only what ``public-aggregate`` consent allows, with the public k."""

import random

import pytest

from core.hookspecs import hookimpl
from core.plugins import plugin_manager
from core.testing import add_person, all_databases, signed_in_client
from tests.federation.conftest import Origin
from tests.federation.test_statistics_pages import case, fill


@pytest.fixture
def hub(federation_app):
    return federation_app(FEDERATION_ROLE="hub", FEDERATION_STATISTICS_PUBLIC_K=10)


def filled(hub):
    """Public: 30 detentions, 25 judicial harassments and 7 threats (below the public k of 10); hub only: 50 smear
    campaigns (counted for members, never in public). Suppression is decided month by month:
    in January the 7 threats are hidden with the next smallest count (12 harassments)."""
    member, rng = Origin(seed=9), random.Random(9)
    fill(hub, member, [case(rng, "arbitrary-detention", "2025-01") for _ in range(30)] +
         [case(rng, "judicial-harassment", "2025-01") for _ in range(12)] +
         [case(rng, "judicial-harassment", "2025-02") for _ in range(13)] +
         [case(rng, "threats", "2025-01") for _ in range(7)],
         audiences=("hub", "public-aggregate"))
    fill(hub, member, [case(rng, "smear-campaign") for _ in range(50)])
    return member


@all_databases
def test_only_public_aggregate_counts_with_the_public_k(hub):
    member = filled(hub)
    answer = hub.test_client().get("/public/statistics?lang=en")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "<td>30</td>" in html and "<td>7</td>" not in html
    assert "smear-campaign" not in html  # consented to the hub only
    assert "fewer than 10" in html and html.count("<svg") == 3
    assert member.node_id not in html  # no member named, no record linked
    assert "/federation/shared/" not in html and "<form" not in html


def test_the_page_is_cacheable_and_the_same_for_everyone(hub):
    filled(hub)
    with hub.app_context():
        person = add_person("reader", "member")
    anonymous = hub.test_client().get("/public/statistics?lang=ar",
                                      headers={"Accept-Language": "fr"})
    signed_in = signed_in_client(hub, person.id).get("/public/statistics?lang=ar",
                                                     headers={"Accept-Language": "en"})
    for answer in (anonymous, signed_in):
        assert answer.status_code == 200
        assert answer.headers["Cache-Control"] == "public, max-age=300"
        assert "Set-Cookie" not in answer.headers and "Vary" not in answer.headers
        assert "csrf" not in answer.get_data(as_text=True).lower()
        assert '<html lang="ar" dir="rtl">' in answer.get_data(as_text=True)
    assert anonymous.get_data() == signed_in.get_data()
    # signed-in pages are still never kept
    assert signed_in_client(hub, person.id).get("/federation/statistics") \
        .headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("query, said", [
    ("since=2025-06&until=2025-01", "ends before it starts"),
    ("until=tomorrow", "A filter is not valid"),
    ("origin=" + "b" * 26, "not one this hub knows"),
])
def test_bad_input_is_a_clear_error(hub, query, said):
    answer = hub.test_client().get(f"/public/statistics?{query}")
    assert answer.status_code == 400 and said in answer.get_data(as_text=True)
    assert "Set-Cookie" not in answer.headers


def test_hook_public_page_sections(hub):
    """A plugin adds a section to the public page: plain text, escaped, in its language."""
    class Library:
        @staticmethod
        def public_page_sections(locale):
            return [{"title": "Library", "lines": [f"A report <b>({locale})</b>"]}]

    Library.public_page_sections = staticmethod(hookimpl(Library.public_page_sections))
    with hub.app_context():
        plugin_manager(hub).register(Library, name="test-library")
    html = hub.test_client().get("/public/statistics?lang=fr").get_data(as_text=True)
    assert "<h2>Library</h2>" in html and "A report &lt;b&gt;(fr)&lt;/b&gt;" in html
