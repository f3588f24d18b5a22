"""Reading a country plugin's data folder, and finding where a record's places lie."""

import json
from types import SimpleNamespace

from core import countries
from core.places import GOVERNORATE, LOCALITY


def write(folder, name, rows):
    (folder / name).write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")


def test_places_laws_and_terms_are_read_from_the_data_folder(tmp_path):
    write(tmp_path, "places.json", [
        {"code": "DZ-16", "kind": GOVERNORATE, "parent": "DZ", "names": {"ar": "الجزائر"},
         "aliases": ["Alger", "Algiers"]},
        {"code": "DZ-16:bab-el-oued", "kind": LOCALITY, "parent": "DZ-16"}])
    write(tmp_path, "laws.json", [
        {"code": "dz", "labels": {"en": "Algeria"}},
        {"code": "dz-law-12-06", "parent": "dz", "labels": {"en": "Law No. 12-06"},
         "source": "the gazette", "gazette": "JORA", "note": "not carried"}])
    write(tmp_path, "terms.json", [
        {"vocabulary": "cases.violation", "code": "dz-x", "parent": "liberty",
         "labels": {"en": "X"}}])
    places = countries.places(tmp_path)
    assert places[0].aliases == ("Alger", "Algiers") and places[1].names == {}
    law = countries.laws(tmp_path)[1]
    assert (law.vocabulary, law.parent) == (countries.LAWS, "dz")
    assert law.details == {"source": "the gazette", "gazette": "JORA"}  # no date: none given
    assert countries.terms(tmp_path)[0].vocabulary == "cases.violation"


def test_a_missing_file_is_no_data(tmp_path):
    assert countries.laws(tmp_path) == [] and countries.terms(tmp_path) == []


def test_places_in_walks_parts_and_lists(make_app):
    app = make_app(PLUGINS=["plugins.country_tn"])
    case = SimpleNamespace(defender=SimpleNamespace(residence="TN-61:sakiet-ezzit"),
                           incidents=[SimpleNamespace(place="MA-04"),
                                      SimpleNamespace(place=None)])
    with app.app_context():
        assert countries.places_in(case, ("defender.residence", "incidents.place"), "TN") == [
            "defender.residence"]
        assert countries.places_in(case, ("defender.residence", "incidents.place"), "MA") == [
            "incidents.place"]
        assert countries.places_in(SimpleNamespace(defender=None), ("defender.residence",),
                                   "TN") == []
