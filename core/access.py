"""Deny by default: who may reach each endpoint, decided in this one visible place.

Every endpoint needs a fully signed-in user (password, and a second factor where her role
needs one) unless its view is marked here. ``tests/core/test_access.py`` freezes the list
of marked endpoints, so opening one up is always a visible, reviewed change. A view that
needs a permission besides says so with ``require_permission``; a refusal (``deny``) is
written to the audit log.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable

from flask import Flask, abort, current_app, redirect, request, session, url_for
from flask_login import current_user

from core import audit, read_only
from core.extensions import csrf, db

ACCESS_ATTRIBUTE = "rabita_access"
PERMISSION_ATTRIBUTE = "rabita_permission"  # on require_permission's check: what it requires
PUBLIC = "public"
SIGNING_IN = "signing-in"  # between the password and the second factor
SIGNED_IN = "signed-in"  # the default for every unmarked view
FEDERATION_SIGNED = "federation-signed"  # no session: every request carries a node's signature


def public(view: Callable) -> Callable:
    """Mark a view as reachable without signing in (login page, invitations, static files)."""
    setattr(view, ACCESS_ATTRIBUTE, PUBLIC)
    return view


def federation_signed(view: Callable) -> Callable:
    """Mark a view that other nodes call; the view itself must verify their signature.

    Such views get no session and no CSRF token (other nodes have neither): the HTTP
    message signature is what authenticates and protects them.
    """
    setattr(view, ACCESS_ATTRIBUTE, FEDERATION_SIGNED)
    return view


def signing_in(view: Callable) -> Callable:
    """Mark a view as reachable after the password step, before the second factor."""
    setattr(view, ACCESS_ATTRIBUTE, SIGNING_IN)
    return view


def access_of(app: Flask, endpoint: str) -> str:
    return getattr(app.view_functions[endpoint], ACCESS_ATTRIBUTE, SIGNED_IN)


def mark_static_public(app: Flask) -> None:
    """Static files (the app's and each blueprint's) are public: CSS and images only."""
    for endpoint, view in list(app.view_functions.items()):
        if endpoint == "static" or endpoint.endswith(".static"):
            if inspect.ismethod(view):  # a blueprint's static view is a bound method
                view = app.view_functions[endpoint] = _as_function(view)
            setattr(view, ACCESS_ATTRIBUTE, PUBLIC)


def _as_function(method: Callable) -> Callable:
    @functools.wraps(method)
    def view(*args, **kwargs):
        return method(*args, **kwargs)

    return view


def init_app(app: Flask) -> None:
    app.before_request(_enforce)


def exempt_signed_views_from_csrf(app: Flask) -> None:
    for view in app.view_functions.values():
        if getattr(view, ACCESS_ATTRIBUTE, None) == FEDERATION_SIGNED:
            csrf.exempt(view)


def _enforce():
    endpoint = request.endpoint
    if endpoint is None:  # no route matched: the 404/405 handler answers
        return None
    access = access_of(current_app, endpoint)
    if access in (PUBLIC, FEDERATION_SIGNED):
        return None
    if access == SIGNING_IN:
        if current_user.is_authenticated or session.get("pending_user"):
            return None
        return _to_login()
    if not current_user.is_authenticated:
        return _to_login()
    if current_user.must_enrol_second_factor():
        return redirect(url_for("auth.enrol_second_factor"))
    return None


def _to_login():
    if request.method == "GET":
        return redirect(url_for("auth.login"))
    abort(401)


def require_permission(name: str) -> Callable:
    """Refuse the view with 403 (and an audit entry) unless the user's role holds ``name``."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.can(name):
                deny(name)
            return view(*args, **kwargs)

        setattr(wrapped, PERMISSION_ATTRIBUTE, name)
        return wrapped

    return decorator


def checked_first(view: Callable) -> str | None:
    """The permission ``view`` checks before it does anything else — it is
    ``require_permission``'s check itself, not a decorator around it — or None."""
    if view.__code__ is not _PERMISSION_CHECK:
        return None
    return getattr(view, PERMISSION_ATTRIBUTE, None)


def deny(permission_name: str) -> None:
    """Write the denial to the audit log, commit it, and answer 403 (on a page that only
    reads too: its read-only connection is rolled back and released first)."""
    read_only.stop_reading()
    db.session.rollback()
    audit.record("access.denied", actor=current_user, permission=permission_name)
    db.session.commit()
    abort(403)


_PERMISSION_CHECK = require_permission("")(lambda: None).__code__  # every check's own code
