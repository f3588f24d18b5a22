"""*Shared with us* at scale: an Arabic-aware search, filters by the counted dimensions and by
member, pages by cursor (no OFFSET); the index follows the records held (a tombstone takes
its row); bad input is a 400 saying so."""

import random
import re
import uuid
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core import clock
from core.extensions import db
from core.testing import add_person, all_databases, signed_in_client
from core.text import fold_words
from federation import inbox, shared, signatures
from federation.models import HeldRecord
from tests.federation.conftest import Origin, as_item
from tests.federation.test_signatures import started
from tests.federation.test_statistics_pages import case

CONSENT = {"audiences": ["hub"], "purposes": ["statistics"], "expires": None}


@pytest.fixture
def hub(federation_app):
    return federation_app(FEDERATION_ROLE="hub")


def store(app, member, payloads) -> list[str]:
    ids = [str(uuid.uuid4()) for _ in payloads]
    items = [as_item(member.record("hub", record_id, payload=payload, consent=CONSENT))
             for record_id, payload in zip(ids, payloads, strict=True)]
    with app.app_context():
        inbox.apply(items, received_from=member.node_id, relay=True)
        db.session.commit()
    return ids


def reader(app):
    with app.app_context():
        person = add_person("reader", "member")
    return signed_in_client(app, person.id)


def listed(html: str, ids) -> set[str]:
    return {record_id for record_id in ids if record_id[:8] in html}


@all_databases
def test_search_is_arabic_aware_and_filters_by_dimension_and_member(hub):
    rng, tunis, cairo = random.Random(3), Origin(seed=31), Origin(seed=32)
    tunis.pin(hub), cairo.pin(hub)
    salma = store(hub, tunis, [case(rng, "threats", place="TN-11") |
                               {"summary": "استُدعيت وسلمى إلى المركز"}])
    other = store(hub, tunis, [case(rng, "arbitrary-detention") | {"summary": "Une convocation"}
                               for _ in range(3)])
    egypt = store(hub, cairo, [case(rng, "threats", place="EG-C") for _ in range(2)])
    client = reader(hub)
    everything = salma + other + egypt

    def shown(query):
        answer = client.get(f"/federation/shared?{query}")
        assert answer.status_code == 200
        return listed(answer.get_data(as_text=True), everything)

    assert shown("") == set(everything)
    assert shown("q=سلمى") == set(salma)  # without its conjunction and its diacritics
    assert shown("q=استدعيت") == set(salma)
    assert shown("q=CONVOC") == set(other)  # folded, and a word's start
    assert shown("violation=threats") == set(salma + egypt)
    assert shown("violation=threats&country=EG") == set(egypt)
    assert shown(f"origin={cairo.node_id}") == set(egypt)
    assert shown(f"origin={cairo.node_id}&q=سلمى") == set()


@pytest.mark.parametrize("query", ["origin=" + "c" * 26, "violation=threats%20OR%201", "after=x",
                                   "after=2025-01-01T00:00:00~abc", "country=" + "E" * 41])
def test_bad_input_is_a_clear_error(hub, query):
    answer = reader(hub).get(f"/federation/shared?{query}")
    assert answer.status_code == 400
    assert "cannot be answered" in answer.get_data(as_text=True)


def test_pages_by_cursor_show_each_record_once(hub, monkeypatch):
    monkeypatch.setattr(shared, "PAGE_SIZE", 7)
    member, rng = Origin(seed=41), random.Random(4)
    ids = store(hub, member, [case(rng) for _ in range(17)])
    client, seen, after, pages = reader(hub), [], "", 0
    while True:
        html = client.get(f"/federation/shared?violation=threats{after}").get_data(True)
        with hub.app_context():
            found, next_cursor = shared.page(after[7:] or None, shared.Search(
                facets=(("violation", "threats"),)))
        seen += [r.record_id for r in found]
        assert listed(html, ids) == {r.record_id for r in found}
        pages += 1
        if next_cursor is None:
            assert 'rel="next"' not in html
            break
        assert 'rel="next"' in html
        after = f"&after={next_cursor}"
    with hub.app_context():
        first = {r.record_id for r in shared.page(None, shared.Search())[0]}
    assert len(seen) == len(set(seen)) and pages >= 1
    assert set(seen) <= set(ids)
    assert len(first) == 7  # the first page of everything


