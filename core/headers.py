"""Security headers on every response: pages, errors and static files alike."""

from __future__ import annotations

from flask import Flask, Response, g, request

# Pages anyone may read that are the same for everyone who asks the same address (a hub's
# public statistics): they get no session and no cookie (core.sessions), and may be cached.
PUBLIC_PAGES = "/public/"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "base-uri 'none'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)


def cacheable(response: Response, max_age: int) -> Response:
    """Let shared caches keep ``response`` for ``max_age`` seconds. Only for a page under
    ``PUBLIC_PAGES``: no session is opened there, so nothing on it varies with who asks."""
    if not request.path.startswith(PUBLIC_PAGES):
        raise ValueError("only a public page may be cached")
    g.rabita_cacheable = f"public, max-age={max_age}"
    return response


def add_security_headers(response: Response) -> Response:
    response.headers.update(HEADERS)
    response.headers.pop("Server", None)
    if request.endpoint == "static" or (request.endpoint or "").endswith(".static"):
        response.headers["Cache-Control"] = "public, max-age=3600"
    elif g.get("rabita_cacheable") and request.path.startswith(PUBLIC_PAGES):
        response.headers["Cache-Control"] = g.rabita_cacheable
    else:
        # Pages may show what only a signed-in user may see: never keep a copy anywhere.
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = "max-age=31536000"
    return response
