"""The only HTTP client: retries with backoff and jitter, bounded answers, Tor's SOCKS proxy."""

import select
import socket
import struct
import threading

import pytest
import sqlalchemy as sa

from core.extensions import db
from federation import client
from federation.models import Peer
from federation.reasons import Refused
from tests.federation.conftest import FakePeer, Origin


@pytest.fixture
def waits(monkeypatch):
    """The backoff's waits, recorded instead of slept."""
    waited = []
    monkeypatch.setattr(client, "sleep", waited.append)
    return waited


@pytest.fixture
def fake(federation_app):
    app = federation_app()
    origin = Origin(seed=31)
    origin.pin(app)
    peer = FakePeer(origin)
    yield app, origin, peer
    peer.close()


def remote(app, origin, url):
    peer = db.session.scalar(sa.select(Peer).where(Peer.node_id == origin.node_id))
    return client.PeerClient(url, peer=peer, app=app)


def page_after(after):
    return b'{"type":"rabita.page/1","feed":"peers","after":0,"head":0,"items":[]}'


def test_transient_failures_are_retried_with_growing_jittered_waits(fake, waits):
    app, origin, peer = fake
    answers = iter([{"status": 503, "signed": False}, {"status": 503, "signed": False}, {}])
    peer.page = lambda after: (page_after(after), next(answers))
    with app.app_context():
        body = remote(app, origin, peer.url).get("/federation/outbox", feed="peers", after=0)
    assert b"rabita.page/1" in body and peer.requests == 3
    assert len(waits) == 2
    assert 0 <= waits[0] <= client.BACKOFF_BASE and 0 <= waits[1] <= 2 * client.BACKOFF_BASE


def test_after_the_last_attempt_the_failure_is_reported(fake, waits):
    app, origin, peer = fake
    peer.page = lambda after: (b"", {"status": 503, "signed": False})
    with app.app_context(), pytest.raises(Refused) as refused:
        remote(app, origin, peer.url).get("/federation/outbox")
    assert refused.value.code == "server-error" and peer.requests == client.ATTEMPTS
    assert len(waits) == client.ATTEMPTS - 1


def test_refusals_are_not_retried(fake, waits):
    app, origin, peer = fake
    peer.page = lambda after: (b'{"error":"feed-not-allowed","message":"x"}', {"status": 403})
    with app.app_context(), pytest.raises(client.RemoteRefused) as refused:
        remote(app, origin, peer.url).get("/federation/outbox")
    assert refused.value.code == "feed-not-allowed" and peer.requests == 1 and waits == []


def test_an_unreachable_peer(federation_app, waits):
    app = federation_app()
    origin = Origin(seed=32)
    origin.pin(app)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    with app.app_context(), pytest.raises(Refused) as refused:
        remote(app, origin, closed).get("/federation/outbox")
    assert refused.value.code == "unreachable" and len(waits) == client.ATTEMPTS - 1


def test_answers_are_read_up_to_a_bound(fake, waits, monkeypatch):
    app, origin, peer = fake
    monkeypatch.setattr(client, "MAX_RESPONSE", 1000)
    peer.page = lambda after: (b"[" + b" " * 5000 + b"]", {})
    with app.app_context(), pytest.raises(Refused) as refused:
        remote(app, origin, peer.url).get("/federation/outbox")
    assert refused.value.code == "too-large"