def indexed_count() -> int:
    return db.session.scalar(select(func.count()).select_from(HeldRecord)
                             .where(HeldRecord.words.is_not(None)))


def test_a_tombstone_takes_the_words_with_the_payload(hub):
    member = Origin(seed=51)
    [record_id] = store(hub, member, [case(random.Random(5)) | {"summary": "Sfax"}])
    with hub.app_context():
        assert indexed_count() == 1
        inbox.apply([as_item(member.tombstone("hub", record_id))],
                    received_from=member.node_id, relay=True)
        db.session.commit()
        assert indexed_count() == 0
        assert shared.rebuild() == 0


@all_databases
def test_an_expired_consent_takes_the_words_with_the_payload(hub):
    member = Origin(seed=52)
    ending = {**CONSENT, "expires": (clock.now().date() + timedelta(days=2)).isoformat()}
    lasting, ending_id = str(uuid.uuid4()), str(uuid.uuid4())
    with hub.app_context():
        inbox.apply([as_item(member.record("hub", lasting, payload=case(random.Random(1))
                                           | {"summary": "Sfax"}, consent=CONSENT)),
                     as_item(member.record("hub", ending_id, payload=case(random.Random(2))
                                           | {"summary": "Gafsa"}, consent=ending))],
                    received_from=member.node_id, relay=True)
        db.session.commit()
        assert indexed_count() == 2
        assert inbox.purge_expired(clock.now().date() + timedelta(days=3)) == 1
        db.session.commit()
        left = db.session.execute(select(HeldRecord.record_id, HeldRecord.words)
                                  .where(HeldRecord.words.is_not(None))).all()
        assert [row.record_id for row in left] == [lasting] and " sfax " in left[0].words
        assert shared.page(None, shared.Search(words="Gafsa"))[0] == []


@all_databases
def test_a_page_is_indexed_at_once_as_a_rebuild_would(hub):
    """The index is written a page at a time: the rows equal what a rebuild writes, a record
    sent twice in one page has one row (its newer version's words), and a newer version
    received later replaces its row."""
    member, rng = Origin(seed=61), random.Random(6)
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    items = [as_item(member.record("hub", first, 1, payload=case(rng) | {"summary": "Gabès"},
                                   consent=CONSENT)),
             as_item(member.record("hub", first, 2, payload=case(rng) | {"summary": "Kairouan"},
                                   consent=CONSENT)),
             as_item(member.record("hub", second, 1, payload=case(rng) | {"summary": "Bizerte"},
                                   consent=CONSENT))]

    def index_rows():
        return index_of_held()

    with hub.app_context():
        inbox.apply(items, received_from=member.node_id, relay=True)
        db.session.commit()
        rows = index_rows()
        assert [row.record_id for row in rows] == sorted([first, second])
        words = {row.record_id: row.words for row in rows}
        assert " kairouan " in words[first] and " gabes " not in words[first]
        inbox.apply([as_item(member.record("hub", second, 2, consent=CONSENT,
                                           payload=case(rng) | {"summary": "Sousse"}))],
                    received_from=member.node_id, relay=True)
        db.session.commit()
        incremental = index_rows()
        assert " sousse " in dict((r.record_id, r.words) for r in incremental)[second]
        assert shared.rebuild() == 2
        db.session.commit()
        assert index_rows() == incremental


def index_of_held():
    """Every held record's words and facets, as the list searches them."""
    return sorted(db.session.execute(select(HeldRecord.origin, HeldRecord.record_id,
                                            HeldRecord.words, HeldRecord.facets)
                                     .where(HeldRecord.words.is_not(None))).all())


