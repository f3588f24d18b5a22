"""Every country plugin (every folder under plugins/ named country_*), checked the same way:
its data is complete in Arabic, French and English, its laws say where they come from, and
its policy hooks can only tighten what leaves a node — adding the plugin never un-withholds a
field, un-blocks a record or lets an exact place through."""

import importlib
import inspect
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from core import records
from core.countries import LAWS
from core.extensions import db
from core.generalise import place_to_country, place_to_governorate
from core.places import COUNTRY, GOVERNORATE, LOCALITY, Gazetteer, gazetteer, iso_places
from core.plugins import results_by_plugin
from core.redaction import AUDIENCES, Policy, redact
from core.scrub import PLACEHOLDER, Scrubber
from core.vocabularies import vocabulary

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"
COUNTRY_PLUGINS = sorted(p.name for p in PLUGINS.iterdir()
                         if p.name.startswith("country_") and (p / "__init__.py").exists())
# Hooks whose results core unions (withheld fields, blockers): the policy hooks.
POLICY_HOOKS = ("redacted_fields", "share_blockers", "access_blockers")
# What else a country plugin may implement: data it registers.
DATA_HOOKS = ("register_places", "register_terms", "register_phone_regions",
              "register_scrub_patterns")
LANGUAGES = ("ar", "en", "fr")


def country_of(plugin: str) -> str:
    return plugin.removeprefix("country_").upper()


def hooks_of(plugin: str) -> set[str]:
    module = importlib.import_module(f"plugins.{plugin}")
    return {name for name, function in inspect.getmembers(module, inspect.isfunction)
            if function.__module__ == module.__name__ and not name.startswith("_")}


def test_there_are_country_plugins_to_check():
    assert {"country_eg", "country_tn"} <= set(COUNTRY_PLUGINS)


@pytest.mark.parametrize("plugin", COUNTRY_PLUGINS)
def test_a_country_plugin_implements_data_and_policy_hooks_only(plugin):
    assert hooks_of(plugin) <= set(DATA_HOOKS + POLICY_HOOKS)


# -- its data -----------------------------------------------------------------------------


@pytest.fixture
def node(make_app, request):
    return make_app(PLUGINS=["plugins.cases", f"plugins.{request.param}"], unlocked=True)


@pytest.mark.parametrize("node", COUNTRY_PLUGINS, indirect=True)
def test_every_governorate_is_named_in_three_languages(node):
    country = node.config["PLUGINS"][-1].rsplit("_", 1)[1].upper()
    places = gazetteer(node)
    governorates = places.of_kind(GOVERNORATE, within=country)
    iso_governorates = Gazetteer([], base=iso_places()).of_kind(GOVERNORATE, within=country)
    assert {p.code for p in governorates} == {p.code for p in iso_governorates}
    for place in [places.get(country), *governorates, *places.offered(LOCALITY)]:
        assert set(place.names) >= set(LANGUAGES), place.code
        assert place.name("ar") != place.name("en"), place.code  # written in Arabic
    assert places.countries == (country,)


@pytest.mark.parametrize("node", COUNTRY_PLUGINS, indirect=True)
def test_every_law_has_its_citation_in_three_languages_and_its_source(node):
    country = node.config["PLUGINS"][-1].rsplit("_", 1)[1].lower()
    with node.app_context():
        laws = [law for law in vocabulary(LAWS) if law.code.startswith(country)]
    assert laws and laws[0].code == country  # the country groups its laws
    for law in laws[1:]:
        assert law.parent == country and set(law.labels) >= set(LANGUAGES), law.code
        assert law.details.get("source"), f"{law.code} does not say where it comes from"
        if "date" in law.details:  # a date that could not be checked is left out
            year = date.fromisoformat(law.details["date"]).year
            assert str(year) in law.code and str(year) in law.labels["en"], law.code


@pytest.mark.parametrize("node", COUNTRY_PLUGINS, indirect=True)
def test_the_node_scrubs_the_country_s_phones_and_ids(node):
    country = node.config["PLUGINS"][-1].rsplit("_", 1)[1].upper()
    scrubber = node.extensions["rabita.scrubber"]
    assert country in scrubber.phone_regions
    assert any(p.name.startswith(f"country_{country.lower()}.") for p in scrubber.patterns)


# -- its policy can only tighten ----------------------------------------------------------


@pytest.fixture
def with_cases(make_app, request):
    """A node with the country plugin and cases written there (sample cases: every field,
    places of the country, names quoted in narratives, numbers)."""
    from plugins.cases.sample import create

    app = make_app(PLUGINS=["plugins.cases", f"plugins.{request.param}"], unlocked=True)
    with app.app_context():
        create(40, seed=7)
    return app


def without(app, plugin: str, record, audience: str) -> Policy:
    """The policy the node would apply to ``record`` for ``audience`` were ``plugin`` not
    there: the other plugins' answers and a scrubber without its regions and patterns. The
    gazetteer stays: without the plugin its delegations could not have been recorded at all
    (the next test shows its places generalise to places every node knows, and those as
    they would without it)."""
    def others(hook: str, **kwargs):
        return [value for name, values in results_by_plugin(app, hook, **kwargs)
                if name != plugin for value in values]

    scrubber = Scrubber(others("register_phone_regions"), others("register_scrub_patterns"))
    return Policy(scrubber, gazetteer(app), frozenset(others("redacted_fields", record=record,
                                                     audience=audience)),
                  tuple(others("share_blockers", record=record, audience=audience)))


