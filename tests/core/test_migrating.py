"""Migration plumbing: one branch per package, new revisions refused with a sentence when they
cannot be written (the tutorial test in test_scaffold.py writes a real one)."""

import re

import flask_migrate
import pytest
import sqlalchemy as sa
from alembic.util import CommandError

from core import migrating, scaffold
from core.extensions import db
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


def test_a_plugins_first_revision_starts_its_branch_with_its_own_tables_only(
        make_app, tmp_path, monkeypatch):
    """Written into a new plugin's (missing) migrations folder as <plugin>_0001_<message>.py,
    depending on core's newest revision, and blind to another branch's pending change."""
    source = tmp_path / "src" / "scratchpkg"
    source.mkdir(parents=True)
    (source / "__init__.py").write_text("")
    scaffold.write_plugin("scribble", source, tmp_path, kind="scribble_note")
    (source / "scribble" / "migrations").rmdir()  # as a plugin written by hand may have none
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    pending = sa.Table("core_pending_change", db.metadata, sa.Column("id", sa.Integer,
                                                                     primary_key=True))
    try:
        app = make_app(PLUGINS=["scratchpkg.scribble"], create_tables=False)
        with app.app_context():
            flask_migrate.upgrade(revision="heads")
            path = migrating.write_revision(app, "scribble", "scribble tables")
            core_head = branch_revisions(app, "core")[0]
    finally:
        db.metadata.remove(pending)
        db.metadata.remove(db.metadata.tables["scribble_scribble_note"])
    assert path == source / "scribble" / "migrations" / "scribble_0001_scribble_tables.py"
    text = path.read_text()
    assert "scribble_scribble_note" in text and "core_pending_change" not in text
    assert re.search(r"^branch_labels = \(['\"]scribble['\"],\)$", text, re.M)
    assert re.search(rf"^depends_on = ['\"]{core_head}['\"]$", text, re.M)
