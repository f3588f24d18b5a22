"""The database: SQLite tuning, and every migration run up and down with data in the tables."""

import datetime as dt
import json
from pathlib import Path

import flask_migrate
import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from core import read_only
from core.columns import UTCDateTime
from core.config import StartupError
from core.db import insert_rows
from core.extensions import db
from core.instance_seal import SealedBase32
from core.migrating import schema_differences, version_locations
from core.testing import all_databases

PLUGINS_DIR = Path(__file__).resolve().parents[2] / "plugins"
BUILT_IN_PLUGINS = sorted(
    f"plugins.{p.name}" for p in PLUGINS_DIR.iterdir() if (p / "__init__.py").exists()
) + ["federation"]  # a built-in too, with its own migration branch


def test_sqlite_uses_wal_16k_pages_and_foreign_keys(app_context):
    with db.engine.connect() as connection:
        pragma = lambda name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
        assert pragma("journal_mode") == "wal"
        assert pragma("page_size") == 16384
        assert pragma("foreign_keys") == 1
        assert pragma("cache_size") == -16384  # KiB: 16 MiB, a limit
        assert pragma("wal_autocheckpoint") == 4000  # pages: 64 MiB
        assert pragma("secure_delete") == 1


def test_a_database_other_than_sqlite_or_postgresql_is_refused_at_start_up():
    engine = sa.create_mock_engine("mysql://", executor=None)  # a dialect: no server, no driver
    with pytest.raises(StartupError, match="SQLite or PostgreSQL"):
        read_only.guard(engine)


@pytest.fixture
def migrating_app(make_app):
    app = make_app(create_tables=False, PLUGINS=BUILT_IN_PLUGINS)
    with app.app_context():
        yield app


def revisions_in_order(app):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(flask_migrate.__file__).parent))
    config.set_main_option("path_separator", "os")
    import os

    config.set_main_option("version_locations", os.pathsep.join(version_locations(app)))
    script = ScriptDirectory.from_config(config)
    return list(reversed(list(script.walk_revisions("base", "heads"))))


def owned_tables(app):
    from core.migrating import owned_by_active_code

    inspector = sa.inspect(db.engine)
    return sorted(t for t in inspector.get_table_names() if owned_by_active_code(app, t))


def fill_every_table(app):
    """Put one row in every table that has none, with values fitting each column's type."""
    metadata = sa.MetaData()
    metadata.reflect(db.engine, only=owned_tables(app))
    with db.engine.begin() as connection:
        for table in metadata.sorted_tables:
            if connection.execute(sa.select(sa.func.count()).select_from(table)).scalar():
                continue
            connection.execute(table.insert().values(
                {column.name: sample_value(column, connection) for column in table.columns}
            ))


def sample_value(column, connection):
    for foreign_key in column.foreign_keys:
        target = foreign_key.column
        return connection.execute(sa.select(target).limit(1)).scalar()
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.Integer):
        return 1
    if isinstance(kind, sa.DateTime):
        return dt.datetime(2026, 1, 2, 3, 4, 5)
    if isinstance(kind, sa.Date):
        return dt.date(2026, 1, 2)
    if isinstance(kind, sa.LargeBinary):
        return b"\x00\x01"
    if isinstance(kind, sa.JSON):
        return {}
    if isinstance(kind, sa.String) and getattr(kind, "length", None):
        return "v" * min(kind.length, 8)
    return "{}"


def row_counts(app):
    with db.engine.connect() as connection:
        return {
            table: connection.execute(sa.text(f'SELECT COUNT(*) FROM "{table}"')).scalar()
            for table in owned_tables(app)
        }


def step_below(revision):
    """The revision just below ``revision`` on its own branch (a branch root: its base)."""
    below = revision.down_revision
    if isinstance(below, tuple):
        return below[0]
    if below:
        return below
    return f"{sorted(revision.branch_labels)[0]}@base" if revision.branch_labels else "base"


# Tables a migration drops, their rows moved elsewhere: each has a test of its own that the
# rows arrive (and come back down).
DROPPED_BY = {
    "federation_0009": {"federation_shared_index"},  # tests/federation/test_index_migration.py
}


