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
def test_a_database_is_up_to_date_only_at_every_branchs_head(make_app):
    app = make_app(PLUGINS=["plugins.cases"], create_tables=False)
    with app.app_context():
        assert not migrating.up_to_date(app)  # nothing migrated yet
        flask_migrate.upgrade(revision="heads")
        assert migrating.up_to_date(app)
        flask_migrate.downgrade(revision=branch_revisions(app, "cases")[1])  # one step back
        assert not migrating.up_to_date(app)
        flask_migrate.upgrade(revision="heads")
        assert migrating.up_to_date(app)


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


def test_timestamps_in_sqlites_short_form_are_completed(tmp_path):
    """Moments written before issue 14 by the driver's own conversion lack ``.000000`` when a
    moment had no microseconds; compared as text they sorted before the same second written
    by SQLAlchemy. The data migrations complete them; other values stay as they were."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    table = sa.Table("ledger", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("sent_at", sa.DateTime), sa.Column("note", sa.String(40)))
    table.metadata.create_all(engine)
    stored = ["2026-11-28 20:15:00", "2026-11-28 20:15:00.250000", None, "2026-11-28 20:15:00"]
    with engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO ledger (sent_at, note) VALUES "
                                   "(:at, '2026-11-28 20:15:00')"), [{"at": at} for at in stored])
        assert migrating.complete_sqlite_timestamps(connection, ("ledger",)) == 2
        rows = connection.execute(sa.text("SELECT sent_at, note FROM ledger ORDER BY id")).all()
        assert [row.sent_at for row in rows] == ["2026-11-28 20:15:00.000000",
                                                 "2026-11-28 20:15:00.250000", None,
                                                 "2026-11-28 20:15:00.000000"]
        assert {row.note for row in rows} == {"2026-11-28 20:15:00"}  # not a date-time column
        assert migrating.complete_sqlite_timestamps(connection, ("ledger",)) == 0  # once


def test_the_timestamp_migrations_name_tables_with_moments(make_app):
    """The tables the data migrations complete exist and hold date-time columns (a renamed
    table would otherwise be skipped without a word)."""
    app = make_app(create_tables=False)
    names = ("core_ledger_entry", "federation_entry", "federation_record")
    with app.app_context():
        for name in names:
            table = db.metadata.tables[name]
            assert any(isinstance(getattr(column.type, "impl_instance", column.type),
                                  sa.DateTime) for column in table.columns), name
