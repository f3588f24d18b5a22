"""The plugin as a node runs it: found through its entry point, its places in the gazetteer
and the case form, a case's place generalised to its region, its phone numbers scrubbed, and
the node's migrations run with it turned on."""

import importlib.metadata

import flask_migrate

from core import migrating, records
from core.generalise import RULES
from core.places import gazetteer

PLUGINS = ["plugins.cases", "country_ma"]


def test_rabita_finds_it_through_its_entry_point():
    found = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="rabita.plugins")}
    assert found["country_ma"] == "rabita_country_ma"


def test_its_places_are_named_in_three_languages_and_generalise_to_their_region(app):
    with app.app_context():
        places = gazetteer()
        casablanca = places.get("MA-06:casablanca")
        assert [casablanca.name(lang) for lang in ("ar", "fr", "en")] == [
            "الدار البيضاء", "Casablanca", "Casablanca"]
        assert places.get("MA-06").name("ar") == "جهة الدار البيضاء سطات"
        assert RULES["place_to_governorate"]("MA-06:casablanca", places) == "MA-06"
        assert RULES["place_to_country"]("MA-07:marrakesh", places) == "MA"


def test_a_case_in_casablanca_leaves_as_its_region_without_her_phone(app, make_user, login_as):
    client = login_as(make_user("salma", role="documenter"))
    form = {"title": "Convocation", "summary": "Elle a été convoquée ; son numéro : 0612345678.",
            "status": "open", "risk": "high", "assigned_to": "",
            "defender-pseudonym": "Olive", "defender-gender": "woman",
            "defender-residence": "MA-06:casablanca",
            "incidents-0-occurred_on": "2025-03-14", "incidents-0-place": "MA-06:casablanca",
            "incidents-0-violation": "judicial-harassment",
            "incidents-0-narrative": "Interrogée à Casablanca ; appelez le +212 6 12 34 56 78."}
    page = client.get("/cases/new").get_data(as_text=True)
    assert "MA-06:casablanca" in page  # offered by the form
    response = client.submit("/cases/new", form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    uuid = response.location.rsplit("/", 1)[1]
    with app.test_request_context():
        case = _case(uuid)
        payload = records.redaction(case, "peers").payload
    assert payload["incidents"][0]["place"] == "MA-06"
    assert payload["defender"]["residence"] == "MA-06"
    assert "612345678" not in str(payload) and "12 34 56 78" not in str(payload)
    assert "Casablanca" not in payload["incidents"][0]["narrative"]  # an exact place, scrubbed


def _case(uuid):
    from sqlalchemy import select

    from core.extensions import db
    from plugins.cases.models import Case

    return db.session.scalar(select(Case).where(Case.uuid == uuid))


def test_a_node_with_it_migrates_and_matches_its_models(make_app):
    app = make_app(create_tables=False, PLUGINS=PLUGINS)
    with app.app_context():
        flask_migrate.upgrade(revision="heads")
        assert migrating.schema_differences(app) == []