def leaves(payload, path=""):
    """Every (dotted path, value) of a payload, lists numbered."""
    if isinstance(payload, dict):
        return [item for key, value in payload.items() for item in leaves(value, f"{path}{key}.")]
    if isinstance(payload, list):
        return [item for index, value in enumerate(payload)
                for item in leaves(value, f"{path}{index}.")]
    return [(path.rstrip("."), payload)]


def no_more_than(kept, before) -> bool:
    """``kept`` reveals nothing ``before`` did not: equal, or a text scrubbed further (what
    is left of it appears, in order, in the other)."""
    if kept == before:
        return True
    if not (isinstance(kept, str) and isinstance(before, str)):
        return False
    position = 0
    for piece in kept.split(PLACEHOLDER):
        found = before.find(piece, position)
        if found < 0:
            return False
        position = found + len(piece)
    return True


@pytest.mark.slow
@pytest.mark.parametrize("with_cases", COUNTRY_PLUGINS, indirect=True)
def test_adding_a_country_plugin_never_widens_what_leaves(with_cases):
    from plugins.cases.models import Case

    app = with_cases
    plugin = app.config["PLUGINS"][1].rsplit(".", 1)[1]
    checked, tightened = 0, 0
    with app.test_request_context():
        for case in db.session.scalars(select(Case)):
            values = records.values(case, identifying=True)
            schema = records.schema_of(records.type_of(case))
            for audience in AUDIENCES:
                added = records.redaction(case, audience)
                base = redact(values, schema, audience, without(app, plugin, case, audience))
                assert set(base.withheld) <= set(added.withheld)
                assert set(base.blockers) <= set(added.blockers)
                tightened += set(added.withheld) > set(base.withheld)
                before = dict(leaves(base.payload))
                for path, value in leaves(added.payload):
                    assert path in before and no_more_than(value, before[path]), (path, value)
                checked += 1
    assert checked == 40 * len(AUDIENCES)
    assert tightened  # its policy hook did withhold something: the check is not idle


POLICY_HOOKS_IMPLEMENTED = [(plugin, hook) for plugin in COUNTRY_PLUGINS
                            for hook in sorted(hooks_of(plugin) & set(POLICY_HOOKS))]


def test_every_country_plugin_s_policy_hooks_are_listed():
    assert ("country_eg", "redacted_fields") in POLICY_HOOKS_IMPLEMENTED
    assert ("country_tn", "redacted_fields") in POLICY_HOOKS_IMPLEMENTED


@pytest.mark.parametrize("with_cases, hook", POLICY_HOOKS_IMPLEMENTED,
                         indirect=["with_cases"])
def test_each_policy_hook_only_adds_to_what_the_others_withhold_or_block(with_cases, hook):
    """Every answer of the hook is a list of strings that core unions with the others':
    the node's answer with the plugin holds the node's answer without it."""
    from core.models import User
    from plugins.cases.models import Case

    app = with_cases
    plugin = app.config["PLUGINS"][1].rsplit(".", 1)[1]
    with app.test_request_context():
        people = list(db.session.scalars(select(User)))
        for case in db.session.scalars(select(Case)):
            for subject in (AUDIENCES if hook != "access_blockers" else people):
                argument = {"audience": subject} if hook != "access_blockers" else {
                    "user": subject}
                answers = results_by_plugin(app, hook, record=case, **argument)
                for name, answer in answers:
                    assert isinstance(answer, list) and all(
                        isinstance(item, str) for item in answer), (name, answer)
                everyone = {item for _name, answer in answers for item in answer}
                others = {item for name, answer in answers if name != plugin
                          for item in answer}
                assert others <= everyone


@pytest.mark.parametrize("kept, before, verdict", [
    ("Salma was [redacted] at home", "Salma was questioned at home", True),
    ("[redacted] at home", "Salma was questioned at home", True),
    ("Salma was questioned at home", "[redacted] was questioned at home", False),
    ("TN-61", "TN", False), ("TN", "TN", True),
])
def test_what_counts_as_revealing_no_more(kept, before, verdict):
    assert no_more_than(kept, before) is verdict


@pytest.mark.parametrize("node", COUNTRY_PLUGINS, indirect=True)
def test_a_country_plugin_s_places_generalise_to_places_every_node_knows(node):
    """Its localities go up to a governorate of ISO 3166; the places every node knows
    generalise as they did without it."""
    base = Gazetteer([], base=iso_places())
    places = gazetteer(node)
    for place in places.of_kind(LOCALITY) + places.of_kind(GOVERNORATE) + places.of_kind(COUNTRY):
        for rule in (place_to_governorate, place_to_country):
            coarse = rule(place.code, places)
            assert coarse in base and base.kind_of(coarse) in (GOVERNORATE, COUNTRY)
            if place.code in base:
                assert coarse == rule(place.code, base)


@pytest.mark.parametrize("plugin", COUNTRY_PLUGINS)
def test_a_country_plugin_works_without_the_plugins_it_extends(make_app, plugin):
    """Its violation types wait for the cases plugin; its laws and places do not."""
    app = make_app(PLUGINS=[f"plugins.{plugin}"])
    with app.app_context():
        assert not list(vocabulary("cases.violation"))
        assert vocabulary(LAWS).get(country_of(plugin).lower()) is not None
    assert gazetteer(app).countries == (country_of(plugin),)
