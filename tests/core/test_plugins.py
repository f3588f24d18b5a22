"""Plugins: on only when named, loaded by path or entry point, conventions enforced at start."""

import textwrap

import pytest
from flask import Blueprint
from sqlalchemy import Integer
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.permissions import Permission
from core.plugins import PluginError, plugin_manager
from core.records import RecordType


@pytest.fixture
def installed_plugin(tmp_path, monkeypatch):
    """A real installed distribution offering a plugin in the rabita.plugins group."""
    package = tmp_path / "rabita_bulletin"
    package.mkdir()
    (package / "__init__.py").write_text(textwrap.dedent('''
        from core.hookspecs import hookimpl
        from core.permissions import Permission

        @hookimpl
        def register_permissions():
            return [Permission("bulletin.read", "Read the bulletin", {"member"})]
    '''))
    dist = tmp_path / "rabita_bulletin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: rabita-bulletin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[rabita.plugins]\nbulletin = rabita_bulletin\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return "bulletin"


def test_no_plugin_runs_unless_named(make_app, installed_plugin):
    app = make_app()
    assert plugin_manager(app).get_plugins() == set()


def test_an_installed_plugin_loads_by_its_entry_point_name(make_app, installed_plugin):
    app = make_app(PLUGINS=[installed_plugin])
    assert plugin_manager(app).has_plugin("bulletin")
    from core.permissions import registry

    assert registry(app).allows("member", "bulletin.read")


def test_each_app_has_its_own_plugin_manager(make_app, make_plugin):
    first = make_app(PLUGINS=[make_plugin("notes")])
    second = make_app()
    assert plugin_manager(first) is not plugin_manager(second)
    assert plugin_manager(second).get_plugins() == set()


@pytest.mark.parametrize("reference, words", [
    ("plugins.does_not_exist", "cannot be imported"),
    ("nothing_by_this_name", "no installed package offers"),
])
def test_a_missing_plugin_stops_start_up_with_a_sentence(make_app, reference, words):
    with pytest.raises(PluginError, match=words):
        make_app(PLUGINS=[reference])


def test_a_misspelled_hook_stops_start_up(make_app, make_plugin):
    with pytest.raises(PluginError, match="hook that does not exist"):
        make_app(PLUGINS=[make_plugin("notes", register_blueprint=lambda: [])])


def test_a_plugin_listed_twice_or_with_a_core_name_is_refused(make_app, make_plugin):
    notes = make_plugin("notes")
    with pytest.raises(PluginError, match="listed twice"):
        make_app(PLUGINS=[notes, notes])
    with pytest.raises(PluginError, match="reserved"):
        make_app(PLUGINS=[make_plugin("admin")])


def test_a_blueprint_must_carry_the_plugin_name(make_app, make_plugin):
    wrong = Blueprint("diary", __name__)
    with pytest.raises(PluginError, match=r"must be named after the plugin: Blueprint\('notes'"):
        make_app(PLUGINS=[make_plugin("notes", register_blueprints=lambda: [wrong])])


def test_permissions_must_start_with_the_plugin_name(make_app, make_plugin):
    permission = Permission("diary.read", "Read", {"member"})
    with pytest.raises(PluginError, match="must start with 'notes.'"):
        make_app(PLUGINS=[make_plugin("notes", register_permissions=lambda: [permission])])


def test_record_types_must_start_with_the_plugin_name(make_app, make_plugin):
    record_type = RecordType("case", schema=None)
    with pytest.raises(PluginError, match="Rename it to notes.case"):
        make_app(PLUGINS=[make_plugin("notes", register_record_types=lambda: [record_type])])


def test_tables_must_start_with_the_plugin_name(make_app, make_plugin):
    path = make_plugin("tidy")

    class Entry(db.Model):  # a model living in the plugin's package
        __module__ = f"{path}.models"
        __tablename__ = "entries_of_tidy"
        id: Mapped[int] = mapped_column(Integer, primary_key=True)

    with pytest.raises(PluginError, match="must start with 'tidy_'"):
        make_app(PLUGINS=[path], create_tables=False)
    db.metadata.remove(Entry.__table__)


def test_a_plugin_command_cannot_replace_a_core_one(make_app, make_plugin):
    import click

    with pytest.raises(PluginError, match="already exists"):
        make_app(PLUGINS=[make_plugin("notes", register_commands=lambda: [click.Command("users")])])


def test_every_hook_call_goes_through_pluggy(make_app, make_plugin):
    """Convention checks need to know which plugin returned what; they still call each plugin
    through pluggy (its argument matching, its call monitoring), one plugin at a time."""
    from core.plugins import results_by_plugin

    notes = Permission("notes.read", "Read notes", {"member"})
    app = make_app(PLUGINS=[make_plugin("notes", register_permissions=lambda: [notes]),
                            make_plugin("diary", register_permissions=lambda: None),
                            make_plugin("quiet")])
    monitored = []
    undo = plugin_manager(app).add_hookcall_monitoring(
        lambda name, impls, kwargs: monitored.append((name, [i.plugin_name for i in impls])),
        lambda outcome, name, impls, kwargs: None)
    try:
        results = results_by_plugin(app, "register_permissions")
    finally:
        undo()
    assert results == [("notes", [notes])]
    assert sorted(monitored) == [("register_permissions", ["diary"]),
                                 ("register_permissions", ["notes"])]
