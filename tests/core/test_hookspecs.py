"""The plugin API: each hook documented, called by core, and tested here by name."""

import inspect
import re
from pathlib import Path

import click
import pytest
from flask import Blueprint

from core import hookspecs, ledger_words
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
    page = _signed_in_page(app, "member", "/search", posted={"q": "SFAX"})  # words are posted
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


def _signed_in_page(app, role, url, username="amina", posted=None):
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
    return (client.submit(url, posted) if posted else client.get(url)).get_data(as_text=True)


# -- records and redaction hooks -------------------------------------------------------------


def _redacted(make_app, make_plugin, **hooks):
    from core import records
    from tests.conftest import TESTIMONY
    from tests.fixtures.testimony.models import Testimony

    app = make_app(PLUGINS=[TESTIMONY, "plugins.country_tn", make_plugin("policy", **hooks)],
                   unlocked=True)
    with app.test_request_context():
        record = records.new(Testimony, None)
        record.title, record.narrative = "Summons", "Call +216 20 123 456 or 07123456"
        record.place = "TN-61:sakiet-ezzit"
        return records.redaction(record, "hub")


def test_hook_access_blockers(make_app, make_plugin):
    """A record any plugin hides from her answers 404 on every record page, like a record
    that does not exist; others still open it."""
    from core import records
    from core.extensions import db
    from core.models import User
    from core.testing import add_person, signed_in_client
    from tests.conftest import TESTIMONY
    from tests.fixtures.testimony.models import Testimony

    hidden_from = set()
    app = make_app(PLUGINS=[TESTIMONY, "plugins.country_tn", make_plugin(
        "secrecy", access_blockers=lambda record, user:
        ["policy.secret"] if user.username in hidden_from else [])], unlocked=True)
    with app.app_context():
        salma, huda = add_person("salma", role="admin"), add_person("huda", role="admin")
        record = records.new(Testimony, db.session.get(User, salma.id))
        record.title = "Summons"
        records.save(record, db.session.get(User, salma.id))
        uuid = record.uuid
    hidden_from.add("huda")
    page = f"/records/testimony.testimony/{uuid}/consent"
    assert signed_in_client(app, salma.id).get(page).status_code == 200
    assert signed_in_client(app, huda.id).get(page).status_code == 404
    with app.test_request_context():
        record = records.find("testimony.testimony", uuid, db.session.get(User, salma.id))
        assert records.may_open(record, db.session.get(User, salma.id))
        assert not records.may_open(record, db.session.get(User, huda.id))


def test_hook_register_places(make_app, make_plugin):
    from core.places import Place, gazetteer

    app = make_app(PLUGINS=[make_plugin("dz", register_places=lambda: [
        Place("DZ", "country", {"en": "Algeria"}), Place("DZ-16", "governorate", parent="DZ")])])
    assert gazetteer(app).up_to("DZ-16", "country") == "DZ"


def test_hook_register_phone_regions(make_app, make_plugin):
    from core.scrub import Scrubber, Secrets

    app = make_app(PLUGINS=[make_plugin("dz", register_phone_regions=lambda: ["DZ"])])
    scrubber = app.extensions["rabita.scrubber"]
    assert scrubber.phone_regions == ("DZ",)
    assert scrubber.scrub("appelez le 21 23 45 67", Secrets([])) == "appelez le [redacted]"
    assert Scrubber().scrub("appelez le 21 23 45 67", Secrets([])) == "appelez le 21 23 45 67"


def test_hook_register_scrub_patterns(make_app, make_plugin):
    from core.scrub import ScrubPattern

    pattern = ScrubPattern("policy.passport", r"(?<!\d)\d{7}(?!\d)")
    app = make_app(PLUGINS=[make_plugin("policy", register_scrub_patterns=lambda: [pattern])])
    scrubber = app.extensions["rabita.scrubber"]
    from core.scrub import Scrubber, Secrets

    assert scrubber.scrub("passport 1234567 seen", Secrets([])) == "passport [redacted] seen"
    assert Scrubber().scrub("passport 1234567 seen", Secrets([])) == "passport 1234567 seen"