@pytest.mark.slow
@all_databases
def test_every_migration_runs_up_and_down_with_data(migrating_app):
    app = migrating_app
    revisions = revisions_in_order(app)
    assert revisions, "no migrations found"
    for revision in revisions:
        flask_migrate.upgrade(revision=revision.revision)
        fill_every_table(app)
        with_data = row_counts(app)
        assert all(with_data.values()), with_data
        flask_migrate.downgrade(revision=step_below(revision))
        after_down = row_counts(app)
        for table, count in after_down.items():
            assert count == with_data.get(table, count), f"{revision.revision} down lost {table}"
        flask_migrate.upgrade(revision=revision.revision)
        again = row_counts(app)
        dropped = set(after_down) - set(again)
        assert dropped == DROPPED_BY.get(revision.revision, set()), revision.revision
        for table in after_down.keys() - dropped:
            assert again[table] == with_data[table], f"{revision.revision} up again lost {table}"
        fill_every_table(app)
    flask_migrate.downgrade(revision="base")
    assert owned_tables(app) == []


@all_databases
def test_the_migrated_schema_equals_the_models(migrating_app):
    flask_migrate.upgrade(revision="heads")
    assert schema_differences(migrating_app) == []


@all_databases
def test_a_migrated_database_keeps_the_audit_log_append_only(migrating_app):
    from sqlalchemy.exc import DatabaseError

    from core import audit

    flask_migrate.upgrade(revision="heads")
    audit.record("test.action")
    db.session.commit()
    with pytest.raises(DatabaseError):
        db.session.execute(sa.text("DELETE FROM core_audit_entry"))
    db.session.rollback()
    assert audit.verify() == (1, None)


@all_databases
def test_the_facet_tally_migration_counts_the_facets_already_there(migrating_app):
    flask_migrate.upgrade(revision="cases_0001")
    fill_every_table(migrating_app)  # a case, for facets to point at
    cases = sa.Table("cases_case", sa.MetaData(), autoload_with=db.engine)
    with db.engine.begin() as connection:
        first = connection.execute(sa.select(cases)).mappings().one()
        connection.execute(cases.insert().values({**first, "id": first["id"] + 1,
                                                  "uuid": "second-case"}))
        connection.execute(sa.text("DELETE FROM cases_facet"))
        for case_id, kind, value, status in ((first["id"], "violation", "travel-ban", "open"),
                                             (first["id"] + 1, "violation", "travel-ban", "open"),
                                             (first["id"], "governorate", "TN-61", "closed")):
            connection.execute(sa.text(
                "INSERT INTO cases_facet (kind, value, case_id, origin, restricted, status, "
                "risk, updated_at, created_at) VALUES (:kind, :value, :case_id, 'local', "
                ":restricted, :status, 'high', :moment, :moment)"),
                {"kind": kind, "value": value, "case_id": case_id, "status": status,
                 "restricted": False, "moment": dt.datetime(2026, 1, 2)})
    flask_migrate.upgrade(revision="cases_0002")
    with db.engine.connect() as connection:
        tallies = connection.execute(sa.text(
            "SELECT kind, value, status, count FROM cases_facet_tally ORDER BY kind")).all()
    assert [tuple(t) for t in tallies] == [("governorate", "TN-61", "closed", 1),
                                          ("violation", "travel-ban", "open", 2)]


@all_databases
def test_the_second_factor_migration_seals_the_secrets_already_there(migrating_app):
    from core.models import User

    flask_migrate.upgrade(revision="core_0002")
    fill_every_table(migrating_app)
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    with db.engine.begin() as connection:
        connection.execute(sa.text("UPDATE core_user SET totp_secret = :s"), {"s": secret})
    flask_migrate.upgrade(revision="core_0003")
    with db.engine.connect() as connection:
        stored = connection.execute(sa.text("SELECT totp_secret FROM core_user")).scalar()
    assert stored != secret and len(stored) == 64
    assert db.session.scalar(sa.select(User.totp_secret)) == secret
    db.session.rollback()
    flask_migrate.downgrade(revision="core_0002")
    with db.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT totp_secret FROM core_user")).scalar() == secret


