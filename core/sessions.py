"""Server-side sessions in the database: revocable, with idle and absolute time-outs.

The cookie carries a random token; the table keeps only its SHA-256, so a copied database
holds no live session. A session ends after 30 minutes idle or 12 hours in all, gets a new
token at every sign-in step, and every session of a user ends when her password changes,
her role changes or she is disabled.

A visitor who is not signing in gets no row: what her pages need (a form's CSRF token, a
message, her language) travels in a second cookie, signed with the instance secret, that
can never carry a user (``VISIT_COOKIE``). So anonymous visits write nothing to the
database. Nothing derived from the client (Flask-Login's ``_id``, a hash of her address and
browser) is kept in either.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime, timedelta

from flask import Flask, Request, Response, request
from flask.sessions import SessionInterface, SessionMixin
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import bindparam, delete, insert, or_, select, update
from werkzeug.datastructures import CallbackDict

from core import clock
from core.extensions import db
from core.headers import PUBLIC_PAGES
from core.models import ServerSession, User
from core.read_only import read_without_transaction

# last_seen_at is written at most this often per session, not on every request.
TOUCH_EVERY = timedelta(seconds=60)
# How long an ended session's row is kept before it is purged (core.kept).
KEEP_ENDED = timedelta(days=1)
FLASK_LOGIN_USER_KEY = "_user_id"
PENDING_USER_KEY = "pending_user"
# A session holding one of these is someone signing in or signed in: it lives in a row.
USER_KEYS = (FLASK_LOGIN_USER_KEY, PENDING_USER_KEY)
# Flask-Login's session identifier: a SHA-512 of the client's address and browser, written
# by login_user whatever session_protection says. Never stored.
CLIENT_DERIVED_KEYS = ("_id",)
VISIT_COOKIE = "rabita_visit"
VISIT_SALT = "rabita.visit"
# Built once: building the statement cost more than running it, on every request.
SESSION_AND_USER = (
    select(ServerSession.data, ServerSession.created_at, ServerSession.last_seen_at, User)
    .outerjoin(User, User.id == ServerSession.user_id)
    .where(ServerSession.token_hash == bindparam("token_hash"))
)


class DatabaseSession(CallbackDict, SessionMixin):
    def __init__(self, initial=None, token: str | None = None, last_seen: datetime | None = None):
        def on_update(session):
            session.modified = True

        super().__init__(initial, on_update)
        self.token = token
        self.last_seen = last_seen
        self.new = token is None
        self.modified = False
        self.replaced_token: str | None = None
        self.ended = False
        self.stale_token = False
        self.user: User | None = None

    def regenerate(self) -> None:
        """Give this session a new token (at each sign-in step), keeping its contents."""
        if self.token and not self.replaced_token:
            self.replaced_token = self.token
        self.token = None
        self.new = True
        self.modified = True

    def end(self) -> None:
        """Forget everything and delete the stored session (sign-out)."""
        self.clear()
        self.ended = True
        self.modified = True


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class DatabaseSessionInterface(SessionInterface):
    def open_session(self, app: Flask, request: Request) -> DatabaseSession:
        if _is_static(app, request):
            return DatabaseSession()  # a static file needs no session: no query, no write
        read_without_transaction(app, request)  # before the first query of the request
        token = request.cookies.get(self.get_cookie_name(app))
        if not token or len(token) > 128:
            return _open_visit(app, request)
        # Her user row comes with the session row, in one query: Flask-Login's loader then
        # finds it in the ORM session (one round trip fewer on every signed-in request).
        row = db.session.execute(SESSION_AND_USER, {"token_hash": token_hash(token)}).one_or_none()
        if row is None:
            return _open_visit(app, request, stale_token=True)  # ended elsewhere
        created, last_seen = row.created_at, row.last_seen_at
        if _expired(app, created, last_seen, clock.now()):
            # Ended, and refused as such on every request; its row and cookie stay until it
            # is purged (KEEP_ENDED), so a form she sends on it is known to be hers and kept
            # for her after she signs in again (core.kept). Signing in replaces both.
            if row.User is not None:
                request.environ["rabita.ended_user"] = row.User.id
            return _open_visit(app, request)
        opened = DatabaseSession(json.loads(row.data), token=token, last_seen=last_seen)
        opened.user = row.User  # the ORM session holds rows weakly: keep hers for the loader
        return opened

    def save_session(self, app: Flask, session: DatabaseSession, response: Response) -> None:
        for key in CLIENT_DERIVED_KEYS:  # the one place they are dropped, before any write
            dict.pop(session, key, None)  # (dict.pop: not a change worth a write on its own)
        if session.ended or not _needs_row(session):
            self._save_visit(app, session, response)
        else:  # the visit cookie may stay: it is not read while a stored session is open
            self._save_row(app, session, response)

    def _save_visit(self, app: Flask, session: DatabaseSession, response: Response) -> None:
        """No one is signing in: any stored row goes, what is left goes in the signed cookie."""
        if session.token or session.replaced_token:
            _delete_rows(session.token, session.replaced_token)
        if session.token or session.replaced_token or session.stale_token:
            response.delete_cookie(self.get_cookie_name(app), path=self.get_cookie_path(app))
        if not session.modified and not session.token:
            return  # most anonymous requests: nothing changed, nothing sent
        if not session:
            if _has_cookie(VISIT_COOKIE):
                response.delete_cookie(VISIT_COOKIE, path=self.get_cookie_path(app))
            return
        response.set_cookie(
            VISIT_COOKIE,
            _visit_serializer(app).dumps(dict(session)),
            httponly=True,
            samesite=app.config["SESSION_COOKIE_SAMESITE"],
            secure=app.config["SESSION_COOKIE_SECURE"] or _request_is_secure(),
            path=self.get_cookie_path(app),
        )

    def _save_row(self, app: Flask, session: DatabaseSession, response: Response) -> None:
        name = self.get_cookie_name(app)
        now = clock.now()
        if not _to_write(session, now):
            return  # most requests: no connection taken, no transaction
        with db.engine.begin() as connection:
            if session.replaced_token:
                connection.execute(
                    delete(ServerSession)
                    .where(ServerSession.token_hash == token_hash(session.replaced_token))
                )
            if session.new:
                session.token = secrets.token_urlsafe(32)
                _purge_expired(app, connection, now)
                connection.execute(insert(ServerSession).values(_row(session, now) | {
                    "token_hash": token_hash(session.token), "created_at": now,
                }))
            else:  # changed, or last touched more than TOUCH_EVERY ago
                connection.execute(
                    update(ServerSession)
                    .where(ServerSession.token_hash == token_hash(session.token))
                    .values(_row(session, now))
                )
        response.set_cookie(
            name,
            session.token,
            httponly=True,
            samesite=app.config["SESSION_COOKIE_SAMESITE"],
            secure=app.config["SESSION_COOKIE_SECURE"] or _request_is_secure(),
            path=self.get_cookie_path(app),
        )


def _to_write(session: DatabaseSession, now: datetime) -> bool:
    """Whether saving the row of ``session`` writes anything."""
    if session.replaced_token:
        return True
    return session.new or session.modified or now - session.last_seen > TOUCH_EVERY


def _needs_row(session: DatabaseSession) -> bool:
    return any(session.get(key) for key in USER_KEYS)


def _delete_rows(*tokens: str | None) -> None:
    hashes = [token_hash(token) for token in tokens if token]
    with db.engine.begin() as connection:
        connection.execute(delete(ServerSession).where(ServerSession.token_hash.in_(hashes)))


def _visit_serializer(app: Flask) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(app.secret_key, salt=VISIT_SALT)


def _open_visit(app: Flask, request: Request, stale_token: bool = False) -> DatabaseSession:
    """The anonymous session of the signed visit cookie, or an empty one. It never names a
    user: such keys are dropped, whatever the cookie says. ``stale_token``: the request's
    session cookie names no stored session any more (its cookie is then removed)."""
    opened = DatabaseSession(_visit_data(app, request.cookies.get(VISIT_COOKIE)))
    opened.stale_token = stale_token
    return opened


def _visit_data(app: Flask, value: str | None) -> dict:
    if not value or len(value) > 4096:
        return {}
    try:
        data = _visit_serializer(app).loads(
            value, max_age=app.config["SESSION_ABSOLUTE_TIMEOUT"].total_seconds()
        )
    except BadSignature:
        return {}
    if not isinstance(data, dict):
        return {}
    return {key: value for key, value in data.items()
            if key not in (*USER_KEYS, *CLIENT_DERIVED_KEYS)}


def _has_cookie(name: str) -> bool:
    return name in request.cookies


def end_sessions_of(user_id: int) -> None:
    """End every session of a user, in the current transaction (password, role, disable)."""
    db.session.execute(delete(ServerSession).where(ServerSession.user_id == user_id))


def _row(session: DatabaseSession, now: datetime) -> dict:
    user = session.get(FLASK_LOGIN_USER_KEY) or session.get(PENDING_USER_KEY)
    return {
        "user_id": int(user) if user else None,
        "data": json.dumps(dict(session), separators=(",", ":")),
        "last_seen_at": now,
    }


def _expired(app: Flask, created: datetime, last_seen: datetime, now: datetime) -> bool:
    return (
        now - last_seen > app.config["SESSION_IDLE_TIMEOUT"]
        or now - created > app.config["SESSION_ABSOLUTE_TIMEOUT"]
    )


def _purge_expired(app: Flask, connection, now: datetime) -> None:
    # An ended row stays a while (refused all the same, _expired): a form posted on it is
    # still known to be hers, and kept for her (core.kept).
    now = now - KEEP_ENDED
    connection.execute(
        delete(ServerSession).where(
            or_(
                ServerSession.last_seen_at < now - app.config["SESSION_IDLE_TIMEOUT"],
                ServerSession.created_at < now - app.config["SESSION_ABSOLUTE_TIMEOUT"],
            )
        )
    )


def _is_static(app: Flask, request: Request) -> bool:
    """A static file, or a public page the same for everyone (``core.headers.PUBLIC_PAGES``):
    no session is read or written, so no cookie is set and nothing varies with the asker."""
    return request.path.startswith((f"{app.static_url_path}/", PUBLIC_PAGES))


def _request_is_secure() -> bool:
    return request.is_secure
