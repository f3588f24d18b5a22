"""A node with Egypt's plugin: a case documented in Alexandria, found by the governorate's other
spellings, its national number and phone scrubbed in Arabic-Indic digits, and the defender's
governorate of residence kept for peers only."""

import pytest
from sqlalchemy import select

from core import records
from core.countries import LAWS
from core.extensions import db
from core.places import gazetteer
from core.vocabularies import vocabulary
from tests.plugins.cases.conftest import case_form


@pytest.fixture
def app(make_app):
    return make_app(PLUGINS=["plugins.cases", "plugins.country_eg"], unlocked=True)


@pytest.fixture
def salma(make_user):
    return make_user("salma", role="documenter")


def test_a_case_in_giza_is_found_scrubbed_and_its_residence_kept_for_peers(app, salma, login_as):
    from plugins.cases.models import Case

    client = login_as(salma)
    response = client.submit("/cases/new", case_form(**{
        "defender-residence": "EG-GZ", "incidents-0-place": "EG-ALX",
        "defender-real_name": "Hoda Example", "incidents-0-perpetrator_identity": "",
        "defender-contacts": "+20 10 1234 5678", "defender-address": "",
        "incidents-0-place_detail": "",
        "incidents-0-narrative": "قُبض عليها في 24/11/2019 بموجب القانون 149/2019، ورقمها "
                                 "القومي ٢٩٥٠٣١٥٢١٠١٢٤٧ وهاتفها ٠١٠ ١٢٣٤ ٥٦٧٨ في المحضر.",
    }))
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    uuid = response.location.rsplit("/", 1)[1]
    for words in ("Alexandrie", "Iskandariya", "الاسكندرية", "Egypte"):
        assert uuid in client.submit("/cases/", {"q": words}).get_data(as_text=True), words
    with app.test_request_context():
        case = db.session.scalar(select(Case).where(Case.uuid == uuid))
        shared = {audience: records.redaction(case, audience)
                  for audience in ("peers", "hub", "public-aggregate")}
    assert shared["hub"].payload["incidents"][0]["narrative"] == (
        "قُبض عليها في 24/11/2019 بموجب القانون 149/2019، ورقمها القومي [redacted] وهاتفها "
        "[redacted] في المحضر.")
    assert shared["peers"].payload["defender"]["residence"] == "EG-GZ"
    for audience in ("hub", "public-aggregate"):
        assert "residence" not in shared[audience].payload["defender"]
        assert "defender.residence" in shared[audience].withheld
    assert shared["hub"].payload["incidents"][0]["place"] == "EG-ALX"


def test_the_laws_and_the_violation_type_it_adds(app):
    with app.app_context():
        laws = vocabulary(LAWS)
        assert [law.code for law in laws.children("eg")] == [
            "eg-law-107-2013", "eg-law-94-2015", "eg-law-175-2018", "eg-law-149-2019"]
        assert laws.get("eg-law-175-2018").label("ar").startswith("القانون رقم 175 لسنة 2018")
        assert "not verified" in laws.get("eg-law-149-2019").details["gazette"]
        added = vocabulary("cases.violation").get("eg-detention-recycling")
        assert added.parent == "liberty" and "التدوير" in added.label("ar")


def test_its_governorates(app):
    places = gazetteer(app)
    giza = places.get("EG-GZ")
    assert (giza.name("en"), giza.name("fr"), giza.name("ar")) == ("Giza", "Gizeh", "الجيزة")
    assert "Al Jizah" in giza.aliases
    assert len(places.of_kind("governorate", within="EG")) == 27
    assert places.countries == ("EG",)
