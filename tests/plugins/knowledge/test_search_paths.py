"""The search index through the library's own paths, on SQLite and PostgreSQL: a resource saved
by the store is found (and an edit re-indexes it), a testimony's narrator is never searchable
(the index holds its scrubbed texts), and a resource shared by another node is searchable
when it arrives and gone when its copy is purged — in the purge's transaction."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import text

from core.extensions import db
from core.models import User
from core.plugins import plugin_manager
from core.records import SharedRecord
from core.testing import all_databases
from plugins.knowledge import search, store
from tests.plugins.knowledge.conftest import resource_data, story_data


@pytest.fixture
def salma(make_user):
    return make_user("salma", role="documenter")


def found(query: str) -> list[str]:
    return [hit.entry.record_uuid for hit in search.results(query)[0]]


def rows() -> int:
    return db.session.execute(text("SELECT count(*) FROM knowledge_search")).scalar()


def shared_copy(record_id: str, version: int = 1, **changes) -> SharedRecord:
    payload = {"kind": "guide", "language": "ar", "title": "دليل الحماية الرقمية",
               "summary": "للمدافعات عن حقوق الإنسان", "body": "تشفير الهاتف ومسؤولية الشبكة.",
               "tags": ["الأمن الرقمي"], "audience": "coalition", "byline": "",
               "licence": "cc-by-4.0", "published_on": "2026-03-08",
               "translation_group": str(uuid.uuid4()), **changes}
    return SharedRecord(origin="node-partner-tn", record_type="knowledge.resource",
                        record_id=record_id, version=version,
                        payload_text=json.dumps(payload, ensure_ascii=False))


@all_databases
def test_a_saved_resource_is_found_and_an_edit_reindexes_it(app, salma):
    with app.test_request_context():
        user = db.session.get(User, salma.id)
        guide = store.write(None, resource_data(), user)
        db.session.commit()
        assert found("securite numerique") == [guide.uuid]
        assert found("localisation") == [guide.uuid]  # its Markdown body
        store.write(guide, resource_data(title="Guide des manifestations",
                                         body="Rien sur les téléphones."), user)
        db.session.commit()
        assert found("manifestations") == [guide.uuid]
        assert found("localisation") == []


@all_databases
def test_a_testimony_is_found_by_its_words_never_by_its_narrator(app, salma):
    with app.test_request_context():
        story = store.write(None, story_data(), db.session.get(User, salma.id))
        db.session.commit()
        assert found("Sfax") == [story.uuid]
        assert found("Qzxtlili") == [] and found("Rim Qzxtlili") == []
        assert found("20 123 456") == []
        indexed = db.session.execute(text("SELECT * FROM knowledge_search")).all()
        assert "qzxtlili" not in repr(indexed).lower()


@all_databases
def test_a_shared_resource_is_searchable_then_purged_in_the_same_transaction(app):
    hooks = plugin_manager(app).hook
    record_id = str(uuid.uuid4())
    with app.test_request_context():
        hooks.shared_record_received(shared=shared_copy(record_id))
        db.session.commit()
        for spelling in ("مسوولية", "مسئولية", "الشبكه", "حـقـوق", "الانسان", "للمدافعات"):
            assert found(spelling) == [record_id], spelling

        hooks.shared_record_purged(shared=shared_copy(record_id))  # a tombstone arrived
        assert found("مسؤولية") == [] and rows() == 0  # before the purge commits
        db.session.rollback()  # the same transaction: undone together
        assert found("مسؤولية") == [record_id] and rows() == 1

        hooks.shared_record_purged(shared=shared_copy(record_id))
        db.session.commit()
        assert found("مسؤولية") == [] and rows() == 0


@all_databases
def test_a_newer_shared_version_replaces_the_words_of_the_older(app):
    hooks = plugin_manager(app).hook
    record_id = str(uuid.uuid4())
    with app.test_request_context():
        hooks.shared_record_received(shared=shared_copy(record_id))
        hooks.shared_record_received(shared=shared_copy(
            record_id, version=2, body="Nouvelle version : la défenseure.", language="fr"))
        db.session.commit()
        assert found("تشفير") == [] and found("defenseure") == [record_id]
        assert rows() == 1
