"""Events: it loads with its record type documented, its migrations run up and down, and
what leaves for the hub is the event without its place, link or attendees."""

from pathlib import Path

import plugins.events as plugin
from core import declaration, records
from core.migrating import schema_differences, walk_branch
from core.testing import all_databases

from .conftest import PLUGIN

RECORDS_MD = Path(plugin.__file__).parents[2] / "docs" / "records.md"


def test_it_loads_with_its_record_type_documented(app):
    with app.app_context():
        record_type = records.record_types().get("events.event")
        assert record_type.data_subject is False
        assert declaration.problems(record_type, RECORDS_MD.read_text(encoding="utf-8")) == []


@all_databases
def test_its_migrations_run_up_and_down_and_match_the_models(make_app):
    app = make_app(PLUGINS=[PLUGIN], create_tables=False)
    with app.app_context():
        walk_branch(app, "events")
        assert schema_differences(app) == []


def test_what_leaves_is_the_event_without_its_place_or_link(app, make_user, make_event):
    salma = make_user("salma", role="documenter")
    with app.test_request_context():
        event = make_event(salma)
        sent = records.redaction(event, "hub")
    assert sent.payload["title"] == "Digital safety training"
    assert sent.payload["starts_at"].startswith("2026-03-20T17:00:00")
    assert sent.payload["timezone"] == "Europe/Paris" and sent.payload["city"] == "Tunis"
    assert {"location", "online_link", "follow_ups"} <= set(sent.withheld)
    text = repr(sent.payload)
    assert "Zaytouna" not in text and "meet.example" not in text
