"""Knowledge: it loads with both record types documented, and its migrations run up and down
and match the models on both databases."""

from pathlib import Path

import pytest

import plugins.knowledge as plugin
from core import declaration, records
from core.migrating import schema_differences, walk_branch
from core.testing import all_databases

PLUGIN = "plugins.knowledge"
README = Path(plugin.__file__).with_name("README.md")


@pytest.fixture
def app(make_app):
    return make_app(PLUGINS=[PLUGIN], unlocked=True)


@pytest.mark.parametrize("name", ["knowledge.resource", "knowledge.testimony"])
def test_it_loads_with_its_record_types_documented(app, name):
    with app.app_context():
        record_type = records.record_types().get(name)
        assert declaration.problems(record_type, README.read_text(encoding="utf-8")) == []


@all_databases
def test_its_migrations_run_up_and_down_and_match_the_models(make_app):
    app = make_app(PLUGINS=[PLUGIN], create_tables=False)
    with app.app_context():
        walk_branch(app, "knowledge")
        assert schema_differences(app) == []
