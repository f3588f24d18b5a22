"""Pages that only read: marked by their view, run without a transaction, and the database
itself refuses them any write."""

from __future__ import annotations

import sqlite3

from flask import Flask, has_request_context, request
from flask.globals import request_ctx
from sqlalchemy import event
from sqlalchemy.engine import Engine, ExceptionContext
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request

from core.config import StartupError
from core.extensions import db

READING = "rabita_reads_only"  # marks the view, its request, and a connection to reset

# What makes a connection refuse writes, and write again, on each database: SQLite's
# query_only and PostgreSQL's default for the transactions it starts (one per statement here).
READ_ONLY = {"sqlite": "PRAGMA query_only = ON",
             "postgresql": "SET default_transaction_read_only = on"}
WRITABLE = {"sqlite": "PRAGMA query_only = OFF",
            "postgresql": "SET default_transaction_read_only = off"}
# PostgreSQL's default applies from the next transaction: a connection taken after a commit
# in the view, already in its transaction, has that transaction made read-only instead.
THIS_TRANSACTION_READ_ONLY = "SET TRANSACTION READ ONLY"
REFUSED_WRITE_SQLSTATE = "25006"  # PostgreSQL's read_only_sql_transaction


class WriteWhileReading(RuntimeError):
    """A view marked ``reads_only`` tried to write: mark it no longer, or write elsewhere."""


def reads_only(view):
    """Mark a GET view that only reads. Its request runs without a database transaction, on
    a connection the database itself makes read-only for the request (SQLite's
    ``query_only``, PostgreSQL's ``default_transaction_read_only``): any write on it is
    refused (``WriteWhileReading``). Reads see what they would in a transaction — under
    PostgreSQL's READ COMMITTED, and SQLite's reads outside a transaction, each statement
    sees its own snapshot either way; a commit in the view changes nothing (the next
    connection is read-only too). ``core.access.deny`` stops reading (``stop_reading``) and
    rolls back: a refusal is still audited, in a transaction of its own."""
    setattr(view, READING, True)
    return view


def guard(engine: Engine) -> None:
    """Make every connection the session of a reading request takes read-only; writable
    again as it goes back to the pool; and name the database's refusal of a write on one."""
    if engine.dialect.name not in WRITABLE:
        raise StartupError(f"Rabita runs on SQLite or PostgreSQL, not {engine.dialect.name}: "
                           "set SQLALCHEMY_DATABASE_URI to a sqlite:// or postgresql:// URL.")
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
    if not event.contains(db.session, "after_begin", _begin_reading):
        event.listen(db.session, "after_begin", _begin_reading)  # one session for every app


def read_without_transaction(app: Flask, asked: Request) -> None:
    """At the start of a request for a ``reads_only`` view, mark the request as reading (each
    connection its ORM session takes is made read-only until it goes back to the pool), and
    take the session's connection in autocommit mode, before anything begins a transaction."""
    if asked.method not in ("GET", "HEAD"):
        return
    try:  # the request's own URL adapter: binding a new one cost more than matching
        endpoint, _arguments = request_ctx.url_adapter.match()
    except HTTPException:
        return
    if not getattr(app.view_functions.get(endpoint), READING, False):
        return
    # Marked on the request: every connection its session takes is read-only (a commit in
    # the view releases one), and nothing stays marked once the request ends.
    asked.environ[READING] = True
    db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def stop_reading() -> None:
    """Let the request's session write again, from the next connection it takes: roll back
    next, to release the read-only one. ``core.access.deny`` writes a refusal this way."""
    request.environ.pop(READING, None)


def _begin_reading(_session, _transaction, connection) -> None:
    if not _reading():
        return
    if connection.dialect.name == "postgresql" and \
            not connection.connection.dbapi_connection.autocommit:
        connection.exec_driver_sql(THIS_TRANSACTION_READ_ONLY)  # ends with its transaction
        return
    connection.info[READING] = True  # first: if the next line fails, the reset still runs
    connection.exec_driver_sql(READ_ONLY[connection.dialect.name])


def _reading() -> bool:
    return has_request_context() and request.environ.get(READING, False)


def _name_the_refusal(context: ExceptionContext) -> WriteWhileReading | None:
    """The database refused a write on a reading connection: say so by name. The statement
    is not quoted: a literal in it could be a value worth keeping out of the log."""
    error = context.original_exception
    if not _reading():
        return None
    if getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_READONLY or \
            getattr(error, "sqlstate", None) == REFUSED_WRITE_SQLSTATE:
        return WriteWhileReading("A page that only reads tried to write.")
    return None
