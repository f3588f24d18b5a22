"""The gazetteer: every country and first-level subdivision from ISO 3166 (pycountry), refined
by country plugins; and a node with no country plugin documenting a case in Morocco and Yemen
through the real case form, its pages and what the hub would get."""

import html
import re

import pytest
from sqlalchemy import select

from core.config import StartupError
from core.extensions import db
from core.generalise import place_to_country, place_to_governorate
from core.places import COUNTRY, GOVERNORATE, LOCALITY, Gazetteer, Place, gazetteer, iso_places
from tests.plugins.cases.conftest import case_form


def iso() -> Gazetteer:
    return Gazetteer([], base=iso_places())


# -- the places every node knows --------------------------------------------------------------


def test_every_country_and_first_level_subdivision_is_known_with_its_names():
    places = iso()
    assert len(places.of_kind(COUNTRY)) == 249
    assert {p.code for p in places.of_kind(GOVERNORATE, within="MA")} >= {"MA-01", "MA-04", "MA-12"}
    assert len(places.of_kind(GOVERNORATE, within="YE")) == 22
    assert len(places.of_kind(GOVERNORATE, within="EG")) == 27
    morocco, yemen = places.get("MA"), places.get("YE")
    assert (morocco.name("en"), morocco.name("fr"), morocco.name("ar")) == ("Morocco", "Maroc",
                                                                           "المغرب")
    assert (yemen.name("fr"), yemen.name("ar")) == ("Yémen", "اليمن")
    # pycountry ships no Arabic catalog of subdivisions: their Arabic name is the English one
    # until a country plugin gives it.
    assert places.get("YE-SH").name("ar") == places.get("YE-SH").name("en") == "Shabwah"
    assert places.get("MA-04").parent == "MA" and places.up_to("MA-04", COUNTRY) == "MA"


def test_second_level_subdivisions_are_not_places_of_the_default_gazetteer():
    """Down to the first level only: a Moroccan prefecture (MA-CAS, in MA-06) is not known."""
    assert "MA-CAS" not in iso() and "MA-06" in iso()


def test_the_default_places_generalise_like_a_country_plugin_s():
    places = iso()
    assert place_to_governorate("YE-SH", places) == "YE-SH"
    assert place_to_country("YE-SH", places) == "YE"
    assert place_to_governorate("MA", places) == "MA"  # only the country known: it leaves
    assert place_to_governorate("Casablanca", places) is None


# -- what a plugin may and may not change -----------------------------------------------------


def test_a_plugin_refines_a_known_place_with_names_and_aliases():
    places = Gazetteer([Place("MA-04", GOVERNORATE, {"ar": "الرباط سلا القنيطرة"}, parent="MA",
                              aliases=("Rabat-Salé-Zemmour-Zaër",)),
                        Place("MA-04:rabat", LOCALITY, {"en": "Rabat", "ar": "الرباط"},
                              parent="MA-04")], base=iso_places())
    region = places.get("MA-04")
    assert region.name("ar") == "الرباط سلا القنيطرة"
    assert region.name("en") == "Rabat-Salé-Kénitra"  # ISO's name kept where none is given
    assert "Rabat-Salé-Zemmour-Zaër" in region.all_names()
    assert place_to_governorate("MA-04:rabat", places) == "MA-04"


@pytest.mark.parametrize("place, message", [
    (Place("MA-04", LOCALITY, parent="MA"), "not change its kind or parent"),
    # An exact place dressed as a governorate would leave as it is: refused.
    (Place("TN-61:sakiet-ezzit", GOVERNORATE, parent="TN"), "ISO 3166 code"),
    (Place("Sfax", GOVERNORATE, parent="TN"), "ISO 3166 code"),
    (Place("TN-99", GOVERNORATE, parent="MA"), "ISO 3166 code"),
    (Place("Tunisie", COUNTRY), "ISO 3166 code"),
])
def test_a_plugin_cannot_make_generalisation_keep_more(place, message):
    with pytest.raises(ValueError, match=message):
        Gazetteer([place], base=iso_places())


