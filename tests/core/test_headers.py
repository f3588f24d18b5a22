"""Security headers on every response: pages, 404, 500, static files."""

import pytest

from core.access import public
from core.headers import HEADERS

CSP_PARTS = ["default-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"]


@pytest.fixture
def failing_app(make_app):
    app = make_app()

    @public
    def boom():
        raise RuntimeError("salma's address is 12 rue x")  # must not reach the page

    app.add_url_rule("/boom", "boom", boom)
    return app


def assert_secure(response, cacheable=False):
    csp = response.headers["Content-Security-Policy"]
    for part in CSP_PARTS:
        assert part in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "Server" not in response.headers
    if cacheable:
        assert "no-store" not in response.headers["Cache-Control"]
    else:
        assert response.headers["Cache-Control"] == "no-store"
    for name, value in HEADERS.items():
        assert response.headers[name] == value


def test_headers_on_a_page(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert_secure(response)


def test_headers_on_a_signed_in_page(make_user, login_as):
    response = login_as(make_user("amina")).get("/")
    assert response.status_code == 200
    assert_secure(response)


def test_headers_on_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert_secure(response)
    assert "There is no page here." in response.get_data(as_text=True)


def test_headers_on_500_and_nothing_leaks(failing_app, caplog):
    response = failing_app.test_client().get("/boom")
    assert response.status_code == 500
    assert_secure(response)
    body = response.get_data(as_text=True)
    assert "Something went wrong" in body and "rue x" not in body
    assert "RuntimeError" in caplog.text and "rue x" not in caplog.text


def test_headers_on_static_files(client):
    with client.get("/static/rabita.css") as response:
        assert response.status_code == 200
        assert_secure(response, cacheable=True)


def test_headers_on_405_and_csrf_errors(client):
    assert_secure(client.put("/login"))
    assert_secure(client.post("/login", data={}))


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    assert "Strict-Transport-Security" in client.get("/login", base_url="https://localhost").headers
