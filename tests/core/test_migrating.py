"""Migration plumbing: one branch per package, new revisions refused with a sentence when they
cannot be written (the tutorial test in test_scaffold.py writes a real one)."""

import pytest
from alembic.util import CommandError

from core import migrating
from core.migrating import MigrationError, branch_folder, branch_revisions, walk_branch
from core.testing import all_databases


def test_each_branch_has_its_folder_and_revisions(make_app):
    app = make_app(PLUGINS=["plugins.cases"], create_tables=False)
    with app.app_context():
        assert branch_folder(app, "core") == migrating.CORE_VERSIONS
        assert branch_folder(app, "cases").name == "migrations"
        assert branch_revisions(app, "cases")[-1] == "cases_0001"  # newest first
        assert branch_revisions(app, "core")[0].startswith("core_")


def test_a_revision_of_a_plugin_that_is_not_on_is_refused(make_app):
    app = make_app(create_tables=False)
    with app.app_context(), pytest.raises(MigrationError, match="No active plugin is named"):
        migrating.write_revision(app, "cases", "anything")


def test_a_revision_on_a_database_behind_is_refused_and_nothing_is_written(make_app):
    app = make_app(PLUGINS=["plugins.cases"], create_tables=False)
    folder = branch_folder(app, "cases")
    before = sorted(folder.iterdir())
    with app.app_context(), pytest.raises(CommandError, match="not up to date"):
        migrating.write_revision(app, "cases", "anything")
    assert sorted(folder.iterdir()) == before


def test_the_command_says_so_in_a_sentence(make_app):
    app = make_app(create_tables=False)
    result = app.test_cli_runner().invoke(args=["db", "revision", "--branch", "nobody",
                                                "-m", "x"])
    assert result.exit_code == 1
    assert "No active plugin is named 'nobody'" in result.output
    assert "Nothing was written." in result.output


@all_databases
def test_a_branch_walks_down_to_nothing_and_up_again(make_app):
    app = make_app(PLUGINS=["plugins.cases"], create_tables=False)
    with app.app_context():
        walk_branch(app, "cases")
        assert migrating.schema_differences(app) == []
