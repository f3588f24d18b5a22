"""The database at the bottom of every model: its connections set up as they open, ids from
requests checked before any query, and rows written many at once."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import Column, Table, event, insert
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import ArgumentError, StatementError

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


def insert_rows(table: Table, rows: list[dict]) -> int:
    """Insert many rows into ``table`` in the current transaction, with one ``executemany``
    (hundreds of rows at once: a sync page, a ledger page). Every value goes through its
    column's type, as in any other write: a timestamp is stored as naive UTC, a sealed or JSON
    column is sealed or serialised; a column left out takes its default. Every row has the
    same keys, each a column of ``table``. Returns how many rows.

    The statement and each column's type processing are SQLAlchemy's own, worked out once per
    table and set of keys, and the rows go to the driver's ``executemany`` as they are: what
    ``session.execute(insert(table), rows)`` did, without working it all out again for each
    row. A value its column refuses raises ``StatementError`` before anything is written."""
    if not rows:
        return 0
    keys = tuple(rows[0])
    connection = db.session.connection()
    plan = _insert_plan(table, connection.dialect, keys)
    try:
        values = plan.values(rows)
    except ArgumentError:
        raise
    except Exception as error:  # what a column's type refuses, wrapped as SQLAlchemy does
        raise StatementError(str(error), plan.statement, None, error) from error
    connection.exec_driver_sql(plan.statement, values)
    return len(rows)


class _InsertPlan:
    """How rows with given keys are inserted into a table: the statement compiled for the
    dialect, and for each of its parameters where the value comes from (the row or the
    column's default) and the column type's bind processor."""

    def __init__(self, table: Table, dialect: Dialect, keys: tuple[str, ...]) -> None:
        self.keys = frozenset(keys)
        unknown = [key for key in keys if key not in table.c]
        if unknown:
            raise ArgumentError(f"{table.name} has no column {unknown[0]!r}")
        defaults = {}
        for column in table.c:
            if column.key not in keys and column.default is not None:
                defaults[column.key] = _python_default(column)
        compiled = insert(table).inline().compile(dialect=dialect,
                                                  column_keys=[*keys, *defaults])
        self.statement = compiled.string
        # each parameter of the statement, in its order (positional) or by its name (named)
        names = compiled.positiontup if compiled.positional else list(compiled.binds)
        self.names = None if compiled.positional else [compiled.bind_names[compiled.binds[n]]
                                                       for n in names]
        self.sources = []
        for name in names:
            column = table.c[compiled.binds[name].key]
            processor = column.type._cached_bind_processor(dialect)
            self.sources.append((column.key, defaults.get(column.key), processor))

    def values(self, rows: list[dict]) -> list[tuple] | list[dict]:
        """The rows' parameters for the driver, each value through its column's type."""
        if any(row.keys() != self.keys for row in rows):
            raise ArgumentError("a row's keys differ from the first row's")
        columns = []  # a column at a time: each processor applied over all the rows
        for key, default, processor in self.sources:
            values = [default() for _ in rows] if default else [row[key] for row in rows]
            columns.append(list(map(processor, values)) if processor else values)
        if self.names is None:
            return list(zip(*columns, strict=True))
        return [dict(zip(self.names, row, strict=True)) for row in zip(*columns, strict=True)]


def _python_default(column: Column) -> Callable[[], Any]:
    """The value a column left out of a row takes: its scalar default, or what its callable
    default (one taking no argument, e.g. ``clock.now``) returns for each row. Any other
    default (an SQL expression, a sequence, a callable wanting SQLAlchemy's execution context)
    is refused: insert_rows cannot apply it as an ORM insert would."""
    default = column.default
    if default.is_scalar:
        return lambda value=default.arg: value
    if default.is_callable and not inspect.signature(default.arg).parameters:
        return default.arg.__wrapped__
    raise ArgumentError(f"insert_rows cannot apply the default of {column} ({default!r}): "
                        "give the column a value in every row")


@functools.lru_cache(maxsize=128)
def _insert_plan(table: Table, dialect: Dialect, keys: tuple[str, ...]) -> _InsertPlan:
    return _InsertPlan(table, dialect, keys)


def commit_keeping_loaded() -> None:
    """Commit without expiring what the session loaded: for a page that commits its audit
    record and then shows what it had read (the rows it revealed, from the transaction just
    committed), which would otherwise all be read again."""
    session = db.session()
    keeping, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = keeping


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
