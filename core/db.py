"""The database at the bottom of every model: its connections set up as they open, ids from
requests checked before any query, and rows written many at once."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from operator import itemgetter

from flask import Flask
from sqlalchemy import DateTime, event
from sqlalchemy.engine import Engine

from core import read_only, sqlite_tuning
from core.extensions import db

# The largest id a row can have on every supported database (PostgreSQL's ``integer``). An
# id or page number from a request is checked against it before any query: a larger one is
# no row, not a database error. Routes say so with ``<int(min=1, max=MAX_ID):…>``.
MAX_ID = 2**31 - 1


def row_id(text: str) -> int:
    """An id from a request: ASCII digits, 1 to MAX_ID; anything else raises ValueError, so
    ``request.args.get("before", type=row_id)`` gives None for a malformed one."""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_ID)):
        raise ValueError("not an id")
    number = int(text)
    if not 1 <= number <= MAX_ID:
        raise ValueError("not an id")
    return number


def page_number(text: str) -> int:
    """A page number from a request, like an id (a page past MAX_ID holds no row)."""
    return row_id(text)


def insert_rows(table, rows: list[dict]) -> int:
    """Insert many rows in the current transaction with one DBAPI ``executemany``.

    The same rows a Core ``insert()`` writes, without SQLAlchemy's per-row processing, which
    costs more than the database itself when a sync page or a ledger page writes hundreds of
    rows. Every row has the same keys; aware datetimes are stored as naive UTC, as
    ``UTCDateTime`` does. Returns how many rows.
    """
    if not rows:
        return 0
    connection = db.session.connection()
    quote = connection.dialect.identifier_preparer.quote
    columns = list(rows[0])
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    statement = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608 - names from the model, values bound
                 f"VALUES ({', '.join([mark] * len(columns))})")
    values = [itemgetter(*columns)(row) for row in rows]
    moments = _moment_columns(table, tuple(columns))
    if moments:
        values = [list(row) for row in values]
        naive: dict[datetime, datetime] = {}  # rows often share one moment: convert it once
        for row in values:
            for i in moments:
                value = row[i]
                if value is not None and value.tzinfo is not None:
                    if value not in naive:
                        naive[value] = value.astimezone(UTC).replace(tzinfo=None)
                    row[i] = naive[value]
        values = [tuple(row) for row in values]
    connection.exec_driver_sql(statement, values)
    return len(rows)


@lru_cache(maxsize=256)
def _moment_columns(table, columns: tuple[str, ...]) -> list[int]:
    """Which of ``columns`` hold date-times (by the table's own types)."""
    found = []
    for i, name in enumerate(columns):
        kind = table.c[name].type
        if isinstance(getattr(kind, "impl_instance", kind), DateTime):
            found.append(i)
    return found


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def init_engine(app: Flask) -> None:
    """Tune SQLite connections as they open (``core.sqlite_tuning``), and guard the
    connections of pages that only read (``core.read_only``)."""
    with app.app_context():
        engine = db.engine
        if is_sqlite(engine):
            event.listen(engine, "connect", sqlite_tuning.tune)
        read_only.guard(engine)
