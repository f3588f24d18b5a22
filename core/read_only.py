"""Pages that only read: marked by their view, run without a transaction, and the database
itself refuses them any write."""

from __future__ import annotations

import sqlite3

from flask import Flask
from flask.globals import request_ctx
from sqlalchemy import event
from sqlalchemy.engine import Engine, ExceptionContext
from werkzeug.exceptions import HTTPException

from core.extensions import db

READING = "rabita_reads_only"  # on a marked view, and on the connection it reads through

# What makes a connection refuse writes, and write again, on each database: SQLite's
# query_only and PostgreSQL's default for the transactions it starts (one per statement here).
READ_ONLY = {"sqlite": "PRAGMA query_only = ON",
             "postgresql": "SET default_transaction_read_only = on"}
WRITABLE = {"sqlite": "PRAGMA query_only = OFF",
            "postgresql": "SET default_transaction_read_only = off"}
REFUSED_WRITE_SQLSTATE = "25006"  # PostgreSQL's read_only_sql_transaction


class WriteWhileReading(RuntimeError):
    """A view marked ``reads_only`` tried to write: mark it no longer, or write elsewhere."""


def reads_only(view):
    """Mark a GET view that only reads. Its request runs without a database transaction, on
    a connection the database itself makes read-only for the request (SQLite's
    ``query_only``, PostgreSQL's ``default_transaction_read_only``): any write on it is
    refused (``WriteWhileReading``). Reads see what they would in a transaction — under
    PostgreSQL's READ COMMITTED, and SQLite's reads outside a transaction, each statement
    sees its own snapshot either way. ``core.permissions.deny`` first rolls back, which
    returns that connection: a refusal still audits, on a connection that writes, in a
    transaction of its own."""
    setattr(view, READING, True)
    return view


def guard(engine: Engine) -> None:
    """Make a reading connection writable again as it goes back to the pool, and name the
    database's refusal of a write on one."""
    writable = WRITABLE[engine.dialect.name]

    @event.listens_for(engine, "reset")
    def _write_again(dbapi_connection, record, _reset_state) -> None:
        # Before the pool's rollback and before autocommit is turned off: the setting is
        # applied at once, outside any transaction. A failure here discards the connection.
        if record.info.pop(READING, False):
            cursor = dbapi_connection.cursor()
            cursor.execute(writable)
            cursor.close()

    event.listen(engine, "handle_error", _name_the_refusal)


def read_without_transaction(app: Flask, request) -> None:
    """At the start of a request for a ``reads_only`` view, take the ORM session's
    connection in autocommit mode, before anything begins a transaction, and make it
    read-only until it goes back to the pool."""
    if request.method not in ("GET", "HEAD"):
        return
    try:  # the request's own URL adapter: binding a new one cost more than matching
        endpoint, _arguments = request_ctx.url_adapter.match()
    except HTTPException:
        return
    if not getattr(app.view_functions.get(endpoint), READING, False):
        return
    connection = db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    connection.info[READING] = True  # first: if the next line fails, the reset still runs
    connection.exec_driver_sql(READ_ONLY[connection.dialect.name])


def _name_the_refusal(context: ExceptionContext) -> WriteWhileReading | None:
    """The database refused a write on a reading connection: say so by name. The statement
    is not quoted: a literal in it could be a value worth keeping out of the log."""
    connection, error = context.connection, context.original_exception
    if connection is None or connection.closed or not connection.info.get(READING):
        return None
    if getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_READONLY or \
            getattr(error, "sqlstate", None) == REFUSED_WRITE_SQLSTATE:
        return WriteWhileReading("A page that only reads tried to write.")
    return None
