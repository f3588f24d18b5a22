"""A hub's statistics pages: the table and chart its people choose, trends by month, exports,
the print-ready advocacy brief, and the public page anyone may read without signing in.

Every figure comes from ``federation.statistics`` already suppressed (small cells and the
cells that would reveal them): these pages never count anything themselves. Bad input — an
unknown dimension, a period that ends before it starts, a member node this hub does not know
— is answered with a clear error (400) and no table; nothing is written.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Response, current_app, g, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from core import i18n, places, plugins
from core.access import public, require_permission
from core.headers import cacheable
from core.vocabularies import vocabulary
from federation import charts, peers, statistics
from federation.permissions import READ_SHARED
from federation.views import blueprint  # these pages are federation's too

# The vocabularies that name a dimension's codes (declared by the cases plugin).
VOCABULARIES = {"violation": "cases.violation", "perpetrator": "cases.perpetrator",
                "activism": "cases.activism"}
FILTERS = ("since", "until", "country", "violation", "perpetrator", "origin")
EXPORTS = {"csv": ("text/csv", statistics.to_csv), "json": ("application/json",
                                                            statistics.to_json),
           "hxl": ("text/csv", statistics.to_hxl)}
PUBLIC_MAX_AGE = 300  # seconds a cache may keep the public page


class ChoiceError(ValueError):
    """A choice on the statistics form that cannot be answered (the text says why)."""


@dataclass
class Choice:
    """What a person asked for: the measure, one or two dimensions, the filters."""

    measure: str = "incidents"
    dimensions: tuple[str, ...] = ("violation",)
    filters: statistics.Filters = field(default_factory=statistics.Filters)

    def arguments(self) -> dict:
        """The query arguments that ask for this choice again (export and brief links)."""
        found = {"measure": self.measure, "rows": self.dimensions[0]}
        if len(self.dimensions) == 2:
            found["columns"] = self.dimensions[1]
        return found | self.filters.given()


def choice_from(arguments, *, members: set[str] | None) -> Choice:
    """The choice the query ``arguments`` make, or a ChoiceError saying what is wrong.
    ``members``: the node ids a member filter may name (None: no member filter allowed)."""
    measure = arguments.get("measure") or "incidents"
    if measure not in statistics.MEASURES:
        raise ChoiceError(_("Choose incidents or cases as the measure."))
    rows, columns = arguments.get("rows") or "violation", arguments.get("columns") or ""
    dimensions = (rows, columns) if columns else (rows,)
    if any(d not in statistics.DIMENSIONS for d in dimensions):
        raise ChoiceError(_("That dimension is not one the hub counts: choose one from the "
                            "list."))
    if len(set(dimensions)) != len(dimensions):
        raise ChoiceError(_("Choose two different dimensions."))
    if measure == "cases" and any(d not in statistics.CASE_DIMENSIONS for d in dimensions):
        raise ChoiceError(_("Cases are counted by field of activism, age band, status or "
                            "member node only; count incidents for the others."))
    return Choice(measure, dimensions, filters_from(arguments, members=members))


MAX_PARTS = 6  # tables a brief holds
_PART = re.compile(r"^(\d{1,2})-([a-z]+)\Z")


@dataclass
class Part:
    """One table (or trend) of a brief, with its own choice."""

    choice: Choice
    of: str = "table"  # or "trend": incidents by month under the choice's filters

    def arguments(self, number: int) -> dict:
        """The query arguments of this part as part ``number`` of a brief."""
        found = self.choice.arguments() | ({"of": "trend"} if self.of == "trend" else {})
        return {f"{number}-{name}": value for name, value in found.items()}


def parts_from(arguments, *, members: set[str] | None) -> list[Part]:
    """The numbered parts a brief was asked for (``1-rows=violation&1-since=2025-01&2-rows=
    country&2-columns=violation&2-of=trend``…, at most MAX_PARTS), in their order; none
    numbered: the table of the plain arguments and its trend. A ChoiceError says what is
    wrong with the first bad part."""
    numbered: dict[int, dict[str, str]] = {}
    for name in arguments:
        found = _PART.match(name)
        if found:
            numbered.setdefault(int(found.group(1)), {})[found.group(2)] = arguments.get(name)
    if not numbered:
        choice = choice_from(arguments, members=members)
        return [Part(choice), Part(choice, "trend")]
    if len(numbered) > MAX_PARTS or any(not 1 <= n <= MAX_PARTS for n in numbered):
        raise ChoiceError(_("A brief holds at most %(count)d tables.", count=MAX_PARTS))
    parts = []
    for number in sorted(numbered):
        given = numbered[number]
        if given.get("of", "table") not in ("table", "trend"):
            raise ChoiceError(_("Ask for csv, json or hxl, of the table or of the trend."))
        parts.append(Part(choice_from(given, members=members), given.get("of", "table")))
    return parts


def brief_arguments(parts: list[Part]) -> dict:
    """The query arguments that ask a brief for ``parts``, numbered from 1."""
    found: dict = {}
    for number, part in enumerate(parts, start=1):
        found |= part.arguments(number)
    return found


def filters_from(arguments, *, members: set[str] | None) -> statistics.Filters:
    given = {name: (arguments.get(name) or "").strip() or None for name in FILTERS}
    if given["origin"] is not None and (members is None or given["origin"] not in members):
        raise ChoiceError(_("That member node is not one this hub knows."))
    try:
        filters = statistics.Filters(**given)
    except ValueError as error:
        raise ChoiceError(_("A filter is not valid: months are written like 2025-03, the "
                            "other filters are codes from the lists.")) from error
    if filters.since and filters.until and filters.until < filters.since:
        raise ChoiceError(_("The period ends before it starts."))
    return filters


# -- what the pages show --------------------------------------------------------------------


def labeller(locale: str, names: dict[str, str]) -> Callable[[str, object], str]:
    """How a dimension's code reads in ``locale``: a place's name, a term's label, the name
    the administrators gave a member node; None is "Unknown"."""
    gazetteer = places.gazetteer()

    def label(dimension: str, key) -> str:
        if key is None:
            return _("Unknown")
        if dimension in ("country", "governorate"):
            place = gazetteer.get(key)
            return place.name(locale) if place else str(key)
        if dimension in VOCABULARIES:
            return vocabulary(VOCABULARIES[dimension]).label(key, locale)
        if dimension == "origin":
            return names.get(key) or str(key)[:12]
        return str(key)

    return label


@dataclass
class Shown:
    """One table with its chart, ready for a template."""

    table: statistics.Table
    chart: charts.Chart
    title: str
    label: Callable[[str, object], str]


def shown_table(choice: Choice, *, public: bool, locale: str, names: dict[str, str]) -> Shown:
    table = statistics.table(choice.dimensions, measure=choice.measure,
                             filters=choice.filters, public=public)
    label = labeller(locale, names)
    title = table_title(table)
    hidden = _("fewer than %(k)d", k=table.k)
    return Shown(table, charts.bars(table, title, label, rtl=i18n.direction(locale) == "rtl",
                                    hidden=hidden), title, label)


def shown_trend(filters: statistics.Filters, *, public: bool, locale: str,
                names: dict[str, str]) -> Shown:
    table = statistics.trend(filters=filters, public=public)
    title = _("Incidents by month")
    return Shown(table, charts.line(table, title, rtl=i18n.direction(locale) == "rtl",
                                    hidden=_("fewer than %(k)d", k=table.k)),
                 title, labeller(locale, names))


def table_title(table: statistics.Table) -> str:
    measure = statistics.MEASURES[table.measure]
    names = [str(statistics.DIMENSIONS[d]) for d in table.dimensions]
    if len(names) == 1:
        return _("%(measure)s by %(first)s", measure=measure, first=names[0].lower())
    return _("%(measure)s by %(first)s and %(second)s", measure=measure,
             first=names[0].lower(), second=names[1].lower())


def _members() -> dict[str, str]:
    """The member nodes a filter may name (those this hub paired with), with their names."""
    return {peer.node_id: peer.label or peer.node_id[:12] for peer in peers.everyone()
            if not peer.is_hub}


def _form_context(members: dict[str, str]) -> dict:
    return {"dimensions": statistics.DIMENSIONS, "measures": statistics.MEASURES,
            "members": members, "asked": request.args, "exports": EXPORTS}


@blueprint.context_processor
def _names() -> dict:
    """What every statistics template names: dimensions, measures, the k in force."""
    return {"dimension_name": lambda code: statistics.DIMENSIONS[code],
            "measure_name": lambda code: statistics.MEASURES[code],
            "k_in_force": statistics.k()}


# -- the signed-in pages ---------------------------------------------------------------------


@blueprint.route("/federation/statistics")
@require_permission(READ_SHARED)
def statistics_page():
    """The chosen table and its chart, and incidents by month under the same filters."""
    members = _members()
    locale = i18n.language()
    plain = {name: value for name, value in request.args.items() if not _PART.match(name)}
    numbered = {name: value for name, value in request.args.items() if _PART.match(name)}
    try:
        choice = choice_from(plain, members=set(members))
        chosen = parts_from(numbered, members=set(members)) if numbered else []
    except ChoiceError as error:
        return render_template("hub/statistics.html", error=str(error),
                               **_form_context(members)), 400
    return render_template(
        "hub/statistics.html", error=None, choice=choice,
        main=shown_table(choice, public=False, locale=locale, names=members),
        trend=shown_trend(choice.filters, public=False, locale=locale, names=members),
        brief=_brief_links(chosen, choice), **_form_context(members))


def _brief_links(chosen: list[Part], choice: Choice) -> dict:
    """The brief being put together on the statistics page: its parts (carried in the
    page's address, no session), and the addresses that add this table or its trend to it,
    open it, or start it again."""
    kept = brief_arguments(chosen)
    room = len(chosen) < MAX_PARTS

    def adding(of: str) -> str | None:
        if not room:
            return None
        more = brief_arguments([*chosen, Part(choice, of)])
        return url_for("federation.statistics_page", **choice.arguments(), **more)

    return {"parts": [table_title_of(part) for part in chosen], "kept": kept,
            "add_table": adding("table"), "add_trend": adding("trend"),
            "open": url_for("federation.statistics_brief", **kept) if chosen else None,
            "clear": url_for("federation.statistics_page", **choice.arguments())}


def table_title_of(part: Part) -> str:
    """A part's title as the brief will give it, with its period."""
    if part.of == "trend":
        title = _("Incidents by month")
    else:
        title = table_title(statistics.Table(part.choice.dimensions, part.choice.measure,
                                             part.choice.filters, 0, False, None))
    since, until = part.choice.filters.since, part.choice.filters.until
    return f"{title} ({since or '…'} – {until or '…'})"


@blueprint.route("/federation/statistics/export.<fmt>")
@require_permission(READ_SHARED)
def statistics_export(fmt: str):
    """The chosen table (``of=table``) or its trend (``of=trend``) as CSV, JSON or HXL —
    suppressed like the page, saying its period, filters, k and the moment of the data."""
    if fmt not in EXPORTS or request.args.get("of", "table") not in ("table", "trend"):
        return _plain_error(_("Ask for csv, json or hxl, of the table or of the trend."))
    try:
        choice = choice_from(request.args, members=set(_members()))
    except ChoiceError as error:
        return _plain_error(str(error))
    if request.args.get("of") == "trend":
        table = statistics.trend(filters=choice.filters)
    else:
        table = statistics.table(choice.dimensions, measure=choice.measure,
                                 filters=choice.filters)
    content_type, write = EXPORTS[fmt]
    name = f"statistics-{'-'.join(table.dimensions)}.{'json' if fmt == 'json' else 'csv'}"
    return Response(write(table), content_type=f"{content_type}; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _plain_error(text: str) -> Response:
    return Response(text + "\n", status=400, content_type="text/plain; charset=utf-8")


@blueprint.route("/federation/statistics/brief")
@require_permission(READ_SHARED)
def statistics_brief():
    """The advocacy brief: the tables the coordinator chose (``parts_from``: each with its
    own dimensions and filters, a table or a trend) with their charts, each one's period and
    filters, and the method, print-ready (A4), in the language asked (``lang``) or the
    reader's."""
    locale = _asked_language() or i18n.language()
    members = _members()
    with force_locale(locale):
        g.pop("rabita_translations", None)  # the page's strings in the brief's language
        try:
            parts = parts_from(request.args, members=set(members))
        except ChoiceError as error:
            return render_template("hub/brief.html", error=str(error), **_page(locale)), 400
        shown = [shown_trend(part.choice.filters, public=False, locale=locale, names=members)
                 if part.of == "trend" else
                 shown_table(part.choice, public=False, locale=locale, names=members)
                 for part in parts]
        return render_template(
            "hub/brief.html", error=None, parts=list(zip(parts, shown, strict=True)),
            k=statistics.k(), as_of=shown[0].table.as_of, **_page(locale))


# -- the public page -------------------------------------------------------------------------


@blueprint.route("/public/statistics")
@public
def public_statistics():
    """What ``public-aggregate`` consent allows anyone to see, with the public k: incidents
    by violation and by country, and by month. The same page for everyone who asks the same
    address (its language is in the address, never taken from the asker): no session, no
    cookie, no form, cacheable; member nodes are not named and no record is linked."""
    locale = _asked_language() or current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(locale):
        g.pop("rabita_translations", None)
        try:
            filters = filters_from(request.args, members=None)
        except ChoiceError as error:
            response = Response(render_template("hub/public.html", error=str(error),
                                                **_page(locale)), status=400)
            return cacheable(response, PUBLIC_MAX_AGE)
        tables = [shown_table(Choice("incidents", (dimension,), filters), public=True,
                              locale=locale, names={})
                  for dimension in ("violation", "country")]
        page = render_template(
            "hub/public.html", error=None, tables=tables, filters=filters,
            trend=shown_trend(filters, public=True, locale=locale, names={}),
            k=statistics.k(public=True), sections=plugins.public_page_sections(locale),
            **_page(locale))
    return cacheable(Response(page), PUBLIC_MAX_AGE)


def _asked_language() -> str | None:
    asked = request.args.get("lang")
    return asked if asked in current_app.config["LANGUAGES"] else None


def _page(locale: str) -> dict:
    """The language of a page that does not follow the reader's session."""
    return {"page_locale": locale, "page_direction": i18n.direction(locale),
            "other_languages": [(code, name) for code, name in i18n.NATIVE_NAMES.items()
                                if code in current_app.config["LANGUAGES"]],
            "url_with": _url_with}


def _url_with(**changed) -> str:
    """This page's address with some query arguments changed (a language link)."""
    arguments = request.args.to_dict() | changed
    return url_for(request.endpoint, **arguments)
