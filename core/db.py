"""The database at the bottom of every model: its connections set up as they open, ids from
requests checked before any query, and rows written many at once."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import Table, event, insert
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


def insert_rows(table: Table, rows: list[dict]) -> int:
    """Insert many rows into ``table`` in the current transaction, with one ``executemany``
    (hundreds of rows at once: a sync page, a ledger page). Every value goes through its
    column's type, as in any other write: a timestamp is stored as naive UTC, a sealed or JSON
    column is sealed or serialised. Every row has the same keys. Returns how many rows."""
    if rows:
        db.session.execute(insert(table), rows)
    return len(rows)


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
