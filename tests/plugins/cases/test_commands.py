"""`rabita cases sample N`."""

from sqlalchemy import func, select

from core import keystore
from core.extensions import db
from core.models import AuditEntry
from plugins.cases.models import Case


def test_sample_writes_fictional_cases(app):
    result = app.test_cli_runner().invoke(args=["cases", "sample", "12", "--seed", "5"])
    assert result.exit_code == 0 and "Added 12 fictional cases." in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Case)) == 12
        assert "cases.sample_created" in db.session.scalars(select(AuditEntry.action)).all()


def test_sample_refuses_a_locked_node(app):
    with app.app_context():
        keystore.keystore().lock()
    result = app.test_cli_runner().invoke(args=["cases", "sample", "3"])
    assert result.exit_code != 0 and "The node is locked" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Case)) == 0


def test_sample_refuses_a_bad_count(app):
    result = app.test_cli_runner().invoke(args=["cases", "sample", "0"])
    assert result.exit_code != 0
