"""Writing resources and testimonies: what is kept where, translations, versions, and bad
input that changes nothing."""

import pytest
from sqlalchemy import func, select

from core import records
from core.extensions import db
from core.models import AuditEntry, User
from plugins.knowledge import models, search, store
from plugins.knowledge.models import (
    Entry,
    EntryTag,
    KnowledgeFile,
    Resource,
    Version,
)

from .conftest import PNG, resource_data, story_data, upload

TABLES = (Resource, models.KnowledgeTestimony, Entry, EntryTag, KnowledgeFile, Version)


def _counts() -> dict:
    return {model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in TABLES}


@pytest.fixture
def salma(make_user):
    return make_user("salma", role="documenter")


def test_a_resource_is_kept_with_its_entry_and_tags(app, salma, make_resource):
    with app.test_request_context():
        resource = make_resource(salma)
        assert isinstance(resource, Resource) and resource.version == 1
        assert resource.translation_group == resource.uuid
        entry = db.session.scalars(select(Entry)).one()
        assert (entry.local, entry.record_uuid, entry.kind, entry.language) == (
            True, resource.uuid, "guide", "fr")
        assert entry.title == "Guide de sécurité numérique"
        assert sorted(t.tag for t in entry.tag_rows) == ["securite numerique", "telephones"]
        # Its authors are sealed: not in any clear column.
        assert b"Qzxhaddad" not in (resource.authors or b"")
        assert records.values(resource, identifying=True)["authors"] == [
            "Salma Qzxhaddad", "Nour Qzxbenali"]
        assert "Qzx" not in str(records.values(resource, identifying=False))


def test_a_testimony_is_sealed_at_rest_and_its_entry_is_scrubbed(app, salma, make_resource):
    with app.test_request_context():
        testimony = make_resource(salma, kind="testimony")
        assert isinstance(testimony, models.KnowledgeTestimony)
        for column in ("title", "summary", "body"):
            assert "Qzxtlili" not in getattr(testimony, column)
            assert "20 123 456" not in getattr(testimony, column)
        assert records.original_text(testimony, testimony, "body").startswith("Rim Qzxtlili")
        entry = db.session.scalars(select(Entry)).one()
        assert "Qzxtlili" not in entry.title + entry.summary + entry.body
        assert "20 123 456" not in entry.body


def test_a_member_may_not_write_a_testimony(app, make_user):
    amina = make_user("amina", role="member")
    with app.test_request_context(), pytest.raises(store.KnowledgeError, match="testimonies"):
        store.write(None, story_data(), db.session.get(User, amina.id))


@pytest.mark.parametrize("changes, message", [
    ({"title": "   "}, "needs a title"),
    ({"title": ""}, "needs a title"),
    ({"language": "de"}, "language"),
    ({"language": None}, "language"),
    ({"kind": "poem"}, "type"),
    ({"audience": "everyone"}, "audience"),
    ({"licence": "wtfpl"}, "licence"),
    ({"tags": ", ".join(f"t{n}" for n in range(13))}, "tags"),
])
def test_bad_input_says_why_and_saves_nothing(app, salma, changes, message):
    with app.test_request_context():
        before = _counts()
        with pytest.raises(store.KnowledgeError, match=message):
            store.write(None, resource_data(**changes), db.session.get(User, salma.id))
        db.session.rollback()
        assert _counts() == before


@pytest.mark.parametrize("data, name, message", [
    (b"x" * (10 * 1024 * 1024 + 1), "big.pdf", "larger than"),
    (b"<html><script>alert(1)</script></html>", "guide.pdf", "not accepted"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "logo.png",
     "not accepted"),
    (b"MZ\x90\x00\x03\x00\x00\x00", "report.pdf", "not accepted"),
    (b"", "empty.pdf", "empty"),
])
def test_an_oversize_or_disguised_file_saves_nothing(app, salma, make_resource, data, name,
                                                     message):
    with app.test_request_context():
        before = _counts()
        with pytest.raises(store.attachments.Refused, match=message):
            make_resource(salma, file=upload(data, name))
        db.session.rollback()
        assert _counts() == before


