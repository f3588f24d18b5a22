"""Finding cases: filters, sorting, pages, counts, and Arabic-aware search — on both databases."""

from datetime import date

import pytest
from sqlalchemy import func, select

from core import records
from core.extensions import db
from core.models import User
from core.testing import all_databases
from plugins.cases import search, store
from plugins.cases.models import Case, Defender, Incident

pytestmark = all_databases


@pytest.fixture
def documenter(app, people):
    with app.test_request_context():
        user = db.session.get(User, people["huda"].id)
        db.session.expunge(user)
    return user


def add_case(app, title, *, status="open", risk="medium", violation="travel-ban",
             place="TN-61", occurred_on=date(2025, 3, 14), narrative="", real_name="Olive X"):
    with app.test_request_context():
        case = records.new(Case, None)
        case.title, case.status, case.risk = title, status, risk
        case.defender = Defender(pseudonym="Olive")
        records.set_identifying(case, case.defender, "real_name", real_name)
        case.incidents.append(Incident(violation=violation, place=place,
                                       occurred_on=occurred_on, narrative=narrative))
        store.save(case, None)
        return case.uuid


def titles(app, user, **filters):
    with app.test_request_context():
        page = store.listing(db.session.merge(user), store.Filters(**filters))
        return sorted(case.title for case in page.cases), page.total


def test_filters(app, documenter):
    add_case(app, "a", status="open", risk="high", violation="travel-ban", place="TN-61")
    add_case(app, "b", status="closed", risk="low", violation="smear-campaign", place="TN-11",
             occurred_on=date(2024, 1, 2))
    add_case(app, "c", status="open", risk="low", violation="smear-campaign",
             place="TN-61:sakiet-ezzit", occurred_on=date(2025, 6, 1))
    assert titles(app, documenter, status="open") == (["a", "c"], 2)
    assert titles(app, documenter, risk="low") == (["b", "c"], 2)
    assert titles(app, documenter, violation="smear-campaign") == (["b", "c"], 2)
    assert titles(app, documenter, governorate="TN-61") == (["a", "c"], 2)
    assert titles(app, documenter, date_from=date(2025, 1, 1)) == (["a", "c"], 2)
    assert titles(app, documenter, date_to=date(2024, 12, 31)) == (["b"], 1)
    assert titles(app, documenter, status="open", violation="smear-campaign") == (["c"], 1)
    assert titles(app, documenter, status="no-such-status") == (["a", "b", "c"], 3)


@pytest.mark.slow
def test_pages_and_sorting(app, documenter, make_cases):
    make_cases(60, seed=1)
    with app.test_request_context():
        user = db.session.merge(documenter)
        first = store.listing(user, store.Filters(), number=1)
        third = store.listing(user, store.Filters(), number=3)
        beyond = store.listing(user, store.Filters(), number=99)
        assert first.total == third.total and first.pages == 3
        assert len(first.cases) == 25 and len(third.cases) == first.total - 50
        assert beyond.cases == []
        times = [c.updated_at for c in first.cases]
        assert times == sorted(times, reverse=True)
        by_incident = store.listing(user, store.Filters(), sort="incident").cases
        dates = [c.last_incident_on for c in by_incident]
        assert dates == sorted(dates, reverse=True)


@pytest.mark.parametrize("narrative, query", [
    ("استُدعيت المدافعة إلى مركز الشرطة", "الشرطه"),
    ("استُدعيت المدافعة إلى مركز الشرطة", "شرطة"),
    ("وأخذت هاتفها أمام المحكمة", "امام"),
    ("La défenseuse a été convoquée au tribunal", "defenseuse TRIBUNAL"),
    ("She was summoned", "summ*"),
    ("She was summoned", "SUMMONED"),
])
def test_search_is_arabic_aware_and_matches_prefixes_asked_for(app, documenter, narrative,
                                                               query):
    add_case(app, "match", narrative=narrative)
    add_case(app, "other", narrative="Nothing to do with it")
    assert titles(app, documenter, words=search.query_terms(query)) == (["match"], 1)


def test_a_word_is_matched_whole_unless_a_star_asks_for_a_prefix(app, documenter):
    add_case(app, "match", narrative="She was summoned")
    assert titles(app, documenter, words=search.query_terms("summ"))[1] == 0
    assert titles(app, documenter, words=search.query_terms("summ*")) == (["match"], 1)