@all_databases
def test_insert_rows_stores_every_aware_moment_as_utc(app_context):
    from core.models import LedgerEntry

    tunis = dt.timezone(dt.timedelta(hours=1))
    sent = dt.datetime(2026, 11, 28, 10, 30, tzinfo=tunis)
    receipt = dt.datetime(2026, 11, 28, 23, 15, tzinfo=dt.timezone(dt.timedelta(hours=3)))
    common = {"record_type": "testimony.testimony", "version": 1, "audience": "hub",
              "recipient": "r" * 32, "payload_hash": "0" * 64, "policy_hash": "0" * 64,
              "consent_id": None, "sent_at": sent}
    # the first row has no receipt time: a later row's must still be converted
    insert_rows(LedgerEntry.__table__, [
        {**common, "record_uuid": "first", "receipt_at": None},
        {**common, "record_uuid": "second", "receipt_at": receipt},
    ])
    db.session.commit()
    first, second = db.session.scalars(sa.select(LedgerEntry).order_by(LedgerEntry.record_uuid))
    assert first.receipt_at is None
    assert first.sent_at == second.sent_at == sent
    assert second.receipt_at == receipt and second.receipt_at.utcoffset() == dt.timedelta(0)
    stored = db.session.execute(sa.text(
        "SELECT receipt_at FROM core_ledger_entry WHERE record_uuid = 'second'")).scalar()
    assert str(stored).startswith("2026-11-28 20:15:00")  # naive UTC, as UTCDateTime stores


@pytest.fixture
def bulk_table(app_context):
    """A table of its own with a sealed, a JSON and a UTC column, made and dropped here."""
    table = sa.Table("test_bulk", sa.MetaData(),
                     sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("secret", SealedBase32("test_bulk.secret")),
                     sa.Column("facts", sa.JSON),
                     sa.Column("at", UTCDateTime),
                     sa.Column("kind", sa.String(8), default="plain"))
    table.create(db.engine)
    yield table
    db.session.rollback()
    table.drop(db.engine)


@all_databases
def test_insert_rows_puts_every_value_through_its_column_type(bulk_table):
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    at = dt.datetime(2026, 11, 28, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert insert_rows(bulk_table, [
        {"id": n, "secret": secret, "facts": {"names": ["سلمى", "Nour"], "n": n}, "at": at}
        for n in (1, 2)]) == 2
    db.session.commit()
    stored = db.session.execute(sa.text("SELECT secret, facts, at, kind FROM test_bulk "
                                        "WHERE id = 1")).one()
    assert len(stored.secret) == 64 and secret not in stored.secret  # sealed, not in clear
    facts = stored.facts if isinstance(stored.facts, dict) else json.loads(stored.facts)
    assert facts == {"names": ["سلمى", "Nour"], "n": 1}  # serialised as JSON (psycopg parses it)
    assert str(stored.at).startswith("2026-11-28 09:30:00")  # naive UTC
    assert stored.kind == "plain"  # the column's default, as in any insert
    rows = db.session.execute(sa.select(bulk_table).order_by(bulk_table.c.id)).all()
    assert [(r.secret, r.facts, r.at) for r in rows] == [
        (secret, {"names": ["سلمى", "Nour"], "n": n}, at) for n in (1, 2)]
    assert rows[0].at.utcoffset() == dt.timedelta(0)


@all_databases
def test_insert_rows_refuses_a_value_its_column_refuses_and_writes_nothing(bulk_table):
    aware = dt.datetime(2026, 11, 28, 10, 30, tzinfo=dt.UTC)
    for bad in ({"secret": "not base32 at all!", "at": aware},
                {"secret": None, "at": aware.replace(tzinfo=None)}):  # naive: ambiguous
        with pytest.raises(sa.exc.StatementError):
            insert_rows(bulk_table, [{"id": 1, "facts": None, "secret": None, "at": aware},
                                     {"id": 2, "facts": None, **bad}])
        db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(bulk_table)) == 0
    assert insert_rows(bulk_table, []) == 0


@all_databases
def test_insert_rows_fills_a_left_out_columns_default_in_each_row(bulk_table, monkeypatch):
    from core import clock

    moments = iter([dt.datetime(2026, 11, 28, 9, n, tzinfo=dt.UTC) for n in (1, 2)])
    monkeypatch.setattr(clock, "now", lambda: next(moments))  # a callable default, per row
    stamped = sa.Table("test_bulk_stamped", sa.MetaData(),
                       sa.Column("id", sa.Integer, primary_key=True),
                       sa.Column("at", UTCDateTime, default=clock.now))
    stamped.create(db.engine)
    try:
        assert insert_rows(stamped, [{"id": 1}, {"id": 2}]) == 2
        insert_rows(bulk_table, [{"id": 1, "secret": None, "facts": None, "at": None,
                                  "kind": "given"}])
        assert insert_rows(bulk_table, [{"id": 2, "secret": None, "facts": None, "at": None}])
        assert db.session.execute(sa.select(stamped.c.at).order_by(stamped.c.id)).scalars()\
            .all() == [dt.datetime(2026, 11, 28, 9, n, tzinfo=dt.UTC) for n in (1, 2)]
        assert db.session.execute(sa.select(bulk_table.c.kind).order_by(bulk_table.c.id))\
            .scalars().all() == ["given", "plain"]
    finally:
        db.session.rollback()
        stamped.drop(db.engine)


