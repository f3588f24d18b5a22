"""The pages: the public node document, and the administrators' peers pages."""

import re

import pytest

from core.testing import LiveServer
from federation import identity, peers, signing


@pytest.fixture
def app(federation_app):
    """This node, with federation on (core's user and sign-in fixtures use it)."""
    return federation_app(FEDERATION_URL="https://tunis.example.org")


@pytest.fixture
def admin(app, make_user, login_as):
    return login_as(make_user("nour", role="admin"))


def test_the_node_document_is_public_and_signed(app, client):
    response = client.get("/.well-known/rabita")
    assert response.status_code == 200
    document = identity.read_node_document(response.get_json())
    assert document.node_id == app.config["NODE_ID"]
    assert response.headers["Cache-Control"] == "no-store"


def test_a_node_without_a_key_has_no_document(make_app):
    assert make_app(PLUGINS=["federation"]).test_client().get("/.well-known/rabita"
                                                             ).status_code == 404


def test_the_peers_page_shows_the_fingerprint_and_its_qr_code(app, admin):
    page = admin.get("/federation/peers").get_data(as_text=True)
    with app.app_context():
        fingerprint = identity.fingerprint(signing.identity().genesis.public_key)
    assert fingerprint in page and "<svg" in page and "https://tunis.example.org" in page
    assert "<script" not in page and "style=" not in page


def test_the_peers_page_is_for_administrators(app, make_user, login_as):
    member = login_as(make_user("amina", role="member"))
    assert member.get("/federation/peers").status_code == 403
    assert "Partner nodes" not in member.get("/").get_data(as_text=True)


def test_the_peers_page_speaks_arabic(app, make_user, login_as):
    page = login_as(make_user("nour", role="admin", locale="ar")).get(
        "/federation/peers").get_data(as_text=True)
    assert 'dir="rtl"' in page and "العقد الشريكة" in page and "هذه العقدة" in page


def test_adding_a_node_with_a_wrong_fingerprint_changes_nothing(app, admin, make_node):
    other = make_node("sfax")
    wrong = other.fingerprint[:-1] + ("1" if other.fingerprint[-1] != "1" else "2")
    response = admin.submit("/federation/peers/add", {
        "url": other.url, "fingerprint": wrong, "label": "Sfax"})
    assert "does not match" in response.get_data(as_text=True)
    with app.app_context():
        assert peers.everyone() == []
    with other.context():
        assert peers.everyone() == []


def test_adding_a_node_asks_it_to_pair_and_it_approves_with_our_fingerprint(
        app, admin, make_node):
    other = make_node("sfax")
    response = admin.submit("/federation/peers/add", {
        "url": other.url, "fingerprint": other.fingerprint, "label": "Sfax"})
    assert response.status_code == 302
    with app.app_context():
        (peer,) = peers.everyone()
        assert (peer.label, peer.state, peer.node_id) == ("Sfax", "approved", other.node_id)
        ours = identity.fingerprint(signing.identity().genesis.public_key)
    with other.context():
        (waiting,) = peers.everyone()
        assert waiting.state == "requested" and waiting.node_id == app.config["NODE_ID"]
        peers.approve(waiting, ours, None)
        assert peers.find(app.config["NODE_ID"]).approved


def test_approving_a_request_needs_the_fingerprint(app, admin, make_node):
    other = make_node("sfax")
    with app.app_context():
        ours = identity.fingerprint(signing.identity().genesis.public_key)
    with LiveServer(app) as server, other.context():
        peers.add(server.url, ours, "Tunis", None)  # the other node adds us and asks us
    with app.app_context():
        peer_id = peers.find(other.node_id).id
    page = admin.get("/federation/peers").get_data(as_text=True)
    assert "Waiting for your approval" in page and other.node_id in page
    wrong = admin.submit(f"/federation/peers/{peer_id}/approve", {"fingerprint": "12345"},
                         page="/federation/peers")
    assert wrong.status_code == 302
    with app.app_context():
        assert not peers.find(other.node_id).approved
    admin.submit(f"/federation/peers/{peer_id}/approve",
                 {"fingerprint": other.fingerprint, "label": "Sfax"}, page="/federation/peers")
    with app.app_context():
        assert peers.find(other.node_id).approved and peers.find("Sfax") is not None


def test_removing_a_peer(app, admin, make_node):
    other = make_node("sfax")
    with app.app_context():
        peer = peers.add(other.url, other.fingerprint, "Sfax", None, send_request=False)
        peer_id = peer.id
    admin.submit(f"/federation/peers/{peer_id}/remove", {}, page="/federation/peers")
    with app.app_context():
        assert peers.find("Sfax").state == "removed"
    page = admin.get("/federation/peers").get_data(as_text=True)
    assert re.search(r"Removed nodes", page)


def test_federations_stylesheet_needs_no_sign_in(client):
    with client.get("/federation/static/federation.css") as response:
        assert response.status_code == 200 and b".fingerprint" in response.data