def test_search_finds_labels_in_every_language(app, documenter):
    add_case(app, "ban", violation="travel-ban", place="TN-61")
    for query in ("travel ban", "منع السفر", "voyager", "صفاقس", "Sfax"):
        assert titles(app, documenter, words=search.query_terms(query)) == (["ban"], 1), query


def test_search_never_indexes_identifying_values(app, documenter):
    add_case(app, "named", narrative="Meriem Zarrouk was arrested; call 98 123 456",
             real_name="Meriem Zarrouk")
    for query in ("meriem", "zarrouk", "98"):
        assert titles(app, documenter, words=search.query_terms(query))[1] == 0, query
    assert titles(app, documenter, words=search.query_terms("arrested")) == (["named"], 1)


def test_search_counts_are_capped(app, documenter, monkeypatch):
    monkeypatch.setattr(search, "COUNT_CAP", 3)
    for number in range(5):
        add_case(app, f"case {number}", narrative="police")
    with app.test_request_context():
        page = store.listing(db.session.merge(documenter),
                             store.Filters(words=search.query_terms("police")))
        assert page.total == 3 and page.capped and len(page.cases) == 5


def test_the_search_index_follows_edits(app, documenter):
    uuid = add_case(app, "edited", narrative="first words")
    with app.test_request_context():
        case = db.session.scalar(select(Case).where(Case.uuid == uuid))
        case.incidents[0].narrative = "second words"
        store.save(case, None)
    assert titles(app, documenter, words=["first"])[1] == 0
    assert titles(app, documenter, words=["second"]) == (["edited"], 1)


@pytest.mark.slow
def test_sample_cases_are_fictional_and_varied(app, make_cases):
    make_cases(40, seed=9)
    with app.test_request_context():
        cases = db.session.scalars(select(Case)).all()
        names = [records.identifying_value(c, c.defender, "real_name") for c in cases]
        assert all(any(s in n for s in ("Fictive", "Exemple", "Imaginaire", "Sample", "Madeup",
                                        "Testova", "الخيالية", "المتخيلة", "الافتراضية"))
                   for n in names)
        assert len({c.status for c in cases}) == 3 and len({c.title for c in cases}) > 4
        assert any("\u0600" <= ch <= "\u06ff" for c in cases for ch in c.title)
        assert any(c.title.isascii() for c in cases)


@pytest.mark.slow
def test_tallies_follow_every_save_and_recount_agrees(app, make_cases, people):
    import random

    from plugins.cases.models import CaseFacet, CaseFacetTally, CaseTally

    make_cases(30, seed=2)
    rng = random.Random(5)
    with app.test_request_context():
        cases = db.session.scalars(select(Case)).all()
        for case in rng.sample(cases, 15):
            case.status = rng.choice(["open", "monitoring", "closed"])
            case.risk = rng.choice(["low", "high"])
            case.restricted = rng.random() < 0.3
            case.assigned_to_id = people["salma"].id
            if case.incidents:  # a violation type changes: one facet goes, another comes
                case.incidents[0].violation = rng.choice(["travel-ban", "smear-campaign"])
            store.save(case, None)

        def tallies():
            return {(t.origin, t.restricted, t.status, t.risk): t.count
                    for t in db.session.scalars(select(CaseTally)) if t.count}

        def facet_tallies():
            return {(t.kind, t.value, t.origin, t.restricted, t.status, t.risk): t.count
                    for t in db.session.scalars(select(CaseFacetTally)) if t.count}

        columns = (Case.origin, Case.restricted, Case.status, Case.risk)
        counted = {tuple(row[:-1]): row[-1] for row in db.session.execute(
            select(*columns, func.count()).group_by(*columns)).all()}
        facet_columns = (CaseFacet.kind, CaseFacet.value, CaseFacet.origin,
                         CaseFacet.restricted, CaseFacet.status, CaseFacet.risk)
        facets_counted = {tuple(row[:-1]): row[-1] for row in db.session.execute(
            select(*facet_columns, func.count()).group_by(*facet_columns)).all()}
        assert len(facets_counted) > 10
        assert tallies() == counted and facet_tallies() == facets_counted
        assert store.recount() == 30
        assert tallies() == counted and facet_tallies() == facets_counted


