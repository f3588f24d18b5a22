"""Fixtures for Rabita's own tests (core's fixture factories come from core/testing.py)."""

from datetime import date

import pytest

# The shipped fixtures, asked for here (not installed into every pytest run of the
# environment): a plugin author's own conftest.py names them the same way.
# pytester: tests of those fixtures run pytest on a small test file of their own.
pytest_plugins = ["core.testing", "federation.testing", "pytester"]

TESTIMONY = "tests.fixtures.testimony"
# Fixtures that start real nodes (keys, a database each, often a server process): a test
# using one takes seconds, so it is `slow` — `make test-fast` leaves it out, `make test` not.
NODE_FIXTURES = {"make_node", "two_nodes", "three_nodes"}


def pytest_collection_modifyitems(items):
    for item in items:
        if NODE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def records_app(make_app):
    """A node with the test record type and Tunisia's gazetteer, unlocked."""
    return make_app(PLUGINS=[TESTIMONY, "plugins.country_tn"], unlocked=True)


@pytest.fixture
def make_testimony(records_app):
    """Write a testimony through the record layer: ``make_testimony(author, teller_name=...)``."""
    from core import records
    from core.extensions import db
    from core.models import User
    from tests.fixtures.testimony.models import Testimony, Witness

    identifying = ("teller_name", "teller_phone", "teller_address", "private_notes")

    def factory(author=None, *, witnesses=(), **values):
        with records_app.app_context():
            user = db.session.get(User, author.id) if author is not None else None
            testimony = records.new(Testimony, user)
            defaults = {
                "title": "Summons after a radio interview",
                "narrative": "She was summoned to the police station after the interview.",
                "tags": ["summons"],
                "place": "TN-61:sakiet-ezzit",
                "happened_on": date(2025, 3, 14),
                "age": 34,
                "people_affected": 3,
            }
            defaults.update(values)
            for name, value in defaults.items():
                if name in identifying:
                    records.set_identifying(testimony, testimony, name, value)
                else:
                    setattr(testimony, name, value)
            for statement, name in witnesses:
                witness = Witness(statement=statement)
                testimony.witnesses.append(witness)
                records.set_identifying(testimony, witness, "name", name)
            records.save(testimony, user)
            return testimony.uuid

    return factory


def load_testimony(app, uuid):
    from sqlalchemy import select

    from core.extensions import db
    from tests.fixtures.testimony.models import Testimony

    return db.session.scalar(select(Testimony).where(Testimony.uuid == uuid))


@pytest.fixture
def federation_plugins():
    """Test nodes run federation with the test record type and Tunisia's gazetteer."""
    return ["federation", TESTIMONY, "plugins.country_tn"]
