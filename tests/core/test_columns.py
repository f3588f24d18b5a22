"""Timestamps: stored as naive UTC, read back aware, the same moment to the microsecond."""

import datetime as dt

import pytest
import sqlalchemy as sa

from core.columns import UTCDateTime
from core.extensions import db
from core.testing import all_databases

MOMENTS = [
    dt.datetime(2026, 11, 28, 10, 30, 5, 123456, tzinfo=dt.timezone(dt.timedelta(hours=1))),
    dt.datetime(2026, 3, 29, 1, 59, 59, 999999, tzinfo=dt.UTC),  # a second before a DST change
    dt.datetime(2027, 1, 1, 2, 0, tzinfo=dt.timezone(dt.timedelta(hours=3))),  # another year
]


@pytest.fixture
def moments(app_context):
    table = sa.Table("test_moments", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("at", UTCDateTime))
    table.create(db.engine)
    yield table
    db.session.rollback()
    table.drop(db.engine)


@all_databases
def test_a_moment_is_stored_as_naive_utc_and_read_back_aware(moments):
    db.session.execute(moments.insert(), [{"id": n, "at": at} for n, at in enumerate(MOMENTS)])
    db.session.commit()
    stored = db.session.execute(sa.text("SELECT at FROM test_moments ORDER BY id")).scalars()
    assert [str(value)[:19] for value in stored] == [  # naive UTC, as both databases show it
        "2026-11-28 09:30:05", "2026-03-29 01:59:59", "2026-12-31 23:00:00"]
    read = db.session.execute(sa.select(moments.c.at).order_by(moments.c.id)).scalars().all()
    assert read == MOMENTS and all(at.tzinfo is dt.UTC for at in read)


@all_databases
def test_a_naive_moment_is_refused_before_it_is_stored(moments):
    with pytest.raises(sa.exc.StatementError, match="naive datetimes are ambiguous"):
        db.session.execute(moments.insert(), {"id": 1, "at": dt.datetime(2026, 11, 28, 10, 30)})
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(moments)) == 0