@pytest.mark.slow
def test_list_totals_match_the_rows_for_every_role(app, make_cases, people):
    make_cases(40, seed=8)
    with app.test_request_context():
        for case in db.session.scalars(select(Case).limit(6)):
            case.restricted = True
            case.assigned_to_id = people["salma"].id
            store.save(case, None)
        for name in ("salma", "amina", "huda"):
            user = db.session.get(User, people[name].id)
            for filters in (store.Filters(), store.Filters(status="open"),
                            store.Filters(risk="high", status="open"),
                            store.Filters(violation="travel-ban"),
                            store.Filters(violation="travel-ban", status="open"),
                            store.Filters(governorate="TN-61", risk="high")):
                page = store.listing(user, filters)
                seen = [c for c in db.session.scalars(select(Case))
                        if store.may_open(c, user)
                        and (not filters.status or c.status == filters.status)
                        and (not filters.risk or c.risk == filters.risk)
                        and (not filters.violation or any(
                            f.kind == "violation" and f.value == filters.violation
                            for f in c.facets))
                        and (not filters.governorate or any(
                            f.kind == "governorate" and f.value == filters.governorate
                            for f in c.facets))]
                assert page.total == len(seen), (name, filters)
                assert (page.total > 0) == bool(page.cases), (name, filters)


@pytest.mark.slow
def test_a_page_found_from_a_cursor_is_the_page_of_that_number(app, documenter, make_cases):
    make_cases(80, seed=3)
    with app.test_request_context():
        user = db.session.merge(documenter)
        by_number = [store.listing(user, store.Filters(), number=n).cases for n in (1, 2, 3, 4)]
        after = store.listing(user, store.Filters(), number=2, after=store.listing(
            user, store.Filters(), number=1).next_cursor)
        assert after.cases == by_number[1]
        before = store.listing(user, store.Filters(), number=3,
                               before=store.Page(by_number[3], 80, 4, keyed=True)
                               .previous_cursor)
        assert before.cases == by_number[2]
        cursor = store.Cursor.parse(str(after.next_cursor))
        assert cursor == after.next_cursor and cursor.id == by_number[1][-1].id
        assert store.listing(user, store.Filters(), number=3, after=cursor).cases == by_number[2]


@pytest.mark.slow
def test_every_new_case_draws_a_reference_not_taken_again_on_a_collision(app, monkeypatch,
                                                                          make_cases):
    from core import references

    first = add_case(app, "first")
    with app.app_context():
        taken = db.session.scalar(select(Case.reference_code).where(Case.uuid == first))
    # the next draws: the code already taken, the same code twice, then fresh ones
    queue = [taken, "7K3M9XQ2", "7K3M9XQ2", "AB12CD34"]
    real_draw = references.draw
    monkeypatch.setattr(references, "draw", lambda: queue.pop(0) if queue else real_draw())
    second, third = add_case(app, "second"), add_case(app, "third")
    with app.app_context():
        codes = dict(db.session.execute(select(Case.uuid, Case.reference_code)).all())
    assert (codes[second], codes[third]) == ("7K3M9XQ2", "AB12CD34")
    monkeypatch.setattr(references, "draw", real_draw)
    make_cases(600, seed=3)  # a batch of sample data: one query per flush, none repeated
    with app.app_context():
        all_codes = db.session.scalars(select(Case.reference_code)).all()
    assert len(all_codes) == len(set(all_codes)) == 603


def test_a_reference_finds_only_a_case_one_may_open(app, people):
    hidden = add_case(app, "hidden")
    with app.test_request_context():
        case = db.session.scalar(select(Case).where(Case.uuid == hidden))
        case.restricted, case.assigned_to_id = True, people["salma"].id
        store.save(case, None)
        typed = case.reference.lower().replace("-", " ")
        for name, sees in (("amina", False), ("salma", True), ("huda", True)):
            user = db.session.get(User, people[name].id)
            found = store.by_reference(typed, user)
            assert (found is not None and found.uuid == hidden) is sees, name
        assert store.by_reference("C-ZZZZ-ZZZZ", user) is None