@all_databases
def test_a_page_writes_each_held_row_once_with_its_words(hub):
    """A record's words are written with its held row, in the statement that writes the row:
    a page of new records inserts them (no UPDATE, no other table), a newer version of one
    held updates that row alone."""
    from sqlalchemy import event

    member, rng = Origin(seed=62), random.Random(7)
    held, new = str(uuid.uuid4()), str(uuid.uuid4())
    writes = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        if HeldRecord.__tablename__ in statement.split("(")[0] and \
                statement.startswith(("INSERT", "UPDATE", "DELETE")):
            writes.append((statement.split()[0], str(parameters)))

    with hub.app_context():
        event.listen(db.engine, "before_cursor_execute", seen)
        try:
            inbox.apply([as_item(member.record("hub", held, 1, payload=case(rng),
                                               consent=CONSENT))],
                        received_from=member.node_id, relay=True)
            assert [kind for kind, _ in writes] == ["INSERT"]
            writes.clear()
            inbox.apply([as_item(member.record("hub", held, 2, consent=CONSENT,
                                               payload=case(rng) | {"summary": "Tozeur"})),
                         as_item(member.record("hub", new, 1, payload=case(rng),
                                               consent=CONSENT))],
                        received_from=member.node_id, relay=True)
            db.session.commit()
        finally:
            event.remove(db.engine, "before_cursor_execute", seen)
        assert sorted(kind for kind, _ in writes) == ["INSERT", "UPDATE"]
        assert all((held in parameters) == (kind == "UPDATE") for kind, parameters in writes)
        words = {row.record_id: row.words for row in index_of_held()}
        assert sorted(words) == sorted([held, new]) and " tozeur " in words[held]


@pytest.mark.slow
@pytest.mark.parametrize("processes", [0, 1])
def test_a_long_pages_index_rows_worked_out_in_the_pool_are_a_rebuilds(federation_app,
                                                                        processes, monkeypatch):
    """A long page's words and facets are worked out in the checking pool while the page is
    written (or here, without one): the same rows as a rebuild writes from the held payloads."""
    app = federation_app(FEDERATION_ROLE="hub", FEDERATION_SIGNATURE_PROCESSES=processes)
    started(app)
    handed = []
    submit = signatures._submit
    monkeypatch.setattr(signatures, "_submit", lambda pool, function, *args: handed.append(
        function) or submit(pool, function, *args))
    rng = random.Random(8)
    count = signatures.BATCH * 2 + 7
    store(app, Origin(seed=81), [case(rng) | {"summary": f"وسلمى Gabès {n}"}
                                 for n in range(count)])
    with app.app_context():
        rows = index_of_held()
        assert len(rows) == count and all(" سلمي " in row.words for row in rows)  # folded, clitic off
        assert shared.rebuild() == count
        db.session.commit()
        assert index_of_held() == rows
    # two full batches; the tail, less than a batch, is worked out here
    assert handed.count(signatures.each_of) == (2 if processes else 0)


PAYLOAD_TEXT = st.text(alphabet=st.sampled_from(list("abcé ÉA-1٣") + list("والبسلمىأإآةـً ")),
                       max_size=40)
PAYLOADS = st.recursive(PAYLOAD_TEXT | st.integers() | st.none(),
                        lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(st.text(max_size=5), inner, max_size=4),
                        max_leaves=12)


@given(PAYLOADS)
@settings(max_examples=300, deadline=None)
def test_the_index_holds_each_word_of_each_text_and_its_form_without_a_clitic(payload):
    """Taken one text and one word at a time, as a reader would expect: the words of every
    text in the payload, folded, and an Arabic word also without a leading clitic."""
    expected = set()
    for text in shared._texts(payload):
        for word in fold_words(text).split():
            expected.add(word)
            if re.fullmatch(r"[\u0600-\u06ff]+", word):
                expected |= {word[len(clitic):] for clitic in shared.CLITICS
                             if word.startswith(clitic) and len(word) - len(clitic) >= 2}
    indexed = shared.words_of(payload)
    assert indexed.startswith(" ") and indexed.endswith(" ")
    assert indexed.split() == list(dict.fromkeys(indexed.split()))  # each word once
    assert set(indexed.split()) == expected
