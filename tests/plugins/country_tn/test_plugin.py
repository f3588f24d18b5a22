"""A node with Tunisia's plugin: a case documented at a delegation, found by a governorate's
other spelling, its exact place scrubbed by any of its names, its numbers scrubbed, and the
defender's governorate kept out of public statistics only."""

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
    return make_app(PLUGINS=["plugins.cases", "plugins.country_tn"], unlocked=True)


@pytest.fixture
def salma(make_user):
    return make_user("salma", role="documenter")


def document(client, **fields) -> str:
    response = client.submit("/cases/new", case_form(**fields))
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    return response.location.rsplit("/", 1)[1]


def test_a_case_at_a_delegation_is_found_by_other_spellings_and_scrubbed(app, salma, login_as):
    from plugins.cases.models import Case

    client = login_as(salma)
    uuid = document(client, **{
        "defender-residence": "TN-61:agareb", "incidents-0-place": "TN-61:agareb",
        "incidents-0-narrative": "Arrêtée à Aguareb ; sa CIN ٠٨١٢٣٤٥٦ et son numéro "
                                 "+216 98 123 456 figurent au procès-verbal du 13/09/2022.",
    })
    for words in ("Sfakes", "صفاقس", "Agareb"):
        assert uuid in client.submit("/cases/", {"q": words}).get_data(as_text=True), words
    with app.test_request_context():
        case = db.session.scalar(select(Case).where(Case.uuid == uuid))
        hub = records.redaction(case, "hub")
        public = records.redaction(case, "public-aggregate")
    narrative = hub.payload["incidents"][0]["narrative"]
    assert narrative == ("Arrêtée à [redacted] ; sa CIN [redacted] et son numéro [redacted] "
                         "figurent au procès-verbal du 13/09/2022.")
    assert hub.payload["defender"]["residence"] == "TN-61"  # peers and the hub keep it
    assert "residence" not in public.payload["defender"]
    assert "defender.residence" in public.withheld


def test_the_laws_and_the_violation_type_it_adds(app):
    with app.app_context():
        law = vocabulary(LAWS).get("tn-decree-law-2022-54")
        added = vocabulary("cases.violation").get("tn-border-procedure-s17")
        assert law.label("fr").startswith("Décret-loi n° 2022-54 du 13 septembre 2022")
        assert law.label("ar").startswith("مرسوم عدد 54 لسنة 2022")
        assert law.details["date"] == "2022-09-13" and "103" in law.details["gazette"]
        assert added.parent == "movement" and "S17" in added.label("ar")


def test_its_governorates_and_delegations(app):
    places = gazetteer(app)
    assert places.get("TN-33").name("fr") == "Le Kef" and "El Kef" in places.get("TN-33").aliases
    assert places.up_to("TN-71:redeyef", "governorate") == "TN-71"
    assert len(places.of_kind("governorate", within="TN")) == 24
    assert len(places.offered("locality")) >= 60