def test_hook_redacted_fields(make_app, make_plugin):
    result = _redacted(make_app, make_plugin, redacted_fields=lambda record, audience: ["title"])
    assert "title" not in result.payload and "title" in result.withheld
    assert result.payload["place"] == "TN-61"


def test_hook_share_blockers(make_app, make_plugin):
    result = _redacted(make_app, make_plugin,
                       share_blockers=lambda record, audience: ["policy.minor"])
    assert result.blocked and result.payload == {} and result.blockers == ("policy.minor",)


def test_hook_register_terms(make_app, make_plugin):
    from core.vocabularies import Term, vocabulary

    terms = [Term("notes.mood", "calm", {"en": "Calm", "ar": "هادئ"}),
             Term("notes.mood", "very-calm", {"en": "Very calm"}, parent="calm")]
    app = make_app(PLUGINS=[make_plugin("notes", register_terms=lambda: terms)])
    mood = vocabulary("notes.mood", app)
    assert [t.code for t in mood.children("calm")] == ["very-calm"]
    assert mood.label("calm", "ar") == "هادئ" and mood.label("calm", "fr") == "Calm"
    assert "sad" not in mood


def test_hook_node_id(make_app, make_plugin):
    app = make_app(PLUGINS=[make_plugin("identity", node_id=lambda app: "node-abc123")])
    assert app.config["NODE_ID"] == "node-abc123"
    assert make_app().config["NODE_ID"] == "local"


def test_hook_node_initialised(tmp_path, monkeypatch, make_plugin):
    from click.testing import CliRunner

    from core.cli import cli

    seen = []
    plugin = make_plugin("watcher", node_initialised=lambda app: seen.append(app.instance_path))
    (tmp_path / "pw").write_text("olive grove in the morning\n")
    (tmp_path / "pp").write_text("seven lanterns by the blue door\n")
    monkeypatch.setenv("RABITA_PLUGINS", f'["{plugin}"]')
    monkeypatch.setenv("RABITA_KEY_SHARE_DIR", f'"{tmp_path}"')
    result = CliRunner().invoke(cli, [
        "--instance", str(tmp_path / "node"), "init", "--admin", "nour",
        "--admin-password-file", str(tmp_path / "pw"), "--passphrase-file", str(tmp_path / "pp")])
    monkeypatch.delenv("RABITA_INSTANCE_PATH", raising=False)
    assert result.exit_code == 0, result.output
    assert seen == [str(tmp_path / "node")]


def test_hook_node_restored(tmp_path, monkeypatch, make_plugin, insecure_fast_kdf):
    from click.testing import CliRunner

    from core.cli import cli

    seen = []
    plugin = make_plugin("watcher", node_restored=lambda app, taken_at: seen.append(
        (app.instance_path, taken_at)))
    (tmp_path / "pw").write_text("olive grove in the morning\n")
    (tmp_path / "pp").write_text("seven lanterns by the blue door\n")
    (tmp_path / "bp").write_text("a backup passphrase, long enough\n")
    monkeypatch.setenv("RABITA_PLUGINS", f'["{plugin}"]')
    monkeypatch.setenv("RABITA_KEY_SHARE_DIR", f'"{tmp_path}"')

    def run(instance, *args):
        result = CliRunner().invoke(cli, ["--instance", str(tmp_path / instance), *args])
        monkeypatch.delenv("RABITA_INSTANCE_PATH", raising=False)
        assert result.exit_code == 0, result.output
        return result

    run("node", "init", "--admin", "nour", "--admin-password-file", str(tmp_path / "pw"),
        "--passphrase-file", str(tmp_path / "pp"))
    run("node", "backup", str(tmp_path / "node.rbk"), "--passphrase-file", str(tmp_path / "bp"))
    assert seen == []
    restored = run("copy", "restore", str(tmp_path / "node.rbk"), "--passphrase-file",
                   str(tmp_path / "bp"))
    assert [path for path, _ in seen] == [str(tmp_path / "copy")]
    assert seen[0][1] in restored.output  # when the backup was taken


