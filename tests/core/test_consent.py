"""Consent: no consent, no sharing; withdrawal and expiry end it and are announced."""

from datetime import date, timedelta

import pytest
from sqlalchemy import create_engine, func, select, text

from core import clock, consent
from core.extensions import db
from core.models import Consent, User
from core.testing import all_databases
from tests.conftest import TESTIMONY, load_testimony

# Every test on both databases but one: several servers ending consents at once is a
# PostgreSQL hub's case (SQLite is one server's file, with one writer at a time).
postgresql_only = pytest.mark.parametrize("db_backend", ["postgresql"], indirect=True)


@pytest.fixture
def ended(make_plugin):
    """Consents announced as ended, through a plugin implementing `consent_ended`."""
    announced = []
    return announced, make_plugin("listener", consent_ended=lambda consent, reason:
                                  announced.append((consent.id, reason)))


@pytest.fixture
def node(make_app, ended):
    return make_app(PLUGINS=[TESTIMONY, "plugins.country_tn", ended[1]], unlocked=True)


@pytest.fixture
def testimony(node, make_user):
    from core import records
    from tests.fixtures.testimony.models import Testimony

    with node.app_context():
        record = records.new(Testimony, None)
        records.save(record, None)
        return record.uuid


def give(node, uuid, user_id, **overrides):
    arguments = dict(given_by="defender", method="written", audiences=["hub"],
                     purposes=["statistics"], obtained_on=date(2026, 1, 10))
    arguments.update(overrides)
    with node.app_context():
        record = load_testimony(node, uuid)
        return consent.record(record, user=db.session.get(User, user_id), **arguments).id


@all_databases
def test_no_consent_means_no_audience(node, testimony):
    with node.app_context():
        assert consent.allows(load_testimony(node, testimony), "hub") is None


@all_databases
def test_a_consent_covers_its_audiences_only(node, testimony, make_user):
    salma = make_user("salma", role="documenter")
    give(node, testimony, salma.id, audiences=["hub", "peers"])
    with node.app_context():
        record = load_testimony(node, testimony)
        assert consent.allows(record, "hub") and consent.allows(record, "peers")
        assert consent.allows(record, "public-aggregate") is None


@all_databases
@pytest.mark.parametrize("overrides, words", [
    ({"audiences": ["everyone"]}, "Unknown audience"),
    ({"audiences": []}, "at least one audience"),
    ({"purposes": ["profit"]}, "purpose"),
    ({"obtained_on": date(2099, 1, 1)}, "cannot be in the future"),
    ({"expires_on": date(2025, 1, 1)}, "must come after"),
    ({"given_by": "representative", "representative": None}, "on her behalf"),
    ({"method": "telepathy"}, "how the consent was given"),
])
def test_bad_consent_is_refused_and_changes_nothing(node, testimony, make_user, overrides, words):
    salma = make_user("salma", role="documenter")
    with pytest.raises(consent.ConsentError, match=words):
        give(node, testimony, salma.id, **overrides)
    with node.app_context():
        assert db.session.scalar(select(func.count()).select_from(Consent)) == 0


@all_databases
def test_withdrawal_ends_it_and_is_announced(node, testimony, make_user, ended):
    salma = make_user("salma", role="documenter")
    consent_id = give(node, testimony, salma.id)
    with node.app_context():
        consent.withdraw(db.session.get(Consent, consent_id), reason="safety",
                         user=db.session.get(User, salma.id))
        assert consent.allows(load_testimony(node, testimony), "hub") is None
    assert ended[0] == [(consent_id, "withdrawn")]


@all_databases
def test_hook_consent_ended(node, testimony, make_user, ended):
    salma = make_user("salma", role="documenter")
    first = give(node, testimony, salma.id)
    second = give(node, testimony, salma.id, audiences=["peers"])
    assert ended[0] == [(first, "superseded")]
    with node.app_context():
        assert consent.current(load_testimony(node, testimony)).id == second


@all_databases
def test_read_once_reads_each_consent_once_and_forgets_one_that_changes(node, testimony,
                                                                        make_user):
    from sqlalchemy import event

    salma = make_user("salma", role="documenter")
    first = give(node, testimony, salma.id, audiences=["hub", "peers"])
    with node.app_context():
        record, user = load_testimony(node, testimony), db.session.get(User, salma.id)
        reads = []
        listener = lambda *args: reads.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            with consent.read_once():
                assert consent.current(record).id == first
                assert consent.allows(record, "hub") and consent.allows(record, "peers")
                assert sum("FROM core_consent" in s for s in reads) == 1
                # Recorded or ended in the block: what it reads next is the new state.
                newer = consent.record(record, user=user, given_by="defender", method="oral",
                                       audiences=["peers"], purposes=["statistics"],
                                       obtained_on=date(2026, 1, 10))
                assert consent.allows(record, "hub") is None
                assert consent.current(record).id == newer.id
                consent.withdraw(newer, reason="safety", user=user)
                assert consent.current(record) is None
            reads.clear()
            assert consent.current(record) is None and consent.current(record) is None
            assert sum("FROM core_consent" in s for s in reads) == 2  # outside: each time
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)


@all_databases
def test_expiry_is_handled_by_the_command(node, testimony, make_user, ended, fake_clock):
    salma = make_user("salma", role="documenter")
    today = clock.now().date()
    consent_id = give(node, testimony, salma.id, obtained_on=today,
                      expires_on=today + timedelta(days=30))
    fake_clock.advance(days=31)
    with node.app_context():
        assert consent.allows(load_testimony(node, testimony), "hub") is None  # already
    result = node.test_cli_runner().invoke(args=["consent", "expire"])
    assert result.exit_code == 0 and "1 consents expired" in result.output
    assert ended[0] == [(consent_id, "expired")]
    again = node.test_cli_runner().invoke(args=["consent", "expire"])
    assert "0 consents expired" in again.output


@postgresql_only
def test_a_consent_another_server_is_ending_is_left_to_it(node, testimony, make_user, ended,
                                                          fake_clock, db_backend, database_url):
    salma = make_user("salma", role="documenter")
    today = clock.now().date()
    consent_id = give(node, testimony, salma.id, obtained_on=today,
                      expires_on=today + timedelta(days=30))
    fake_clock.advance(days=31)
    other = create_engine(database_url)  # the other server's run, mid-way: its rows locked
    with other.begin() as connection:
        connection.execute(select(Consent.id).where(Consent.ended_at.is_(None))
                           .with_for_update())
        with node.app_context():
            db.session.execute(text("SET LOCAL lock_timeout = '5s'"))  # fail, never hang
            assert consent.expire_due() == []
    other.dispose()
    with node.app_context():
        assert [c.id for c in consent.expire_due()] == [consent_id]
    assert ended[0] == [(consent_id, "expired")]


@all_databases
def test_an_unknown_withdrawal_reason_changes_nothing(node, testimony, make_user, ended):
    salma = make_user("salma", role="documenter")
    consent_id = give(node, testimony, salma.id)
    with node.app_context():
        with pytest.raises(consent.ConsentError):
            consent.withdraw(db.session.get(Consent, consent_id), reason="bored",
                             user=db.session.get(User, salma.id))
        assert db.session.get(Consent, consent_id).ended_at is None
    assert ended[0] == []