def test_two_plugins_cannot_both_declare_one_place():
    with pytest.raises(ValueError, match="twice"):
        Gazetteer([Place("TN-61", GOVERNORATE, parent="TN"),
                   Place("TN-61", GOVERNORATE, parent="TN")], base=iso_places())


# -- which countries the forms offer ----------------------------------------------------------


def test_forms_offer_the_configured_countries_grouped_by_country():
    places = Gazetteer([], base=iso_places(), countries=["YE", "MA"])
    choices = places.choices("fr")
    assert {group for _code, _label, group in choices} == {"Maroc", "Yémen"}
    assert choices[0] == ("MA", "Maroc", "Maroc")  # by name: Maroc before Yémen
    assert ("YE-SH", "Shabwah", "Yémen") in choices
    assert {p.code for p in places.offered(GOVERNORATE)} == {
        p.code for p in places.of_kind(GOVERNORATE) if p.parent in ("MA", "YE")}


def test_without_countries_forms_offer_the_plugins_countries_or_else_every_country():
    from_plugin = Gazetteer([Place("TN-61:sfax", LOCALITY, parent="TN-61")], base=iso_places())
    assert from_plugin.countries == ("TN",)
    assert ("TN-61:sfax", "Sfax — TN-61:sfax", "Tunisia") in from_plugin.choices("en")
    assert len(iso().countries) == 249


def test_a_node_refuses_to_start_with_a_country_that_is_not_one(make_app):
    with pytest.raises(StartupError, match="COUNTRIES names Maroc, which are not ISO 3166-1"):
        make_app(PLUGINS=["plugins.cases"], COUNTRIES=["MA", "Maroc"])


# -- a node with no country plugin documents in Morocco and Yemen -----------------------------

NO_COUNTRY_PLUGIN = ["plugins.cases"]
COUNTRY_NAMES = {"en": ("Morocco", "Yemen"), "fr": ("Maroc", "Yémen"), "ar": ("المغرب", "اليمن")}


@pytest.fixture
def countries() -> list[str]:
    return ["MA", "YE"]


@pytest.fixture
def app(make_app, countries):
    """The node every fixture (users, sign-in) works on: cases, and no country plugin."""
    return make_app(PLUGINS=NO_COUNTRY_PLUGIN, COUNTRIES=countries, unlocked=True)


@pytest.fixture
def node(app):
    return app


@pytest.fixture
def people(node, make_user):
    return {"salma": make_user("salma", role="documenter"),
            "huda": make_user("huda", role="reviewer")}


def options(page: str) -> dict[str, str]:
    """value → label of every option of the residence select, with its optgroup's label."""
    select_html = re.search(r'<select[^>]*id="defender-residence".*?</select>', page, re.S).group()
    found, group = {}, ""
    for tag in re.finditer(r'<optgroup label="([^"]*)"|<option[^>]*value="([^"]*)"[^>]*>([^<]*)',
                           select_html):
        if tag.group(1) is not None:
            group = html.unescape(tag.group(1))
        else:
            found[tag.group(2)] = f"{group} / {html.unescape(tag.group(3)).strip()}"
    return found


@pytest.mark.parametrize("locale", ["en", "fr", "ar"])
def test_the_case_form_offers_moroccan_and_yemeni_places_in_every_language(
        node, people, login_as, locale):
    client = login_as(people["salma"])
    page = client.get("/cases/new", headers={"Accept-Language": locale}).get_data(as_text=True)
    offered = options(page)
    morocco, yemen = COUNTRY_NAMES[locale]
    assert offered["MA"] == f"{morocco} / {morocco}" and offered["YE"] == f"{yemen} / {yemen}"
    assert offered["YE-SH"] == f"{yemen} / Shabwah"
    assert offered["MA-04"].startswith(f"{morocco} / ")
    assert not [code for code in offered if code[:2] not in ("MA", "YE", "")]


def document(client, locale: str) -> str:
    response = client.submit("/cases/new", case_form(**{
        "defender-residence": "MA-04", "defender-contacts": "", "defender-address": "",
        "defender-organisation": "", "incidents-0-place": "YE-SH",
        "incidents-0-place_detail": "", "defender-real_name": "Hind Example",
        "incidents-0-narrative": "Hind Example was stopped at a checkpoint.",
    }), headers={"Accept-Language": locale})
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    return response.location.rsplit("/", 1)[1]