def test_hook_consent_recorded(make_app, make_plugin, make_user):
    from datetime import date

    from core import consent, records
    from core.extensions import db
    from core.models import User
    from tests.conftest import TESTIMONY
    from tests.fixtures.testimony.models import Testimony

    seen = []
    app = make_app(PLUGINS=[TESTIMONY, make_plugin("watcher", consent_recorded=lambda consent:
                                                   seen.append(consent.audience_list))],
                   unlocked=True)
    salma = make_user("salma", role="documenter")
    with app.app_context():
        record = records.new(Testimony, None)
        records.save(record, None)
        consent.record(record, user=db.session.get(User, salma.id), given_by="defender",
                       method="oral", audiences=["hub", "peers"], purposes=["advocacy"],
                       obtained_on=date(2026, 1, 1))
    assert seen == [["peers", "hub"]]


# -- the reference in docs/plugins.md is generated from the docstrings ------------------------


@pytest.mark.parametrize("name", hook_names())
def test_every_hook_documents_its_arguments_with_types_what_it_returns_and_an_example(name):
    from tools import hookdoc

    hook = hookdoc.parse(name, "")
    parameters = list(inspect.signature(getattr(hookspecs, name)).parameters)
    assert [argument for argument, _kind, _text in hook.arguments] == parameters, \
        f"{name}: an 'Args:' entry 'name (type): what it is' for each argument, in order"
    assert all(kind and text for _argument, kind, text in hook.arguments), name
    assert all(hook.returns), f"{name}: 'Returns:' then 'type: what it is'"
    assert f"def {name}(" in hook.example, f"{name}: an 'Example::' implementing the hook"
    compile(hook.example, name, "exec")  # the example is Python


def test_the_hook_reference_in_the_plugin_guide_is_current():
    from tools import hookdoc

    assert hookdoc.current(hookdoc.DOCS.read_text()) == hookdoc.reference(), \
        "run: python -m tools.hookdoc"


def test_hook_register_settings(make_app, make_plugin):
    from core.settings import Setting, SettingError

    def register_settings():
        return [Setting("NOTES_PER_PAGE", 50, "notes on one page"),
                Setting("NOTES_SORT", "newest", "order", choices=("newest", "oldest"))]

    app = make_app(PLUGINS=[make_plugin("notes", register_settings=register_settings)])
    assert app.config["NOTES_PER_PAGE"] == 50 and app.config["NOTES_SORT"] == "newest"
    app = make_app(PLUGINS=[make_plugin("notes", register_settings=register_settings)],
                   NOTES_PER_PAGE=20)
    assert app.config["NOTES_PER_PAGE"] == 20
    with pytest.raises(SettingError, match="NOTES_PER_PAGE in the instance config must be a "
                                           "whole number, not text"):
        make_app(PLUGINS=[make_plugin("notes", register_settings=register_settings)],
                 NOTES_PER_PAGE="20")


def test_hook_node_labels(make_app, make_plugin):
    """The outbound ledger names its recipients by what a plugin knows of them (federation:
    the names its administrators gave its peers), and shows ids without one."""
    app = make_app(PLUGINS=[make_plugin("names", node_labels=lambda node_ids: {
        node_id: f"Node {node_id[:3]}" for node_id in node_ids if node_id != "unnamed"})])
    with app.app_context():
        assert ledger_words._recipient_names({"abcdef", "unnamed"}) == {"abcdef": "Node abc"}
        assert ledger_words._recipient_names(set()) == {}
    bare = make_app()
    with bare.app_context():
        assert ledger_words._recipient_names({"abcdef"}) == {}
