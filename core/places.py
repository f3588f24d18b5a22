"""The gazetteer: every country and its first-level subdivisions (ISO 3166 as ``pycountry``
ships it), refined and extended by country plugins.

Places are named by codes: ISO 3166-1 for countries (``MA``), ISO 3166-2 for first-level
subdivisions — called governorates here, whatever a country calls them (``MA-03``,
``TN-61``) — and ``<governorate>:<slug>`` for localities (``TN-61:sakiet-ezzit``), which only
country plugins declare. Records store the most precise code known; generalisation walks up
to the governorate or country.

Any node knows every country and its first-level subdivisions, with the English name, and
the French and Arabic ones where ``pycountry``'s catalogs have them (countries in both,
subdivisions in French only). A country plugin refines a place it knows (names in every
language, aliases and old spellings, for search and scrubbing) but cannot change its kind
or parent: that would change what generalisation lets out. Nothing per country is written
here. Which countries the case forms offer is the node's ``COUNTRIES`` setting.
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache

import pycountry
from flask import Flask, current_app

from core.config import StartupError
from core.plugins import results_by_plugin

COUNTRY, GOVERNORATE, LOCALITY = "country", "governorate", "locality"
KINDS = (COUNTRY, GOVERNORATE, LOCALITY)
# The codes a generalisation rule may keep: nothing finer than a first-level subdivision.
CODE_OF_KIND = {COUNTRY: re.compile(r"[A-Z]{2}"),
                GOVERNORATE: re.compile(r"([A-Z]{2})-[A-Z0-9]{1,3}")}
TRANSLATED = ("fr", "ar")  # the languages besides English the node speaks


@dataclass(frozen=True)
class Place:
    code: str
    kind: str
    names: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    parent: str | None = None
    # Other names people write: old spellings, transliterations, short forms.
    aliases: tuple[str, ...] = field(default=(), compare=False, hash=False)

    def name(self, locale: str) -> str:
        return self.names.get(locale) or self.names.get("en") or self.code

    def all_names(self) -> list[str]:
        """Every name and alias, once each (for search and for scrubbing a quoted place)."""
        return list(dict.fromkeys([*self.names.values(), *self.aliases]))


class Gazetteer:
    """Places by code. ``base``: places any node knows (ISO 3166), which ``places`` (from
    plugins) may refine; ``countries``: the countries whose places forms offer (None: every
    country the plugins' places lie in, or every country when they declare none)."""

    def __init__(self, places: Iterable[Place], base: Iterable[Place] = (),
                 countries: Iterable[str] | None = None):
        self._by_code: dict[str, Place] = {place.code: place for place in base}
        refined: set[str] = set()
        for place in places:
            self._add(place, refined)
        self._children = self._linked()
        self.countries = self._offered(countries, refined)
        self._choices: dict[str, list[tuple[str, str, str]]] = {}

    def _linked(self) -> dict[str | None, list[Place]]:
        """Each place's children, every parent known."""
        children: dict[str | None, list[Place]] = {}
        for place in self._by_code.values():
            if place.parent is not None and place.parent not in self._by_code:
                raise ValueError(f"The place {place.code!r} names an unknown parent.")
            children.setdefault(place.parent, []).append(place)
        return children

    def _add(self, place: Place, refined: set[str]) -> None:
        if place.kind not in KINDS:
            raise ValueError(f"The place {place.code!r} has an unknown kind {place.kind!r}.")
        _check_code(place)
        known = self._by_code.get(place.code)
        if place.code in refined:
            raise ValueError(f"The place {place.code!r} is declared twice.")
        if known is not None:
            place = _refined(known, place)
        refined.add(place.code)
        self._by_code[place.code] = place

    def _offered(self, countries: Iterable[str] | None, refined: set[str]) -> tuple[str, ...]:
        if countries:
            unknown = [code for code in countries if self.kind_of(code) != COUNTRY]
            if unknown:
                raise ValueError(f"COUNTRIES names {', '.join(unknown)}, which are not "
                                 "ISO 3166-1 country codes (two capital letters, such as MA).")
            return tuple(dict.fromkeys(countries))
        from_plugins = {self.up_to(code, COUNTRY) for code in refined} - {None}
        return tuple(sorted(from_plugins or self._codes_of_kind(COUNTRY)))

    def __contains__(self, code: str) -> bool:
        return code in self._by_code

    def get(self, code: str) -> Place | None:
        return self._by_code.get(code)

    def kind_of(self, code: str) -> str | None:
        place = self._by_code.get(code)
        return place.kind if place else None

    def up_to(self, code: str, kind: str) -> str | None:
        """The code of the ``kind`` that contains ``code`` (itself if it is one), or None."""
        place = self._by_code.get(code)
        while place is not None:
            if place.kind == kind:
                return place.code
            place = self._by_code.get(place.parent) if place.parent else None
        return None

    def of_kind(self, kind: str, within: str | None = None) -> list[Place]:
        if within is not None:
            return [p for p in self._children.get(within, ()) if p.kind == kind]
        return [p for p in self._by_code.values() if p.kind == kind]

    def offered(self, kind: str) -> list[Place]:
        """The places of ``kind`` in the countries forms offer."""
        countries = set(self.countries)
        return [p for p in self.of_kind(kind) if self.up_to(p.code, COUNTRY) in countries]

    def choices(self, locale: str) -> list[tuple[str, str, str]]:
        """(code, label, group) of every place forms offer, in ``locale``: grouped by
        country, the country first (place unknown within it), then its governorates by
        name, each followed by its localities ("Sfax — Sakiet Ezzit"). Made once per
        language."""
        if locale not in self._choices:
            self._choices[locale] = [
                choice for country in _by_name([self._by_code[c] for c in self.countries],
                                               locale)
                for choice in self._country_choices(country, locale)]
        return self._choices[locale]

    def _country_choices(self, country: Place, locale: str) -> list[tuple[str, str, str]]:
        group = country.name(locale)
        found = [(country.code, group, group)]
        for governorate in _by_name(self.of_kind(GOVERNORATE, country.code), locale):
            found.append((governorate.code, governorate.name(locale), group))
            for locality in _by_name(self.of_kind(LOCALITY, governorate.code), locale):
                found.append((locality.code,
                              f"{governorate.name(locale)} — {locality.name(locale)}", group))
        return found

    def _codes_of_kind(self, kind: str) -> list[str]:
        return [p.code for p in self._by_code.values() if p.kind == kind]


def _check_code(place: Place) -> None:
    """A country or a governorate is named by an ISO 3166 code, a governorate inside its
    country: a generalisation rule can never keep anything finer."""
    pattern = CODE_OF_KIND.get(place.kind)
    if pattern is None:
        return
    match = pattern.fullmatch(place.code)
    if match is None or (place.kind == GOVERNORATE and place.parent != match.group(1)):
        raise ValueError(
            f"The {place.kind} {place.code!r} must be named by its ISO 3166 code"
            + (" (such as TN-61) and have its country as parent." if place.kind == GOVERNORATE
               else " (two capital letters, such as TN)."))


def _refined(known: Place, place: Place) -> Place:
    """``known`` (from ISO 3166) with a plugin's names and aliases; its kind and parent
    stay, for they decide what generalisation keeps."""
    if (place.kind, place.parent) != (known.kind, known.parent):
        raise ValueError(
            f"The place {place.code!r} is a {known.kind} of {known.parent or 'the world'} in "
            "ISO 3166; a plugin may add names and aliases to it, not change its kind or parent.")
    return replace(known, names={**known.names, **(place.names or {})},
                   aliases=tuple(dict.fromkeys([*known.aliases, *place.aliases])))


def _by_name(places: list[Place], locale: str) -> list[Place]:
    return sorted(places, key=lambda p: p.name(locale))


@lru_cache(maxsize=1)
def iso_places() -> tuple[Place, ...]:
    """Every country (ISO 3166-1) and first-level subdivision (ISO 3166-2), named in
    English and in the languages pycountry's catalogs translate them into."""
    countries = _catalogs("iso3166-1")
    subdivisions = _catalogs("iso3166-2")
    found = []
    for country in pycountry.countries:
        english = getattr(country, "common_name", None) or country.name
        found.append(Place(country.alpha_2, COUNTRY, _names(english, countries)))
    for subdivision in pycountry.subdivisions:
        if subdivision.parent_code is None:
            found.append(Place(subdivision.code, GOVERNORATE,
                               _names(subdivision.name, subdivisions),
                               parent=subdivision.country_code))
    return tuple(found)


def _catalogs(domain: str) -> dict[str, gettext.NullTranslations]:
    """pycountry's gettext catalogs of ``domain`` for the node's other languages (those it
    does not ship are left out: names stay in English there)."""
    return {locale: gettext.translation(domain, pycountry.LOCALES_DIR, languages=[locale])
            for locale in TRANSLATED
            if gettext.find(domain, pycountry.LOCALES_DIR, languages=[locale])}


def _names(english: str, catalogs: dict[str, gettext.NullTranslations]) -> dict[str, str]:
    names = {"en": english}
    for locale, catalog in catalogs.items():
        translated = catalog.gettext(english)
        if translated != english:
            names[locale] = translated
    return names


def init_app(app: Flask) -> None:
    places = [place for _plugin, declared in results_by_plugin(app, "register_places")
              for place in declared]
    try:
        app.extensions["rabita.places"] = Gazetteer(places, base=iso_places(),
                                                    countries=app.config.get("COUNTRIES"))
    except ValueError as error:
        raise StartupError(f"Rabita cannot start: {error}") from error


def gazetteer(app: Flask | None = None) -> Gazetteer:
    return (app or current_app).extensions["rabita.places"]
