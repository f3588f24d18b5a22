"""Error pages: a short sentence in the user's language, never a trace or a stored value."""

from __future__ import annotations

import traceback

from flask import Flask, current_app, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from core import kept as core_kept
from core.extensions import db
from core.keystore import IntegrityError, NodeLocked

MESSAGES = {
    400: _l("The request could not be understood. Go back and try again."),
    401: _l("Please sign in first."),
    403: _l("You do not have permission to see this page."),
    404: _l("There is no page here."),
    405: _l("This page cannot be used that way."),
    413: _l("What you sent is too large."),
    429: _l("Too many requests. Wait a minute and try again."),
    500: _l("Something went wrong on our side. Nothing was saved; try again."),
}


def init_app(app: Flask) -> None:
    app.register_error_handler(NodeLocked, _locked)
    app.register_error_handler(IntegrityError, _integrity)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _server_error)


def _locked(error):
    db.session.rollback()
    message = _l("The node is locked: identifying information cannot be shown or saved until "
                 "an administrator unlocks it.")
    return render_template("error.html", code=503, message=message, locked=True,
                           title=_l("The node is locked")), 503


def _integrity(error):
    db.session.rollback()
    current_app.logger.error("Integrity check failed on a sealed value")
    message = _l("Stored identifying information failed its integrity check: it was altered. "
                 "Nothing was shown. Tell your administrator.")
    return render_template("error.html", code=500, message=message), 500


def _csrf_error(error: CSRFError):
    kept = core_kept.interrupted()  # what she typed, kept for her after signing in again
    if kept is not None:
        return kept
    message = _l(
        "This form has expired or did not come from this site. Reload the page and try again."
    )
    return render_template("error.html", code=400, message=message), 400


def _http_error(error: HTTPException):
    code = error.code or 500
    if code < 400:
        return error
    if code == 401 and (kept := core_kept.interrupted()) is not None:
        return kept
    message = MESSAGES.get(code, MESSAGES[400] if code < 500 else MESSAGES[500])
    return render_template("error.html", code=code, message=message), code


def _server_error(error: Exception):
    db.session.rollback()
    # The type and where it happened, never the message: messages can carry stored values.
    frames = traceback.extract_tb(error.__traceback__)
    where = " < ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in reversed(frames[-5:]))
    current_app.logger.error("Unhandled %s at %s", type(error).__name__, where)
    return render_template("error.html", code=500, message=MESSAGES[500]), 500