def test_a_file_is_kept_sealed_under_the_name_of_what_it_is(app, salma, make_resource):
    with app.test_request_context():
        resource = make_resource(salma, file=upload(PNG, "photo.pdf", "application/pdf"))
        attachment = db.session.scalars(select(KnowledgeFile)).one()
        assert attachment.content_type == "image/png" and attachment.size == len(PNG)
        assert PNG not in attachment.content
        assert records.identifying_value(resource, attachment, "filename") == "photo.pdf.png"
        assert records.identifying_bytes(resource, attachment, "content") == PNG


def test_translations_share_a_group(app, salma, make_resource):
    with app.test_request_context():
        french = make_resource(salma)
        arabic = make_resource(salma, language="ar", title="دليل الأمان الرقمي",
                               translation_of=french.uuid)
        assert arabic.translation_group == french.translation_group == french.uuid


@pytest.mark.parametrize("case, message", [
    ("itself", "itself"), ("other type", "same type"), ("testimony", "same type"),
    ("same language", "another language"), ("unknown", "no resource"),
    ("not an id", "no resource"),
])
def test_a_bad_translation_link_says_why_and_saves_nothing(app, salma, make_resource, case,
                                                           message):
    with app.test_request_context():
        guide = make_resource(salma)
        report = make_resource(salma, kind="report", language="ar")
        testimony = make_resource(salma, kind="testimony", language="ar")
        user = db.session.get(User, salma.id)
        target, record = {
            "itself": (guide.uuid, guide), "other type": (report.uuid, None),
            "testimony": (testimony.uuid, None), "same language": (guide.uuid, None),
            "unknown": ("9b2f3c1e-0000-4000-8000-000000000000", None),
            "not an id": ("../../etc", None)}[case]
        before, version = _counts(), guide.version
        with pytest.raises(store.KnowledgeError, match=message):
            store.write(record, resource_data(language="en", translation_of=target)
                        if case != "same language" else resource_data(translation_of=target),
                        user)
        db.session.rollback()
        assert _counts() == before
        assert db.session.get(Resource, guide.id).version == version


def test_an_edit_keeps_the_previous_version(app, salma, make_resource):
    with app.test_request_context():
        guide = make_resource(salma)
        user = db.session.get(User, salma.id)
        store.write(guide, resource_data(title="Guide, deuxième édition", body="Nouveau."), user)
        assert guide.version == 2
        kept = db.session.scalars(select(Version)).one()
        assert kept.version == 1 and kept.saved_by == salma.id
        assert b"Avant une manifestation" not in kept.snapshot  # sealed
        earlier = store.version_values(guide, kept)
        assert earlier["title"] == "Guide de sécurité numérique"
        assert earlier["body"].startswith("# Avant une manifestation")
        entry = db.session.scalars(select(Entry)).one()
        assert entry.title == "Guide, deuxième édition"


def test_a_testimony_stays_a_testimony(app, salma, make_resource):
    with app.test_request_context():
        testimony = make_resource(salma, kind="testimony")
        with pytest.raises(store.KnowledgeError, match="stays a testimony"):
            store.write(testimony, resource_data(), db.session.get(User, salma.id))


def test_the_index_follows_the_catalogue(app, salma, make_resource):
    with app.test_request_context():
        guide = make_resource(salma)
        hits, total = search.results("manifestation")
        assert total == 1 and hits[0].entry.record_uuid == guide.uuid
        store.delete(guide, db.session.get(User, salma.id))
        assert search.results("manifestation") == ([], 0)
        assert _counts()["knowledge_entry"] == 0


def test_saving_is_audited_without_its_texts(app, salma, make_resource):
    with app.test_request_context():
        make_resource(salma)
        logged = " ".join(str(e.details) for e in db.session.scalars(select(AuditEntry)))
        assert "Qzx" not in logged and "manifestation" not in logged


def test_a_save_core_makes_without_the_store_reaches_the_entry_and_index(app, salma,
                                                                         make_resource):
    with app.test_request_context():
        guide = make_resource(salma)
        guide.title = "Titre changé par une mise à jour"
        records.save(guide, None)  # as `rabita records upgrade` saves
        entry = db.session.scalars(select(Entry)).one()
        assert entry.title == "Titre changé par une mise à jour"
        assert search.results("mise à jour")[1] == 1


def test_markdown_headings_start_below_the_pages_title():
    from plugins.knowledge.render import markdown

    assert str(markdown("# Un\n\n###### Six")) == "<h2>Un</h2>\n<h6>Six</h6>\n"
