"""Finding a defender by part of her name, through the blind index of her name's words."""

import re

from sqlalchemy import delete, func, select

from core.extensions import db
from core.models import AuditEntry
from core.testing import all_databases
from plugins.cases.models import NameWord
from tests.plugins.cases.conftest import case_form

pytestmark = all_databases


def new_case(client, **overrides):
    response = client.submit("/cases/new", case_form(**overrides))
    assert response.status_code == 302
    return response.location.rsplit("/", 1)[1]


def found(client, name):
    page = client.submit("/cases/find", {"name": name}).get_data(as_text=True)
    return set(re.findall(r'href="/cases/([0-9a-f-]{36})"', page))


def test_part_of_her_name_finds_her_in_any_spelling_of_its_letters(app, people, login_as):
    salma = login_as(people["salma"])
    latin = new_case(salma, **{"defender-real_name": "Salma Ben Ali"})
    arabic = new_case(salma, **{"defender-real_name": "سلمى بن علي"})
    other = new_case(salma, **{"defender-real_name": "Huda Trabelsi"})
    huda = login_as(people["huda"])
    assert found(huda, "ben ali") == {latin}
    assert found(huda, "ALI  Salma") == {latin}  # any order, case and spacing
    assert found(huda, "Sälma") == {latin}  # accents folded
    assert found(huda, "علي") == {arabic}
    assert found(huda, "سلمي") == {arabic}  # alef maqsura and yaa folded alike
    assert found(huda, "Trabelsi") == {other}
    assert found(huda, "Ben Trabelsi") == set()  # every word must be hers
    assert found(huda, "Sal") == set()  # whole words only


def test_no_word_of_a_name_is_stored_in_clear(app, people, login_as):
    new_case(login_as(people["salma"]), **{"defender-real_name": "Zaynab Mabrouki"})
    with app.app_context():
        stored = db.session.scalars(select(NameWord.word_index)).all()
        assert len(stored) == 2 and all(re.fullmatch(r"[0-9a-f]{64}", s) for s in stored)
        dump = "\n".join(str(row) for row in db.session.execute(select(NameWord.__table__)))
        assert "zaynab" not in dump.lower() and "mabrouki" not in dump.lower()


def test_editing_her_name_replaces_its_words(app, people, login_as):
    salma = login_as(people["salma"])
    uuid = new_case(salma, **{"defender-real_name": "Salma Ben Ali"})
    response = salma.submit(f"/cases/{uuid}/edit", case_form(**{
        "defender-real_name": "Salma Gharbi"}), page=f"/cases/{uuid}/edit")
    assert response.status_code == 302
    huda = login_as(people["huda"])
    assert found(huda, "Gharbi") == {uuid} and found(huda, "Ben Ali") == set()


def test_who_may_search_and_what_is_recorded(app, people, login_as, make_user):
    salma = login_as(people["salma"])
    open_case = new_case(salma, **{"defender-real_name": "Salma Ben Ali"})
    new_case(salma, restricted="y", assigned_to=str(people["salma"].id),
             **{"defender-real_name": "Salma Ben Ali"})
    rim_user = make_user("rim", role="documenter")
    rim = login_as(rim_user)
    assert found(rim, "Ben Ali") == {open_case}  # the restricted one is not hers to open
    with app.app_context():
        last = db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
        assert last.action == "record.identifying_searched" and "ali" not in last.details.lower()
        assert last.actor_id == rim_user.id
    assert login_as(people["amina"]).submit(
        "/cases/find", {"name": "Ben Ali"}).status_code in (403, 404)


def test_cases_saved_before_the_index_are_indexed_by_the_command(app, people, login_as):
    uuid = new_case(login_as(people["salma"]), **{"defender-real_name": "Salma Ben Ali"})
    with app.app_context():
        db.session.execute(delete(NameWord))
        db.session.commit()
    assert found(login_as(people["huda"]), "Ben Ali") == set()
    result = app.test_cli_runner().invoke(args=["cases", "index-names"])
    assert result.exit_code == 0 and "1 defenders" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(NameWord)) == 3
    assert found(login_as(people["huda"]), "Ben Ali") == {uuid}
