"""Pages that only read: marked by their view, run without a transaction, refused any write."""

from __future__ import annotations

from flask import Flask
from flask.globals import request_ctx
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.exceptions import HTTPException

from core.extensions import db

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


def guard(engine: Engine) -> None:
    """Refuse writes on the connections of pages that only read."""
    event.listen(engine, "before_cursor_execute", _refuse_writes_when_reading)
    event.listen(engine, "checkin", lambda _dbapi, record: record.info.pop(READING, None))


def read_without_transaction(app: Flask, request) -> None:
    """At the start of a request for a ``reads_only`` view, take the ORM session's
    connection in autocommit mode, before anything begins a transaction."""
    if request.method not in ("GET", "HEAD"):
        return
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
