"""Factories for the events tests: an app with the plugin, and an event written as the form
would write it."""

from __future__ import annotations

from datetime import datetime

import pytest

from plugins.events import store
from tests.federation.conftest import federation_app  # noqa: F401 -- its fixture, for test_outbox

PLUGIN = "plugins.events"


def event_data(**changes) -> dict:
    """What the event form gives (local times in ``timezone``)."""
    data = {"title": "Digital safety training", "description": "Phones and passwords",
            "kind": "training", "starts_at": datetime(2026, 3, 20, 18, 0),
            "ends_at": datetime(2026, 3, 20, 20, 0), "timezone": "Europe/Paris",
            "recurrence": "", "city": "Tunis", "location_visibility": "secret",
            "location": "Dar Zaytouna, 14 rue des Oliviers", "online_link":
            "https://meet.example.org/zaytouna-7Q", "audience": "coalition",
            "capacity": 20, "registration_open": True, "languages": ["ar", "fr"]}
    return {**data, **changes}


@pytest.fixture
def app(make_app):
    return make_app(PLUGINS=[PLUGIN], unlocked=True)


@pytest.fixture
def make_event(app):
    """``make_event(user, **changes)``: a saved event (call inside a request context)."""

    def make(user, **changes):
        return store.write(None, event_data(**changes), user)

    return make
