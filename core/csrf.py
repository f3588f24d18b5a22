"""Cross-site request forgery: a token on every form, and the browser's own word on origin."""

from __future__ import annotations

from flask import Flask, abort, request

from core.extensions import csrf

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Browsers send Sec-Fetch-Site on every request, whatever the referrer policy.
SAME_SITE_VALUES = frozenset({"same-origin", "none"})


def init_app(app: Flask) -> None:
    # Our pages send no Referer (Referrer-Policy: no-referrer), so Flask-WTF's HTTPS
    # referrer check would refuse every form; Sec-Fetch-Site replaces it.
    app.config["WTF_CSRF_SSL_STRICT"] = False
    csrf.init_app(app)
    app.before_request(refuse_cross_site_writes)


def refuse_cross_site_writes():
    if request.method in SAFE_METHODS:
        return None
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site not in SAME_SITE_VALUES:
        abort(403)
    return None
