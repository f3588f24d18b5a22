"""Search of the library (plugins/knowledge/search.py) on SQLite and PostgreSQL: Arabic spellings
and French accents found either way, ranking, filters, escaped snippets, the index kept in the
entry's transaction (a purged shared copy gone in the same one), and queries full of search
syntax or other scripts answered or refused with a message — never an error."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text

from core.extensions import db
from core.testing import all_databases
from plugins.knowledge import search
from plugins.knowledge.models import Entry

PLUGIN = "plugins.knowledge"
FILLER = "A short note about meetings, training days and the coalition's work."


@pytest.fixture
def app(make_app):
    return make_app(PLUGINS=[PLUGIN], unlocked=True)


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


def add(title="Untitled", body=FILLER, *, summary="", language="en", kind="guide",
        audience="coalition", tags=(), local=True, origin="local", index=True) -> Entry:
    entry = Entry(origin=origin, local=local, record_type="knowledge.resource",
                  record_uuid=str(uuid.uuid4()), kind=kind, language=language, title=title,
                  summary=summary, body=body, tags=list(tags), audience=audience, byline="",
                  licence="cc-by-4.0", updated_at=datetime.now(UTC),
                  translation_group=str(uuid.uuid4()))
    db.session.add(entry)
    db.session.flush()
    if index:
        search.index_entry(entry)
    return entry


def found(query: str, **filters) -> list[int]:
    hits, _total = search.results(query, **filters)
    return [hit.entry.id for hit in hits]


def index_rows() -> int:
    return db.session.execute(text("SELECT count(*) FROM knowledge_search")).scalar()


# -- Arabic spellings -----------------------------------------------------------------------

SPELLINGS = {
    "hamza on alef": ["الإنسان", "الانسان", "الأنسان", "الٱنسان"],
    "hamza on waw": ["مسؤولية", "مسوولية"],
    "hamza on yaa": ["المسائل", "المسايل"],
    "hamza seat, waw or yaa": ["مسؤولية", "مسئولية"],
    "hamza seat, plural": ["الشؤون", "الشئون"],
    "taa marbuta": ["المدافعة", "المدافعه"],
    "alef maqsura": ["مستشفى", "مستشفي"],
    "diacritics": ["حُقُوقُ", "حقوق", "حَقّ" + "وق"],
    "tatweel": ["حقـــوق", "حقوق", "حـقـوق"],
}


@all_databases
@pytest.mark.parametrize("group", SPELLINGS)
def test_an_arabic_word_is_found_whatever_its_spelling(ctx, group):
    spellings = SPELLINGS[group]
    entries = [add(f"دليل {n}", f"نص عن العمل و{word} في المدينة", language="ar")
               for n, word in enumerate(spellings)]
    add("دليل آخر", "نص عن شيء مختلف تماما", language="ar")
    expected = sorted(entry.id for entry in entries)
    for query in spellings:
        assert sorted(found(query)) == expected, query


@all_databases
def test_an_arabic_word_is_found_with_a_conjunction_or_article(ctx):
    entry = add("تقرير", "زارت والمدافعات السجن", language="ar")
    for query in ("المدافعات", "مدافعات", "والمدافعات"):
        assert found(query) == [entry.id], query


# -- Latin accents, case and stems -----------------------------------------------------------


@all_databases
def test_french_finds_defenseure_with_or_without_its_accent(ctx):
    accented = add("Guide", "La défenseure des droits a témoigné.", language="fr")
    plain = add("Guide", "Une defenseure a parlé.", language="fr")
    add("Autre", "Rien à voir ici.", language="fr")
    both = sorted([accented.id, plain.id])
    for query in ("defenseure", "défenseure", "DÉFENSEURE", "Défenseures", "defenseure*"):
        assert sorted(found(query)) == both, query


@all_databases
def test_english_words_are_found_by_their_stem(ctx):
    entry = add("Protecting defenders", "How rights defenders protect their phones.")
    assert found("defender protection") == [entry.id]
    assert found("phone") == [entry.id]
    assert found("prot*") == [entry.id]


# -- ranking, filters, snippets ----------------------------------------------------------------


@all_databases
def test_a_title_match_ranks_above_a_body_match(ctx):
    in_body = add("Meeting notes", "We discussed encryption at length.")
    in_title = add("Encryption basics", "A guide for everyone.")
    assert found("encryption") == [in_title.id, in_body.id]


@all_databases
def test_filters_by_kind_language_tag_and_audience(ctx):
    a = add("Safety guide", "Digital safety.", kind="guide", language="en",
            tags=["Digital safety"], audience="public")
    b = add("Safety report", "Digital safety.", kind="report", language="en",
            tags=["Legal"], audience="node")
    c = add("Sécurité", "Digital safety, sécurité numérique.", kind="guide", language="fr",
            tags=["Sécurité"], audience="coalition")
    assert sorted(found("digital")) == sorted([a.id, b.id, c.id])
    assert sorted(found("digital", kinds=["guide"])) == sorted([a.id, c.id])
    assert found("digital", kinds=["guide"], languages=["fr"]) == [c.id]
    assert found("digital", tags=["digital safety"]) == [a.id]
    assert found("digital", tags=["securite"]) == [c.id]
    assert sorted(found("digital", audiences=["public", "node"])) == sorted([a.id, b.id])
    assert found("digital", audiences=["public"], kinds=["report"]) == []
    # A word of a text is never a filter: "kind=guide" typed is two words.
    assert found("kind=guide") == []


@all_databases
def test_snippets_are_escaped_and_mark_only_the_words_found(ctx):
    add("Guide <b>bold</b>", "Intro. <script>alert('x')</script> The défenseure & "
        "<img src=x onerror=alert(1)> spoke. [link](javascript:alert(2)) end.", language="fr")
    hits, total = search.results("defenseure")
    assert total == 1
    snippet = str(hits[0].snippet)
    assert "<mark>défenseure</mark>" in snippet
    assert "<script" not in snippet and "<img" not in snippet
    assert "javascript:" not in snippet
    assert snippet.replace("<mark>", "").replace("</mark>", "").count("<") == 0


@all_databases
def test_a_broad_search_counts_up_to_the_cap(ctx, monkeypatch):
    monkeypatch.setattr(search, "COUNT_CAP", 3)
    monkeypatch.setattr(search, "RANK_CAP", 3)
    for n in range(6):
        add(f"Note {n}", "Common words everywhere.")
    hits, total = search.results("common", limit=2)
    assert total == 4 and len(hits) == 2  # "more than 3"
    assert search.results("common", limit=2, offset=2)[0]


# -- the index follows the catalogue, in the same transaction -----------------------------------


@all_databases
def test_an_edit_reindexes_the_entry(ctx):
    entry = add("Old title", "Nothing about it.")
    db.session.commit()
    entry.title = "Surveillance handbook"
    search.index_entry(entry)
    assert found("surveillance") == [entry.id]
    assert found("old") == []
    db.session.rollback()
    assert found("old") == [entry.id] and found("surveillance") == []


@all_databases
def test_a_purged_shared_copy_leaves_the_index_in_the_same_transaction(ctx, database_url):
    shared = add("Guide partagé", "La défenseure et la surveillance.", language="fr",
                 local=False, origin="node-tn-1")
    db.session.commit()
    assert found("surveillance") == [shared.id] and index_rows() == 1

    search.remove_entry(shared)
    db.session.delete(shared)
    db.session.flush()
    assert found("surveillance") == [] and index_rows() == 0
    db.session.rollback()  # one transaction: its purge of the index is undone with it
    assert found("surveillance") == [shared.id] and index_rows() == 1

    search.remove_entry(db.session.merge(shared))
    db.session.delete(db.session.merge(shared))
    db.session.commit()
    other = create_engine(database_url)  # another connection sees it gone too
    with other.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM knowledge_search")).scalar() == 0
    other.dispose()


@all_databases
def test_deleting_an_entry_deletes_its_words_even_unasked(ctx):
    entry = add("Forgotten", "Surveillance.")
    db.session.commit()
    db.session.delete(entry)  # no remove_entry: the trigger (SQLite) or foreign key does it
    db.session.commit()
    assert index_rows() == 0 and found("surveillance") == []


@all_databases
def test_rebuild_indexes_every_entry_again(ctx):
    first = add("Encryption", "Keys.", index=False)
    second = add("Chiffrement", "Clés.", language="fr", index=False)
    assert search.rebuild() == 2
    assert found("encryption") == [first.id] and found("chiffrement") == [second.id]


# -- queries that are not what a search expects ------------------------------------------------

NASTY = [
    '"', '""', "'", "''", "*", "**", "a*", "^title", "title:guide", "{title}: x", "body : x",
    "NEAR(a b)", "NEAR", "a NEAR b", "a NEAR/2 b", "AND", "OR", "NOT", "a AND OR NOT b",
    "(", ")", "((a)", "a -b", "-", "+", ":", ":*", "a:*", "a & b | !c", "<->", "a <2> b",
    "'a':* & !", "\\", "\\'", "%", "_", "a%b_c", "; DROP TABLE knowledge_search; --",
    "' OR 1=1 --", "\x00", "a\x00b", "\u200b", "\u202edefenseure", "ｄｅｆｅｎｓｅｕｒｅ",
    "dеfenseure",  # a Cyrillic е
    "ﻣﺴﺘﺸﻔﻰ", "𝐝𝐞𝐟𝐞𝐧𝐬𝐞𝐮𝐫𝐞", "защитница", "人权捍卫者", "🔒🔑", "\ufeff", "\ud800",
    "a" * 400, "word " * 99, "défenseure" * 40, "x*" * 100,
]


@all_databases
def test_injection_like_queries_give_results_or_a_message(ctx):
    add("La défenseure", "Mustashfa مستشفى and the defenders.", language="fr")
    db.session.commit()
    for query in NASTY:
        try:
            hits, total = search.results(query)
        except search.SearchError as error:
            assert "too long" in str(error)
            continue
        assert total >= len(hits), query
    assert found("ｄｅｆｅｎｓｅｕｒｅ") == found("defenseure") != []  # compatibility forms fold
    assert found("ﻣﺴﺘﺸﻔﻰ") == found("مستشفي") != []  # presentation forms fold
    with pytest.raises(search.SearchError, match="too long"):
        search.results("a" * (search.MAX_QUERY_CHARS + 1))
    assert index_rows() == 1


@given(st.text(max_size=120))
@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_text_is_a_query_on_sqlite(ctx, query):
    if db.session.get_bind().dialect.name != "sqlite":
        return
    hits, total = search.results(query)
    assert total >= len(hits)


@pytest.mark.postgresql
@given(st.text(max_size=120))
@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@pytest.mark.parametrize("db_backend", ["postgresql"], indirect=True)
def test_any_text_is_a_query_on_postgresql(ctx, query):
    hits, total = search.results(query)
    assert total >= len(hits)


@all_databases
def test_a_member_never_finds_a_testimony(ctx):
    from plugins.knowledge.models import KINDS, RESOURCE_KINDS

    guide = add("Guide", "Surveillance at the border.", kind="guide")
    story = add("Her story", "Surveillance at the border.", kind="testimony")
    shared = add("Shared", "Surveillance at the border.", kind="experience", local=False)
    assert found("surveillance", kinds=list(RESOURCE_KINDS)) == [guide.id]  # most: left out
    assert sorted(found("surveillance", kinds=list(KINDS))) == sorted(
        [guide.id, story.id, shared.id])
    assert found("surveillance", kinds=["testimony"]) == [story.id]
    assert sorted(found("surveillance", kinds=[k for k in KINDS if k != "guide"])) == sorted(
        [story.id, shared.id])