@pytest.mark.parametrize("locale", ["en", "fr", "ar"])
def test_a_case_in_morocco_and_yemen_is_documented_shown_and_generalised(
        node, people, login_as, locale):
    from plugins.cases.models import Case

    client = login_as(people["salma"])
    uuid = document(client, locale)
    page = client.get(f"/cases/{uuid}", headers={"Accept-Language": locale}).get_data(
        as_text=True)
    assert "Shabwah" in page and gazetteer(node).get("MA-04").name(locale) in html.unescape(page)
    with node.test_request_context():
        from core import records

        case = db.session.scalar(select(Case).where(Case.uuid == uuid))
        assert (case.defender.residence, case.incidents[0].place) == ("MA-04", "YE-SH")
        hub = records.redaction(case, "hub").payload
        # First-level places leave as they are; their country is what they generalise to.
        assert hub["defender"]["residence"] == "MA-04" and hub["incidents"][0]["place"] == "YE-SH"
        assert place_to_country(hub["incidents"][0]["place"], gazetteer()) == "YE"
        assert "Hind" not in str(hub)


@pytest.mark.parametrize("locale", ["en", "fr", "ar"])
def test_the_review_page_names_the_places_the_hub_would_get(node, people, login_as, locale):
    uuid = document(login_as(people["salma"]), "en")
    page = login_as(people["huda"]).get(f"/records/cases.case/{uuid}/review",
                                        headers={"Accept-Language": locale})
    assert page.status_code == 200
    text = html.unescape(page.get_data(as_text=True))
    assert "Shabwah" in text and gazetteer(node).get("MA-04").name(locale) in text


def test_a_case_in_yemen_is_found_by_its_country_s_name_in_each_language(node, people, login_as):
    client = login_as(people["salma"])
    uuid = document(client, "en")
    for words in ("Yemen", "Yémen", "اليمن", "Shabwah"):
        listed = client.submit("/cases/", {"q": words}).get_data(as_text=True)
        assert uuid in listed, words


@pytest.mark.parametrize("countries", [[]])
def test_with_no_country_named_the_form_offers_every_country(node, people, login_as):
    page = login_as(people["salma"]).get("/cases/new").get_data(as_text=True)
    offered = options(page)
    assert {"MA-04", "YE-SH", "LB-BA", "SD-GZ", "TN-61"} <= set(offered)
    assert gazetteer(node).countries == tuple(sorted(p.code for p in iso().of_kind(COUNTRY)))


@pytest.mark.browser
def test_in_chromium_in_arabic_a_case_in_yemen_is_documented(node, make_user, live_server,
                                                              chromium_browser):
    from core.testing import screenshot

    salma = make_user("salma_ar", role="documenter", locale="ar")
    with live_server(node) as server:
        context = chromium_browser.new_context()
        page = context.new_page()
        page.goto(f"{server.url}/login")
        page.fill("#username", salma.username)
        page.fill("#password", salma.password)
        page.click("#submit")
        if salma.totp_secret:
            page.wait_for_url(f"{server.url}/login/code")
            page.fill("#code", salma.code())
            page.click("#submit")
        page.wait_for_url(f"{server.url}/")
        page.goto(f"{server.url}/cases/new")
        assert page.get_attribute("html", "dir") == "rtl"
        groups = page.eval_on_selector_all("#incidents-0-place optgroup",
                                           "nodes => nodes.map(n => n.label)")
        assert groups == ["المغرب", "اليمن"]
        page.fill("#title", "اعتقال عند حاجز")
        page.fill("#defender-pseudonym", "ريحانة")
        page.select_option("#defender-residence", "MA-04")
        page.fill("#incidents-0-occurred_on", "2025-03-14")
        page.select_option("#incidents-0-violation", "arbitrary-arrest-detention")
        page.select_option("#incidents-0-place", "YE-SH")
        screenshot(page, "case-form-yemen-arabic")
        page.click("#submit")
        page.wait_for_selector("#tasks")
        assert "Shabwah" in page.content()
        context.close()
