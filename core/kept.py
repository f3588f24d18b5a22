"""Nothing typed is lost when a form's session or token ended, or the node is locked.

A form posted after its session ended (30 minutes idle) or with an expired CSRF token is
not thrown away: the view it was posted to may have registered a keeper (``register``) that
keeps what was typed — sealed, for the person who typed it only (``plugins.cases.drafts``
keeps a case form as her draft) — and answers where to continue. She is asked to sign in
again; once signed in she is taken there, and finds what she typed.

Whose the form was is known even though her session ended: the ended session's row names
her (``core.sessions`` keeps an ended row a day before purging it, and the request that
finds it ended notes her id, ``ENDED_USER``). A form whose writer is not known this way is
not kept (it could be anyone's browser).

Also here: what every page shows while the node is locked (``locked_context``).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Flask, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import select

from core import keystore
from core.extensions import db
from core.models import User
from core.permissions import ADMIN

ENDED_USER = "rabita.ended_user"  # request.environ: the user of the session that just ended
CONTINUE = "rabita_continue"  # session: where to go after signing in again
KEEPERS = "rabita.form_keepers"

# keeper(user_id, form) -> the local path where she finds what she typed, or None
Keeper = Callable[[int, object], str | None]


def register(app: Flask, endpoint: str, keeper: Keeper) -> None:
    """Keep forms posted to ``endpoint`` when their session or token has ended."""
    app.extensions.setdefault(KEEPERS, {})[endpoint] = keeper


def init_app(app: Flask) -> None:
    app.extensions.setdefault(KEEPERS, {})
    app.before_request(_continue_after_sign_in)
    app.context_processor(locked_context)


def interrupted():
    """For a POST refused because its session or CSRF token ended: keep what was typed if
    the page's keeper can, and answer with the way back (sign in, then continue) — or None
    when nothing could be kept (the usual error page follows)."""
    if request.method != "POST" or not request.form or \
            request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        return None
    keeper = current_app.extensions.get(KEEPERS, {}).get(request.endpoint)
    user_id = current_user.id if current_user.is_authenticated else \
        request.environ.get(ENDED_USER)
    if keeper is None or user_id is None:
        return None
    try:
        where = keeper(user_id, request.form)
    except keystore.NodeLocked:
        db.session.rollback()
        return None
    if not where or not _local(where):
        return None
    if current_user.is_authenticated:
        flash(gettext("This form had expired. What you typed is kept: check it and save again."),
              "error")
        return redirect(where)
    session[CONTINUE] = where
    flash(gettext("Your session ended while you were writing. Sign in again: what you typed is "
             "kept, and you will find it as you left it."), "error")
    return redirect(url_for("auth.login"))


def _continue_after_sign_in():
    """The first page after signing in again is the form she was writing."""
    if request.method != "GET" or CONTINUE not in session or request.endpoint == "static":
        return None
    if not current_user.is_authenticated or current_user.must_enrol_second_factor():
        return None
    where = session.pop(CONTINUE)
    return redirect(where) if isinstance(where, str) and _local(where) else None


def _local(path: str) -> bool:
    parts = urlsplit(path)
    return not parts.scheme and not parts.netloc and path.startswith("/") and \
        not path.startswith("//")


def unlockers() -> list[str]:
    """Who can unlock the node: its active administrators, by the name she knows them by."""
    return list(db.session.scalars(
        select(User.username).where(User.role == ADMIN, User.disabled_at.is_(None))
        .order_by(User.username)))


def locked_context() -> dict:
    """``node_locked`` and ``unlockers`` for every page (the banner in base.html); asks the
    database only while the node is locked, and only for a signed-in person."""
    try:
        locked = not keystore.keystore().unlocked
    except (KeyError, RuntimeError):
        return {"node_locked": False, "unlockers": []}
    if not locked or not getattr(current_user, "is_authenticated", False):
        return {"node_locked": locked, "unlockers": []}
    return {"node_locked": True, "unlockers": unlockers()}
