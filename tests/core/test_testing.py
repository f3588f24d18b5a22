"""What the test plugin does once for the whole run gives each test what it would have made."""

import sqlite3
from urllib.parse import urlsplit

from flask import render_template_string
from werkzeug.routing import Rule

from core.extensions import db
from core.testing import TEMPLATES, RuleBuiltOnce

EVERY_PLUGIN = ["federation", "plugins.cases", "plugins.events", "plugins.knowledge",
                "plugins.country_tn", "tests.fixtures.testimony"]


def code_of(function):
    code = function.__code__
    return (code.co_code, code.co_consts, code.co_names, code.co_varnames,
            code.co_argcount, function.__defaults__)


def test_each_rule_s_builders_are_the_ones_werkzeug_compiles_for_it(make_app):
    make_app(PLUGINS=EVERY_PLUGIN)  # the first app fills the cache
    app = make_app(PLUGINS=EVERY_PLUGIN)
    rules = list(app.url_map.iter_rules())
    assert len(rules) > 90 and all(isinstance(rule, RuleBuiltOnce) for rule in rules)
    for rule in rules:
        for append_unknown in (False, True):
            kept = rule._compile_builder(append_unknown)
            assert code_of(kept) == code_of(Rule._compile_builder(rule, append_unknown)), rule


def test_a_rule_with_other_defaults_gets_a_builder_of_its_own():
    from werkzeug.routing import Map

    pages = Map([RuleBuiltOnce("/cases/<int:page>", defaults={"page": 1}, endpoint="one"),
                 RuleBuiltOnce("/cases/<int:page>", defaults={"page": 2}, endpoint="two")])
    urls = pages.bind("node.example")
    assert urls.build("one") == "/cases/1" and urls.build("two") == "/cases/2"


def test_a_new_sqlite_database_has_the_tables_create_all_makes(make_app, tmp_path):
    make_app(PLUGINS=["plugins.cases"])
    copied = make_app(PLUGINS=["plugins.cases"],  # the same tables: a copy
                      SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'copied.db'}")
    made = make_app(PLUGINS=["plugins.cases"], create_tables=False,
                    SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'made.db'}")
    with made.app_context():
        db.create_all()
    with copied.app_context():
        db.session.execute(db.text("SELECT 1"))  # opened as the app opens it
    schemas = []
    for app in (copied, made):
        with app.app_context():
            db.engine.dispose()
        connection = sqlite3.connect(urlsplit(app.config["SQLALCHEMY_DATABASE_URI"]).path)
        schemas.append((
            sorted(connection.execute("SELECT type, name, sql FROM sqlite_master")),
            [connection.execute(f"PRAGMA {name}").fetchone()
             for name in ("page_size", "journal_mode", "auto_vacuum")],
            connection.execute("SELECT count(*) FROM core_user").fetchone()))
        connection.close()
    assert len(schemas[0][0]) > 20 and schemas[0] == schemas[1]


def test_a_template_edited_meanwhile_is_compiled_again(make_app, tmp_path):
    from jinja2 import FileSystemLoader

    folder = tmp_path / "templates"
    folder.mkdir()
    page = folder / "page.html"
    key = TEMPLATES.get_cache_key("page.html", str(page))
    for text, shown in (("one {{ 1 }}", "one 1"), ("two {{ 2 }}", "two 2")):
        page.write_text(text)
        app = make_app()  # a new app, as each test has: its templates compiled or kept
        app.jinja_env.loader = FileSystemLoader(str(folder))
        with app.test_request_context():
            assert render_template_string("{% include 'page.html' %}") == shown
        assert key in TEMPLATES.code


def test_a_test_that_takes_the_postgresql_server_itself_is_marked_for_it(pytester):
    """`make test-fast` (``-m "not postgresql"``) leaves out every test that needs the server:
    a run on both databases is marked on its PostgreSQL run, a test that asks for the server
    itself (``postgres_server_url``) is marked, one that only runs on SQLite is not."""
    pytester.makeconftest('pytest_plugins = ["core.testing"]')
    pytester.makepyfile(test_marks="""
        from core.testing import all_databases

        @all_databases
        def test_both(db_backend):
            pass

        def test_the_server(postgres_server_url):
            pass

        def test_neither(tmp_path):
            pass
    """)
    collected = pytester.runpytest("--collect-only", "-q", "-m", "postgresql", "-p",
                                   "no:cacheprovider")
    marked = {line.split("::", 1)[1] for line in collected.outlines if "::" in line}
    assert marked == {"test_both[postgresql]", "test_the_server"}
