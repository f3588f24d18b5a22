"""Migration cases_0005 with data (each incident's legal basis, ``cases.case`` version 2):
going down drops the codes and nothing else, coming up leaves them empty, and ``rabita
records upgrade`` then proposes the laws each narrative cites, once."""

import flask_migrate
import pytest
from sqlalchemy import select, text

from core.extensions import db
from core.models import RecordTypeState
from core.testing import all_databases
from plugins.cases.models import Case
from tests.plugins.cases.conftest import CASES, case_form
from tests.plugins.cases.test_sealed_texts_migration import run

pytestmark = all_databases


@pytest.fixture
def app(make_app):
    """A node whose tables are made by the migrations, as a deployed node's are."""
    app = make_app(create_tables=False, PLUGINS=CASES, unlocked=True)
    with app.app_context():
        flask_migrate.upgrade(revision="heads")
    return app


def column(app) -> list:
    with app.app_context():
        return [row[0] for row in db.session.execute(text(
            "SELECT legal_basis FROM cases_incident ORDER BY id"))]


@pytest.mark.slow
def test_the_legal_basis_goes_down_and_up_then_the_upgrade_fills_it(app, people, login_as,
                                                                    tmp_path):
    salma = login_as(people["salma"])
    for narrative in ("Poursuivie en vertu du décret-loi 2022-54.", "Questioned for hours."):
        response = salma.submit("/cases/new", case_form(**{"incidents-0-narrative": narrative}))
        assert response.status_code == 302
    with app.app_context():
        flask_migrate.downgrade(revision="cases_0004")
        columns = [c["name"] for c in db.inspect(db.engine).get_columns("cases_incident")]
        assert "legal_basis" not in columns and "narrative_original" in columns
        flask_migrate.upgrade(revision="heads")
    assert column(app) == [None, None]

    output = run(app, tmp_path, "records", "upgrade")
    assert "cases.case: 1 records changed" in output and "0 approvals revoked" in output
    with app.app_context():
        cases = db.session.scalars(select(Case).order_by(Case.id)).all()
        assert [c.incidents[0].legal_basis for c in cases] == [["tn-decree-law-2022-54"], None]
        assert [c.version for c in cases] == [2, 1]
        assert db.session.get(RecordTypeState, "cases.case").version == 2
    assert "at its version" in run(app, tmp_path, "records", "upgrade")  # once is enough
