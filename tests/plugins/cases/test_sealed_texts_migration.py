"""Migration cases_0004 with data: texts written before it stay as they are (shown scrubbed,
or hidden while the node is locked) until ``rabita records seal-texts``; going down refuses
while a text is sealed, and works after ``rabita records unseal-texts`` — nothing is lost."""

import flask_migrate
import pytest
from sqlalchemy import select, text

from core import keystore, records
from core.extensions import db
from core.testing import TEST_PASSPHRASE, all_databases
from tests.plugins.cases.conftest import CASES, case_form

pytestmark = all_databases

NAME = "Meriem Zarrouk"
SUMMARY = "Meriem Zarrouk was summoned twice after speaking on the radio."


@pytest.fixture
def app(make_app):
    """A node whose tables are made by the migrations, as a deployed node's are."""
    app = make_app(create_tables=False, PLUGINS=CASES, unlocked=True)
    with app.app_context():
        flask_migrate.upgrade(revision="heads")
    return app


def texts_in_columns(app) -> list[tuple]:
    with app.app_context():
        return db.session.execute(text(
            "SELECT title, summary, title_original IS NOT NULL FROM cases_case")).all()


def run(app, tmp_path, *command):
    secret = tmp_path / "passphrase"
    secret.write_text(TEST_PASSPHRASE)
    result = app.test_cli_runner().invoke(args=[*command, "--passphrase-file", str(secret)])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.slow
def test_texts_written_before_the_migration_are_kept_then_sealed(app, people, login_as,
                                                                 tmp_path, caplog):
    salma, amina = login_as(people["salma"]), login_as(people["amina"])
    response = salma.submit("/cases/new", case_form(**{
        "summary": SUMMARY, "defender-real_name": NAME,
        "incidents-0-narrative": "Meriem was questioned for six hours."}))
    uuid = response.headers["Location"].rsplit("/", 1)[-1]
    # As a node upgraded from cases_0003 has them: texts as written, nothing sealed.
    assert "Unsealed 4 open texts" in run(app, tmp_path, "records", "unseal-texts")
    with app.app_context():
        flask_migrate.downgrade(revision="cases_0003")
        assert db.session.execute(text("SELECT summary FROM cases_case")).scalar() == SUMMARY
        db.session.commit()  # PostgreSQL: no open read may hold the table the next step alters
        # Through cases_0004 and on to the newest (the models' columns), nothing sealed yet.
        flask_migrate.upgrade(revision="heads")
    assert texts_in_columns(app)[0][1:] == (SUMMARY, False)

    # Meanwhile nobody without the permission reads them as written...
    for path in (f"/cases/{uuid}", "/cases/", "/search?q=summoned"):
        page = amina.get(path).get_data(as_text=True)
        assert "Zarrouk" not in page and "Meriem" not in page, path
    assert "[redacted] was summoned twice" in amina.get(f"/cases/{uuid}").get_data(as_text=True)
    with app.app_context():
        keystore.keystore().lock()
    for path in (f"/cases/{uuid}", "/cases/"):
        page = amina.get(path).get_data(as_text=True)
        assert "Zarrouk" not in page and "hidden while the node is locked" in page, path
    with app.app_context():
        keystore.keystore().unlock(TEST_PASSPHRASE)
    # ...and what leaves is redacted from them as before.
    with app.test_request_context():
        case = records.find("cases.case", uuid, people["nour"])
        summary = records.redaction(case, "peers").payload["summary"]
        assert summary.startswith("[redacted] was summoned twice") and "Zarrouk" not in summary

    output = run(app, tmp_path, "records", "seal-texts")
    assert "Sealed 4 open texts" in output  # title, summary, pseudonym, narrative
    title, summary, sealed = texts_in_columns(app)[0]
    assert sealed and "Zarrouk" not in summary and summary.startswith("[redacted]")
    with app.test_request_context():
        case = records.find("cases.case", uuid, people["nour"])
        assert records.values(case, identifying=True)["summary"] == SUMMARY
    assert SUMMARY in salma.get(f"/cases/{uuid}").get_data(as_text=True)
    assert "Sealed 0 open texts" in run(app, tmp_path, "records", "seal-texts")  # once is enough

    # Going down would lose the sealed texts: refused, nothing changed. (First below
    # cases_0005, the legal basis: SQLite would not take back that step's DDL.)
    with app.app_context():
        flask_migrate.downgrade(revision="cases_0004")
    with app.app_context(), pytest.raises(SystemExit):  # how Flask-Migrate reports an error
        flask_migrate.downgrade(revision="cases_0003")
    assert "Run `rabita records unseal-texts` on the unlocked node first" in caplog.text
    assert texts_in_columns(app)[0] == (title, summary, True)
    with app.app_context():
        flask_migrate.upgrade(revision="heads")
    run(app, tmp_path, "records", "unseal-texts")
    with app.app_context():
        flask_migrate.downgrade(revision="cases_0003")
        assert db.session.execute(text("SELECT summary FROM cases_case")).scalar() == SUMMARY
        db.session.commit()  # PostgreSQL: no open read may hold the table the next step alters
        flask_migrate.upgrade(revision="heads")


def test_a_save_seals_the_texts_of_a_case_written_before(app, people, login_as, tmp_path):
    from plugins.cases import store
    from plugins.cases.models import Case

    salma = login_as(people["salma"])
    response = salma.submit("/cases/new", case_form(**{"summary": SUMMARY,
                                                       "defender-real_name": NAME}))
    uuid = response.headers["Location"].rsplit("/", 1)[-1]
    run(app, tmp_path, "records", "unseal-texts")
    with app.test_request_context():
        case = db.session.scalar(select(Case).where(Case.uuid == uuid))
        case.risk = "critical"
        store.save(case, None)
    title, summary, sealed = texts_in_columns(app)[0]
    assert sealed and summary.startswith("[redacted]") and "Zarrouk" not in summary
    assert SUMMARY in salma.get(f"/cases/{uuid}").get_data(as_text=True)
