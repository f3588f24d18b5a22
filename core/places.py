"""The gazetteer: countries, governorates and localities that country plugins provide.

Places are named by codes: ISO 3166-1 for countries (``TN``), ISO 3166-2 for governorates
(``TN-61``), and ``<governorate>:<slug>`` for localities (``TN-61:sakiet-ezzit``). Records
store the most precise code known; generalisation walks up to the governorate or country.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from flask import Flask, current_app

from core.plugins import results_by_plugin

COUNTRY, GOVERNORATE, LOCALITY = "country", "governorate", "locality"
KINDS = (COUNTRY, GOVERNORATE, LOCALITY)


@dataclass(frozen=True)
class Place:
    code: str
    kind: str
    names: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    parent: str | None = None

    def name(self, locale: str) -> str:
        return self.names.get(locale) or self.names.get("en") or self.code


class Gazetteer:
    def __init__(self, places: Iterable[Place]):
        self._by_code: dict[str, Place] = {}
        for place in places:
            if place.kind not in KINDS:
                raise ValueError(f"The place {place.code!r} has an unknown kind {place.kind!r}.")
            if place.code in self._by_code:
                raise ValueError(f"The place {place.code!r} is declared twice.")
            self._by_code[place.code] = place
        for place in self._by_code.values():
            if place.parent is not None and place.parent not in self._by_code:
                raise ValueError(f"The place {place.code!r} names an unknown parent.")

    def __contains__(self, code: str) -> bool:
        return code in self._by_code

    def get(self, code: str) -> Place | None:
        return self._by_code.get(code)

    def up_to(self, code: str, kind: str) -> str | None:
        """The code of the ``kind`` that contains ``code`` (itself if it is one), or None."""
        place = self._by_code.get(code)
        while place is not None:
            if place.kind == kind:
                return place.code
            place = self._by_code.get(place.parent) if place.parent else None
        return None

    def of_kind(self, kind: str, within: str | None = None) -> list[Place]:
        return [
            p for p in self._by_code.values()
            if p.kind == kind and (within is None or p.parent == within)
        ]


def init_app(app: Flask) -> None:
    places = [place for _plugin, declared in results_by_plugin(app, "register_places")
              for place in declared]
    app.extensions["rabita.places"] = Gazetteer(places)


def gazetteer(app: Flask | None = None) -> Gazetteer:
    return (app or current_app).extensions["rabita.places"]
