"""Pages that only read run without a transaction, and the database refuses them any write."""

import pytest
from sqlalchemy import func, select, text

from core.access import require_permission
from core.extensions import db
from core.models import AuditEntry, ServerSession, User
from core.read_only import reads_only
from core.testing import all_databases

pytestmark = all_databases


def _read_only(connection) -> bool:
    """Whether the database refuses writes on ``connection`` (a DBAPI connection)."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA query_only" if db.engine.dialect.name == "sqlite"
                   else "SHOW default_transaction_read_only")
    value = cursor.fetchone()[0]
    cursor.close()
    return value in (1, "on")


def _in_transaction() -> bool:
    dbapi = db.session.connection().connection.dbapi_connection
    if db.engine.dialect.name == "sqlite":
        return dbapi.isolation_level is not None
    return not dbapi.autocommit


@pytest.fixture
def pages(app):
    def reading():
        return {"in_transaction": _in_transaction(),
                "read_only": _read_only(db.session.connection().connection.dbapi_connection),
                "users": db.session.scalar(select(func.count()).select_from(text("core_user")))}

    def writing():
        db.session.execute(text("UPDATE core_user SET locale = 'fr'"))
        db.session.commit()
        return "written"

    def marked_writing():  # reads_only marks the function itself: one of its own
        return writing()

    def marked_committing():  # a commit releases the connection: the next one reads only too
        db.session.scalar(select(User))
        db.session.commit()
        return writing()

    def marked_saving():  # a write through the ORM: a flush
        db.session.scalar(select(User)).locale = "fr"
        db.session.commit()
        return "saved"

    app.add_url_rule("/test/reading", "test_reading", reads_only(reading))
    app.add_url_rule("/test/unmarked", "test_unmarked",
                     lambda: {"in_transaction": _in_transaction()})
    app.add_url_rule("/test/marked-writing", "test_marked_writing", reads_only(marked_writing))
    app.add_url_rule("/test/marked-saving", "test_marked_saving", reads_only(marked_saving))
    app.add_url_rule("/test/marked-committing", "test_marked_committing",
                     reads_only(marked_committing))
    app.add_url_rule("/test/writing", "test_writing", writing)
    app.add_url_rule("/test/forbidden", "test_forbidden",
                     reads_only(require_permission("core.users.manage")(reading)))
    return app


def test_a_page_that_only_reads_runs_outside_a_transaction(pages, make_user, login_as):
    client = login_as(make_user("salma"))
    assert client.get("/test/reading").get_json() == {"in_transaction": False,
                                                      "read_only": True, "users": 1}
    assert client.get("/test/unmarked").get_json() == {"in_transaction": True}


@pytest.mark.parametrize("page", ["/test/marked-writing", "/test/marked-saving",
                                  "/test/marked-committing"])
def test_a_marked_page_that_writes_is_refused_and_writes_nothing(pages, make_user, login_as,
                                                               caplog, page):
    client = login_as(make_user("salma"))
    assert client.get(page).status_code == 500
    assert "WriteWhileReading" in caplog.text
    with pages.app_context():
        assert db.session.scalar(text("SELECT locale FROM core_user")) is None
    # The connection went back to the pool writable: the next page writes as before.
    assert client.get("/test/writing").get_data(as_text=True) == "written"
    with pages.app_context():
        assert db.session.scalar(text("SELECT locale FROM core_user")) == "fr"


@pytest.mark.parametrize("page", ["/test/reading", "/test/marked-writing"])
def test_every_connection_goes_back_to_the_pool_writable(pages, make_user, login_as, page):
    client = login_as(make_user("salma"))
    for _ in range(3):
        client.get(page)
    with pages.app_context():
        idle = [db.engine.raw_connection() for _ in range(db.engine.pool.checkedin())]
        try:
            assert idle and not any(_read_only(c.dbapi_connection) for c in idle)
        finally:
            for connection in idle:
                connection.close()


def test_a_refusal_on_a_page_that_only_reads_is_still_audited(pages, make_user, login_as):
    client = login_as(make_user("salma"))
    assert client.get("/test/forbidden").status_code == 403
    with pages.app_context():
        denied = db.session.scalars(select(AuditEntry.action)
                                    .where(AuditEntry.action == "access.denied")).all()
    assert denied == ["access.denied"]


def test_an_expired_session_on_a_page_that_only_reads_signs_her_out(pages, make_user, login_as,
                                                                     fake_clock):
    """A page that only reads, asked on a session ended by time, sends her to sign in, and so
    does every later request on it. Its row stays, refused, until a sign-in purges it a day
    later (core.sessions.KEEP_ENDED, tested in test_sessions: a form she sends on it is known
    to be hers and kept); nothing of it was touched by the read."""
    client = login_as(make_user("salma"))
    with pages.app_context():
        before = db.session.execute(select(ServerSession.token_hash, ServerSession.data,
                                           ServerSession.last_seen_at)).all()
    fake_clock.advance(minutes=31)
    for _ in range(2):
        response = client.get("/test/reading")
        assert response.status_code == 302 and "/login" in response.location
    with pages.app_context():
        assert db.session.execute(select(ServerSession.token_hash, ServerSession.data,
                                         ServerSession.last_seen_at)).all() == before