def test_waiting_requests_are_shown_oldest_first_and_refused_all_at_once(app, admin,
                                                                        fake_clock):
    from datetime import timedelta

    from sqlalchemy import select

    from core.extensions import db
    from core.models import AuditEntry
    from tests.federation.test_peers import stranger_document

    asked = []
    with app.app_context():
        for seed in (7, 3, 5):
            document, node_id, _key = stranger_document(seed)
            peers.receive_request(identity.read_node_document(document), client=f"c{seed}")
            asked.append(node_id)
            fake_clock.advance(minutes=2)
        db.session.commit()
    page = admin.get("/federation/peers").get_data(as_text=True)
    assert [page.index(node_id) for node_id in asked] == sorted(
        page.index(node_id) for node_id in asked)
    assert "3 requests waiting." in page
    first_expiry = (fake_clock() - timedelta(minutes=6) + timedelta(days=7)).strftime(
        "%Y-%m-%d %H:%M")
    assert f"expires on {first_expiry} UTC" in page
    # Without its form token the action is refused, and changes nothing.
    assert admin.post("/federation/peers/refuse-all").status_code == 400
    with app.app_context():
        assert len(peers.waiting()) == 3
    response = admin.submit("/federation/peers/refuse-all", page="/federation/peers",
                            follow_redirects=True)
    assert "3 pairing requests refused and forgotten." in response.get_data(as_text=True)
    with app.app_context():
        assert peers.waiting() == [] and peers.everyone() == []
        entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
        assert entry.action == "federation.pair_requests_refused" and entry.actor_id is not None
    assert "Waiting for your approval" not in admin.get("/federation/peers").get_data(
        as_text=True)


def test_only_administrators_refuse_requests(app, make_user, login_as):
    from core.extensions import db
    from tests.federation.test_peers import stranger_document

    with app.app_context():
        peers.receive_request(identity.read_node_document(stranger_document(1)[0]))
        db.session.commit()
    documenter = login_as(make_user("salma", role="documenter"))
    assert documenter.submit("/federation/peers/refuse-all", page="/").status_code == 403
    with app.app_context():
        assert len(peers.waiting()) == 1


# -- refusals on protocol paths: the JSON shape, and nothing written (issue 19, Found 7) ---


def rows_written(app):
    """Every row of the node's database, as a comparable value (sessions included)."""
    import sqlalchemy as sa

    from core.extensions import db

    with app.app_context():
        metadata = sa.MetaData()
        metadata.reflect(db.engine)
        with db.engine.connect() as connection:
            return {name: sorted(map(repr, connection.execute(sa.select(table)).all()))
                    for name, table in metadata.tables.items()}


UNROUTED = [
    ("GET", "/federation/outbox/", 404, "not-found"),
    ("POST", "/federation/receipts/", 404, "not-found"),
    ("GET", "/.well-known/rabita/", 404, "not-found"),
    ("GET", "/federation/inbox/anything", 404, "not-found"),
    ("PUT", "/federation/outbox", 405, "method-not-allowed"),
    ("DELETE", "/federation/receipts", 405, "method-not-allowed"),
    ("PATCH", "/federation/pair", 405, "method-not-allowed"),
    ("PUT", "/.well-known/rabita", 405, "method-not-allowed"),
    ("POST", "/.well-known/rabita", 405, "method-not-allowed"),
]


@pytest.mark.parametrize(("method", "path", "status", "code"), UNROUTED)
def test_a_request_no_protocol_route_takes_gets_the_json_refusal_and_writes_nothing(
        app, method, path, status, code):
    """At 8a0d646 these got an HTML page, and each anonymous 404/405 wrote a session row."""
    from federation.reasons import reason

    client = app.test_client()
    before = rows_written(app)
    response = client.open(path, method=method, data=b'{"type":"x"}',
                           headers={"Content-Type": "application/json"})
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert response.get_json() == {"error": code, "message": reason(code).message}
    assert "Set-Cookie" not in response.headers
    assert rows_written(app) == before


def test_the_administrators_pages_keep_their_html_pages(app, client):
    response = client.get("/federation/peers/")
    assert response.status_code == 404 and response.mimetype == "text/html"


def test_refusals_over_http_are_json_and_set_no_cookie(app):
    """The same over a real server, with a 20 KB header field the application sees."""
    import http.client
    import json

    with LiveServer(app) as server:
        before = rows_written(app)
        for method, path, status, code in UNROUTED[:5]:
            connection = http.client.HTTPConnection(server.url.removeprefix("http://"),
                                                    timeout=10)
            connection.request(method, path, headers={"X-Big": "a" * 20_000})
            answer = connection.getresponse()
            body = answer.read()
            connection.close()
            assert answer.status == status and json.loads(body)["error"] == code
            assert answer.getheader("Set-Cookie") is None
        assert rows_written(app) == before
