"""The leak check extended to the library: testimonies and resources written the way
documenters write (bench/canaries.py) hold nothing identifying in what leaves for partner
nodes and the hub, nor in the catalogue and search index; a testimony's narrator, contact
and texts as written are found 0 times at rest (SQLite file, WAL, dump; pg_dump)."""

import json
import random

import pytest
from sqlalchemy import select

from bench.canaries import GENERALISED, HELD, documented_case, leaked
from bench.leakcheck import POLICY
from core.extensions import db
from core.models import User
from core.redaction import redact
from core.testing import all_databases, database_copies
from plugins.knowledge import schemas, store
from plugins.knowledge.models import Entry

from .conftest import PLUGIN, story_data

SCHEMAS = {"testimony": schemas.TestimonySchema(), "resource": schemas.ResourceSchema()}
CANARIES = ("Qzxtlili", "Qzxhaddad", "Qzxbenali", "20 123 456", "20123456")


@pytest.mark.parametrize("name", sorted(SCHEMAS))
@pytest.mark.parametrize("seed", range(30))
def test_nothing_held_survives_redaction(name, seed):
    schema = SCHEMAS[name]
    case = documented_case(random.Random(seed), schema)
    for audience in ("peers", "hub"):
        payload = redact(case.values, schema, audience, POLICY).payload
        assert [(c.category, c.shown) for c in leaked(payload, case.canaries)
                if c.group in (HELD, GENERALISED)] == [], audience
    assert leaked(redact(case.values, schema, "public-aggregate", POLICY).payload,
                  case.canaries) == []


def _found(text: str) -> list[str]:
    return [c for c in CANARIES if c.casefold() in text.casefold()]


@all_databases
def test_a_testimony_is_sealed_at_rest(make_app, make_user, database_url):
    app = make_app(PLUGINS=[PLUGIN], unlocked=True)
    salma = make_user("salma", role="documenter")
    with app.test_request_context():
        author = db.session.get(User, salma.id)
        told = store.write(None, story_data(tags="Qzxtlili, Sfax"), author)
        store.write(told, story_data(summary="Rim Qzxtlili, deuxième version."), author)
        entry = db.session.scalars(select(Entry)).one()
        assert _found(json.dumps([entry.title, entry.summary, entry.body, entry.tags])) == []
    for where, copy in database_copies(database_url).items():
        assert _found(copy.decode("utf-8", errors="replace")) == [], where
