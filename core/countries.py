"""What a country plugin declares, read from its ``data/`` folder: its places (the gazetteer's
refinements), its terms (laws used against defenders, taxonomy extensions), and where a
record's places lie — so that every country plugin is data and a few lines of hooks.

A country plugin's folder holds ``data/places.json`` (a list of places: code, kind, parent,
names by language, aliases) and may hold ``data/laws.json`` (terms of the ``LAWS``
vocabulary: code, parent, labels by language, and the law's date, gazette and source) and
``data/terms.json`` (terms it adds to other vocabularies, each naming its vocabulary).
"""

from __future__ import annotations

import json
from pathlib import Path

from core.places import COUNTRY, Place, gazetteer
from core.vocabularies import Term

# The laws and decrees used against defenders, every country's in one vocabulary: cases cite
# them as the legal basis invoked. Codes start with the country's code in lower case.
LAWS = "core.laws"
LAW_DETAILS = ("date", "gazette", "source")


def read(folder: Path, name: str) -> list[dict]:
    path = folder / name
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else []


def places(folder: Path) -> list[Place]:
    return [Place(p["code"], p["kind"], p.get("names", {}), p.get("parent"),
                  tuple(p.get("aliases", ()))) for p in read(folder, "places.json")]


def laws(folder: Path) -> list[Term]:
    return [Term(LAWS, law["code"], law["labels"], law.get("parent"),
                 {key: law[key] for key in LAW_DETAILS if key in law})
            for law in read(folder, "laws.json")]


def terms(folder: Path) -> list[Term]:
    return [Term(t["vocabulary"], t["code"], t["labels"], t.get("parent"))
            for t in read(folder, "terms.json")]


def places_in(record, paths: tuple[str, ...], country: str) -> list[str]:
    """Those of ``paths`` (dotted attribute paths of ``record``, through its parts and lists
    of parts) whose place lies in ``country``."""
    places_known = gazetteer()
    return [path for path in paths
            if any(isinstance(code, str) and places_known.up_to(code, COUNTRY) == country
                   for code in _values_at(record, path.split(".")))]


def _values_at(item, names: list[str]) -> list:
    if item is None:
        return []
    if isinstance(item, list | tuple):
        return [value for element in item for value in _values_at(element, names)]
    if not names:
        return [item]
    return _values_at(getattr(item, names[0], None), names[1:])