def test_proxies_from_the_environment_are_never_used(federation_app, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("ALL_PROXY", "socks5://127.0.0.1:9")
    app = federation_app()
    made = client.session(app)
    assert made.trust_env is False and made.proxies == {}


# -- through Tor: a SOCKS5 proxy -----------------------------------------------------------


class Socks5:
    """A minimal SOCKS5 proxy on 127.0.0.1 (no authentication, CONNECT only) that counts the
    connections it relays and the host names it was asked to resolve."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections, self.names = 0, []
        self.running = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while self.running:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        with conn:
            version, methods = conn.recv(2)
            conn.recv(methods)
            conn.sendall(b"\x05\x00")
            _, command, _, kind = conn.recv(4)
            if kind == 3:  # a name: socks5h lets the proxy resolve it (as Tor must)
                name = conn.recv(conn.recv(1)[0]).decode()
                self.names.append(name)
                host = "127.0.0.1" if name in ("127.0.0.1", "localhost") else name
            else:
                host = socket.inet_ntoa(conn.recv(4))
            port = struct.unpack("!H", conn.recv(2))[0]
            assert version == 5 and command == 1
            with socket.create_connection((host, port)) as upstream:
                self.connections += 1
                conn.sendall(b"\x05\x00\x00\x01" + socket.inet_aton("127.0.0.1") +
                             struct.pack("!H", port))
                self._relay(conn, upstream)

    @staticmethod
    def _relay(a, b):
        while True:
            ready, _, _ = select.select([a, b], [], [], 5)
            if not ready:
                return
            for source in ready:
                data = source.recv(65536)
                if not data:
                    return
                (b if source is a else a).sendall(data)

    def close(self):
        self.running = False
        self.listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
        self.listener.close()


def test_federation_traffic_goes_through_the_socks_proxy(two_nodes, people, waits):
    from tests.federation.conftest import share_testimony

    tunis, sfax = two_nodes
    salma, huda = people(tunis)
    share_testimony(tunis, salma, huda)
    proxy = Socks5()
    with sfax.context():  # a name, as an onion address is: the proxy must resolve it
        from federation import peers

        peers.find("tunis").url = tunis.url.replace("127.0.0.1", "localhost")
        db.session.commit()
    try:
        sfax.app.config["FEDERATION_PROXY"] = f"socks5h://127.0.0.1:{proxy.port}"
        assert sfax.sync() == {"tunis": None}
        assert proxy.connections >= 1 and "localhost" in proxy.names
    finally:
        proxy.close()
    # With the proxy gone, nothing is sent around it.
    sfax.app.config["FEDERATION_TIMEOUT"] = (2, 2)
    assert sfax.sync() == {"tunis": "unreachable"}


# -- a request asked ahead (a pull asks for the next page while it writes one) ---------------


def test_an_answer_asked_ahead_is_taken_verified(fake, waits):
    app, origin, peer = fake
    peer.page = lambda after: (page_after(after), {})
    with app.app_context():
        asked = remote(app, origin, peer.url).ask("/federation/outbox", feed="peers", after=0)
        assert b"rabita.page/1" in asked.body()
    assert peer.requests == 1 and waits == []


@pytest.mark.parametrize("options, code", [
    ({"signed": False}, "unsigned"),
    ({"key": Origin(seed=99).key}, "signature-invalid"),
])
def test_a_forged_answer_asked_ahead_is_refused_when_it_is_taken(fake, waits, options, code):
    app, origin, peer = fake
    peer.page = lambda after: (page_after(after), options)
    with app.app_context():
        asked = remote(app, origin, peer.url).ask("/federation/outbox", feed="peers", after=0)
        asked._exchange.result()  # read already: nothing of it was checked or taken yet
        with pytest.raises(Refused) as refused:
            asked.body()
    assert refused.value.code == code and peer.requests == 1  # a refusal is not asked again


@pytest.mark.parametrize("first", ["server-error", "expired"])
def test_a_failure_or_an_expiry_while_asked_ahead_is_asked_again_when_taken(fake, waits,
                                                                           first):
    from datetime import timedelta

    from federation import transport

    app, origin, peer = fake
    stale = timedelta(seconds=-(transport.MAX_LIFETIME + transport.CLOCK_SKEW + 5))
    options = {"server-error": {"status": 503, "signed": False}, "expired": {"shift": stale}}
    answers = iter([options[first], {}])
    peer.page = lambda after: (page_after(after), next(answers))
    with app.app_context():
        asked = remote(app, origin, peer.url).ask("/federation/outbox", feed="peers", after=0)
        assert b"rabita.page/1" in asked.body()
    assert peer.requests == 2


def test_a_client_asks_one_thing_at_a_time(fake, waits):
    import time

    app, origin, peer = fake
    busy, most = [0], [0]
    lock = threading.Lock()

    def slow_page(after):
        with lock:
            busy[0] += 1
            most[0] = max(most[0], busy[0])
        time.sleep(0.3)
        with lock:
            busy[0] -= 1
        return page_after(after), {}

    peer.page = slow_page
    with app.app_context():
        peer_client = remote(app, origin, peer.url)
        ahead = peer_client.ask("/federation/outbox", feed="peers", after=0)
        body = peer_client.get("/federation/outbox", feed="peers", after=0)  # waits for it
        assert b"rabita.page/1" in body and b"rabita.page/1" in ahead.body()
    assert most[0] == 1 and peer.requests == 2
