"""The plugin API: each hook documented, called by core, and tested here by name."""

import inspect
import re
from pathlib import Path

import click
import pytest
from flask import Blueprint

from core import hookspecs
from core.dashboard import DashboardItem, NavItem, SearchResult
from core.permissions import Permission
from core.records import RecordType, announce_saved, record_types

CORE = Path(hookspecs.__file__).parent
TESTS = Path(__file__).parent.parent


def hook_names():
    return sorted(
        name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(fn, "rabita_spec")
    )


def test_there_are_hooks():
    assert len(hook_names()) >= 8


@pytest.mark.parametrize("name", hook_names())
def test_every_hook_has_one_docstring_saying_what_it_returns_or_when_it_is_called(name):
    doc = inspect.getdoc(getattr(hookspecs, name)) or ""
    assert doc.split()[0] in {"Return", "Called"}, f"{name}: start with 'Return' or 'Called'"


@pytest.mark.parametrize("name", hook_names())
def test_every_hook_is_called_by_core(name):
    sources = [p.read_text() for p in CORE.rglob("*.py") if p.name != "hookspecs.py"]
    pattern = re.compile(rf'hook\.{name}\(|results_by_plugin\(\s*\w+,\s*"{name}"')
    assert any(pattern.search(source) for source in sources), f"core never calls {name}"


@pytest.mark.parametrize("name", hook_names())
def test_every_hook_has_its_test(name):
    tests = "".join(p.read_text() for p in TESTS.rglob("test_*.py"))
    assert f"def test_hook_{name}(" in tests


# -- one test per hook -----------------------------------------------------------------------


def test_hook_register_blueprints(make_app, make_plugin, make_user, login_as):
    notes = Blueprint("notes", __name__, url_prefix="/notes")
    notes.add_url_rule("/", "index", lambda: "the notes page")
    app = make_app(PLUGINS=[make_plugin("notes", register_blueprints=lambda: [notes])])
    assert "notes.index" in app.view_functions


def test_hook_register_permissions(make_app, make_plugin):
    permission = Permission("notes.read", "Read notes", {"member"})
    app = make_app(PLUGINS=[make_plugin("notes", register_permissions=lambda: [permission])])
    from core.permissions import registry

    assert registry(app).allows("member", "notes.read")
    assert not registry(app).allows("reviewer", "notes.read")


def test_hook_register_commands(make_app, make_plugin):
    @click.command("notes")
    def notes():
        click.echo("notes command ran")

    app = make_app(PLUGINS=[make_plugin("notes", register_commands=lambda: [notes])])
    result = app.test_cli_runner().invoke(args=["notes"])
    assert result.exit_code == 0 and "notes command ran" in result.output


def test_hook_navigation_items(make_app, make_plugin, insecure_fast_kdf):
    from core.permissions import MANAGE_USERS

    items = [NavItem("Notes", "home.search"), NavItem("Secret notes", "home.index", MANAGE_USERS)]
    app = make_app(PLUGINS=[make_plugin("notes", navigation_items=lambda user: items)])
    page = _signed_in_page(app, "member", "/")
    assert "Notes" in page and "Secret notes" not in page  # filtered by permission
    assert "Secret notes" in _signed_in_page(app, "admin", "/", username="nour")


def test_hook_dashboard_items(make_app, make_plugin, insecure_fast_kdf, tmp_path):
    item = DashboardItem("Open cases", "dashboard_test.html", {"count": 7})
    app = make_app(PLUGINS=[make_plugin("notes", dashboard_items=lambda user: [item])])
    app.jinja_loader.searchpath.append(str(tmp_path))
    (tmp_path / "dashboard_test.html").write_text("<p>{{ item.context.count }} open</p>")
    page = _signed_in_page(app, "member", "/")
    assert "Open cases" in page and "7 open" in page


def test_hook_search_results(make_app, make_plugin, insecure_fast_kdf):
    seen = []

    def search_results(query, user):
        seen.append(query.folded)
        return [SearchResult("note", "Meeting in Sfax", "/notes/1")] if "sfax" in query.terms else []

    app = make_app(PLUGINS=[make_plugin("notes", search_results=search_results)])
    page = _signed_in_page(app, "member", "/search?q=SFAX")
    assert "Meeting in Sfax" in page and seen == ["sfax"]


def test_hook_register_record_types(make_app, make_plugin):
    record_type = RecordType("notes.note", schema=None)
    app = make_app(PLUGINS=[make_plugin("notes", register_record_types=lambda: [record_type])])
    assert record_types(app).get("notes.note") is record_type


def test_hook_record_saved(make_app, make_plugin):
    saved = []
    app = make_app(PLUGINS=[make_plugin("notes", record_saved=lambda record, user: saved.append(
        (record, user)))])
    with app.app_context():
        announce_saved("a record", "a user")
    assert saved == [("a record", "a user")]


def _signed_in_page(app, role, url, username="amina"):
    from core import users
    from core.extensions import db

    with app.app_context():
        users.create(username, "correct horse battery", role)
        db.session.commit()
    client = app.test_client()
    client.submit("/login", {"username": username, "password": "correct horse battery"})
    if role == "admin":  # an admin needs her second factor first; enrol through the page
        import re as _re

        import pyotp

        page = client.get("/second-factor").get_data(as_text=True)
        secret = _re.search(r"<code>([A-Z2-7 ]+)</code>", page).group(1).replace(" ", "")
        client.submit("/second-factor", {"code": pyotp.TOTP(secret).now()})
    return client.get(url).get_data(as_text=True)