@all_databases
def test_insert_rows_refuses_an_unknown_column_a_row_unlike_the_first_and_a_default_it_cannot_apply(
        bulk_table):
    with pytest.raises(sa.exc.ArgumentError, match="test_bulk has no column 'secrets'"):
        insert_rows(bulk_table, [{"id": 1, "secrets": None}])
    with pytest.raises(sa.exc.ArgumentError, match="differ from the first row's"):
        insert_rows(bulk_table, [{"id": 1, "secret": None}, {"id": 2, "facts": None}])
    counted = sa.Table("test_bulk_counted", sa.MetaData(),
                       sa.Column("id", sa.Integer, primary_key=True),
                       sa.Column("n", sa.Integer, default=sa.text("1 + 1")),
                       sa.Column("m", sa.Integer, default=lambda context: 2))
    with pytest.raises(sa.exc.ArgumentError, match="cannot apply the default"):
        insert_rows(counted, [{"id": 1, "m": 2}])  # an SQL expression
    with pytest.raises(sa.exc.ArgumentError, match="cannot apply the default"):
        insert_rows(counted, [{"id": 1, "n": 2}])  # a callable wanting the execution context
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(bulk_table)) == 0


@all_databases
def test_the_reference_migration_gives_every_case_its_own_random_reference(migrating_app):
    from core import references

    flask_migrate.upgrade(revision="cases_0002")
    fill_every_table(migrating_app)
    cases = sa.Table("cases_case", sa.MetaData(), autoload_with=db.engine)
    with db.engine.begin() as connection:
        first = connection.execute(sa.select(cases)).mappings().one()
        connection.execute(cases.insert(), [
            {**first, "id": first["id"] + n, "uuid": f"case-{n}"} for n in range(1, 40)])
    flask_migrate.upgrade(revision="cases_0003")
    with db.engine.connect() as connection:
        codes = connection.execute(sa.text(
            "SELECT reference_code FROM cases_case ORDER BY id")).scalars().all()
    assert len(codes) == 40 and len(set(codes)) == 40
    assert all(references.parse("C", code) == code for code in codes)
    # random, not the numbers in disguise: in the cases' order they are not in order (1/40!)
    assert sorted(codes) != codes
    with db.engine.begin() as connection, pytest.raises(sa.exc.IntegrityError):
        connection.execute(sa.text("UPDATE cases_case SET reference_code = :code"),
                           {"code": codes[0]})
    flask_migrate.downgrade(revision="cases_0002")
    columns = {c["name"] for c in sa.inspect(db.engine).get_columns("cases_case")}
    assert "reference_code" not in columns
    with db.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT COUNT(*) FROM cases_case")).scalar() == 40
        assert connection.execute(sa.text("SELECT COUNT(*) FROM cases_defender")).scalar() == 1


@all_databases
def test_the_recovery_code_migration_keeps_every_user_and_her_second_factor(migrating_app):
    from core import recovery
    from core.models import User

    flask_migrate.upgrade(revision="core_0004")
    fill_every_table(migrating_app)
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    db.session.execute(sa.update(User).values(totp_secret=secret))  # sealed as it is written
    # the sample audit entry took seq 1: the next one written goes after it
    db.session.execute(sa.text("UPDATE core_audit_head SET seq = 1"))
    db.session.commit()
    flask_migrate.upgrade(revision="core_0005")
    user = db.session.scalar(sa.select(User))
    assert user.totp_secret == secret and recovery.left(user.id) == 0  # none made for her yet
    codes = recovery.make_new(user)
    db.session.commit()
    assert recovery.use(user, codes[0]) and not recovery.use(user, codes[0])
    db.session.commit()
    user_id = user.id
    db.session.remove()
    flask_migrate.downgrade(revision="core_0004")
    assert "core_recovery_code" not in sa.inspect(db.engine).get_table_names()
    assert db.session.get(User, user_id).totp_secret == secret
    db.session.remove()
    flask_migrate.upgrade(revision="core_0005")
    assert recovery.left(user_id) == 0  # codes do not come back: she makes new ones
