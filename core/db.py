"""Database plumbing shared by every model: UTC timestamps and the SQLite tuning."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from functools import lru_cache
from operator import itemgetter

from flask import Flask
from sqlalchemy import DateTime, String, event
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator
from werkzeug.exceptions import HTTPException

from core.extensions import db

# 16 KiB pages made ~2 KB-row upserts about 2.2x faster than 4 KiB here (STACK-NOTES).
SQLITE_PAGE_SIZE = 16384

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


class UTCDateTime(TypeDecorator):
    """A timestamp stored as naive UTC and always returned timezone-aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect):
        return None if value is None else value.replace(tzinfo=UTC)


class SealedBase32(TypeDecorator):
    """A base32 secret of at most 20 bytes (a TOTP key) stored sealed under the instance's
    SECRET_KEY (``core.keystore.seal_for_instance``): sealed as it is written, opened as it
    is read, so code sees the base32 text. 64 characters stored for a 32-character secret."""

    impl = String(64)
    cache_ok = True
    MAX_BYTES = 20

    def __init__(self, purpose: str):
        super().__init__()
        self.purpose = purpose

    def process_bind_param(self, value: str | None, dialect):
        from core.keystore import seal_for_instance

        if value is None:
            return None
        raw = base32_bytes(value)
        if raw is None or len(raw) > self.MAX_BYTES:
            raise ValueError("not a base32 secret of at most 20 bytes")
        return seal_for_instance(raw, self.purpose)

    def process_result_value(self, value: str | None, dialect):
        from core.keystore import open_for_instance

        if value is None:
            return None
        return base64.b32encode(open_for_instance(value, self.purpose)).decode().rstrip("=")


def base32_bytes(text: str) -> bytes | None:
    """The bytes of base32 ``text`` (any case, padding optional), or None."""
    try:
        return base64.b32decode(text.upper() + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError):
        return None


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
    """Tune SQLite connections as they open: WAL, 16 KiB pages, foreign keys, a busy wait;
    and guard the connections of pages that only read (``reads_only``)."""
    with app.app_context():
        engine = db.engine
        if is_sqlite(engine):
            event.listen(engine, "connect", _tune_sqlite)
        event.listen(engine, "before_cursor_execute", _refuse_writes_when_reading)
        event.listen(engine, "checkin", lambda _dbapi, record: record.info.pop(READING, None))


# -- pages that only read --------------------------------------------------------------------

READING = "rabita_reads_only"
READ_STATEMENTS = ("SELECT", "WITH")


class WriteWhileReading(RuntimeError):
    """A view marked ``reads_only`` tried to write: mark it no longer, or write elsewhere."""


def reads_only(view):
    """Mark a GET view that only reads. Its request runs without a database transaction: no
    BEGIN and ROLLBACK around its queries (two round trips fewer on PostgreSQL). Reads see
    what they saw before — under PostgreSQL's READ COMMITTED, and SQLite's reads outside a
    transaction, each statement sees its own snapshot either way — and any write on that
    connection is refused (``WriteWhileReading``). ``core.permissions.deny`` first rolls
    back, so a refusal still audits in a transaction of its own."""
    setattr(view, READING, True)
    return view


def read_without_transaction(app: Flask, request) -> None:
    """At the start of a request for a ``reads_only`` view, take the ORM session's
    connection in autocommit mode, before anything begins a transaction."""
    if request.method not in ("GET", "HEAD"):
        return
    from flask.globals import request_ctx

    try:  # the request's own URL adapter: binding a new one cost more than matching
        endpoint, _arguments = request_ctx.url_adapter.match()
    except HTTPException:
        return
    if not getattr(app.view_functions.get(endpoint), READING, False):
        return
    connection = db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    connection.connection.info[READING] = True


def _refuse_writes_when_reading(connection, _cursor, statement, _parameters, _context,
                                _many) -> None:
    if connection.connection.info.get(READING) and \
            not statement.lstrip()[:6].upper().startswith(READ_STATEMENTS):
        # The statement is not quoted: a literal in it could be a value worth keeping out.
        raise WriteWhileReading("A page that only reads tried to write.")


def _tune_sqlite(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # page_size only takes effect before the first table is written, so new files get it.
    cursor.execute(f"PRAGMA page_size = {SQLITE_PAGE_SIZE}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA busy_timeout = 10000")
    cursor.close()
