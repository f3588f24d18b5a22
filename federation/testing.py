"""Test factories for federation, shipped so plugin authors test the same way.

Nodes are real: each has its own instance folder, keys and database (an SQLite file, or a
PostgreSQL schema of its own) and, when served, its own process answering HTTP on
127.0.0.1. The test process also opens each node's app, to act as its people would::

    def test_a_record_reaches_the_hub(three_nodes):
        a, b, hub = three_nodes
        ...
        a.sync(); hub.sync(); b.sync()

A pytest plugin that a test suite asks for, like core.testing (``pytest_plugins``). Anything
that skips a protection for speed is named ``insecure_*``.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, insert, select, text, update
from werkzeug.serving import make_server

from core import clock, keystore, users
from core.app import create_app
from core.extensions import db
from core.models import User
from core.testing import TEST_PASSPHRASE, TEST_PASSWORD, RabitaClient, add_person, missing
from federation import identity, inbox, peers, protocol, push, signing, sync
from federation.models import OutboxEntry, OutboxHead

ROOT = Path(__file__).resolve().parent.parent
SERVE_TIMEOUT = 30
UNREVIEWED = "0" * 64  # the policy hash of entries made without redaction or review


class Port:
    """A port on 127.0.0.1 that a node keeps for its whole life, so that nothing else can take
    it between two starts of its server: a socket bound to it, never listening, holds it;
    each start gets a listening socket of its own on the same port (``SO_REUSEPORT``), handed
    to the server process already bound. A stopped node's port refuses connections, as a
    node that is down does."""

    def __init__(self):
        self._held = self._socket()
        self._held.bind(("127.0.0.1", 0))
        self.number = self._held.getsockname()[1]

    @staticmethod
    def _socket() -> socket.socket:
        made = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        made.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        return made

    def listening(self) -> socket.socket:
        """A socket listening on the port: connections wait in it until a server accepts."""
        listener = self._socket()
        listener.bind(("127.0.0.1", self.number))
        listener.listen(128)
        return listener

    def close(self) -> None:
        self._held.close()


class Node:
    """A test node: its folder, database, app (in this process) and server (a process)."""

    def __init__(self, name: str, folder: Path, database_url: str, role: str,
                 plugins: list[str], share_dir: Path, request_log: Path | None = None):
        self.name, self.folder, self.role = name, folder, role
        self._port = Port()
        self.port = self._port.number
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.request_log = request_log
        try:
            self._write_config(database_url, plugins, share_dir)
            self.app = self._create()
        except BaseException:
            self._port.close()  # a node that cannot be made keeps no port
            raise

    # -- the instance ---------------------------------------------------------------------

    def _write_config(self, database_url: str, plugins: list[str], share_dir: Path) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        passphrase = self.folder / "passphrase.txt"
        passphrase.write_text(TEST_PASSPHRASE + "\n")
        (self.folder / "config.py").write_text(
            f"NODE_NAME = {self.name!r}\n"
            f"SECRET_KEY = {secrets.token_urlsafe(48)!r}\n"
            f"PLUGINS = {plugins!r}\n"
            f"SQLALCHEMY_DATABASE_URI = {database_url!r}\n"
            f"KEY_SHARE_DIR = {str(share_dir)!r}\n"
            f"PASSPHRASE_FILE = {str(passphrase)!r}\n"
            f"FEDERATION_ROLE = {self.role!r}\n"
            f"FEDERATION_URL = {self.url!r}\n"
            "FEDERATION_TIMEOUT = (5, 30)\n"
            # insecure, as insecure_fast_kdf is in-process: a test's people sign in to a node
            # within seconds of each other, which one sign-in per 5 s would refuse
            "SIGNIN_HASH_BURST = 1_000_000\n"
        )

    def _create(self):
        keystore.create_keyring(self.folder / keystore.KEYRING_FILE, TEST_PASSPHRASE)
        app = create_app({"INSTANCE_PATH": str(self.folder)})
        app.test_client_class = RabitaClient
        with app.app_context():
            db.create_all()
            app.config["NODE_ID"] = signing.create_identity(app).node_id
        return app

    @property
    def node_id(self) -> str:
        return self.app.config["NODE_ID"]

    @property
    def fingerprint(self) -> str:
        return identity.fingerprint(signing.identity(self.app).genesis.public_key)

    @contextlib.contextmanager
    def context(self) -> Iterator:
        """The node's app context, for acting as its people (a request context: templates
        and redaction read the request's language)."""
        with self.app.test_request_context():
            yield self.app

    def make_user(self, username: str, role: str = "member"):
        with self.context():
            user = users.create(username, TEST_PASSWORD, role)
            db.session.commit()
            return user.id

    def make_person(self, username: str, role: str = "member"):
        """A user of this node as a browser test signs her in (``core.testing.TestUser``)."""
        with self.context():
            return add_person(username, role)

    def user(self, user_id: int):
        return db.session.get(User, user_id)

    # -- the server -------------------------------------------------------------------------

    def start(self, wait: bool = True) -> Node:
        if self.process is not None:
            return self.wait() if wait else self
        environment = dict(os.environ, RABITA_INSTANCE_PATH=str(self.folder))
        if self.request_log is not None:
            environment["RABITA_TEST_REQUEST_LOG"] = str(self.request_log)
        self._log = (self.folder / "server.log").open("ab")  # a pipe would fill and block
        with self._port.listening() as listener:  # bound before the server exists: no race
            self.process = subprocess.Popen(
                [sys.executable, "-m", "federation.testing", "serve", str(listener.fileno())],
                cwd=ROOT, env=environment, stdout=subprocess.DEVNULL,
                stderr=self._log, pass_fds=(listener.fileno(),),
            )
        return self.wait() if wait else self

    def wait(self) -> Node:
        """Until the server answers a request: it waited in the listening socket since the
        server was started (or the server ended, and the connection with it)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=SERVE_TIMEOUT)
        try:
            connection.request("GET", "/.well-known/rabita")
            connection.getresponse().read()
        except OSError as error:
            log = (self.folder / "server.log").read_text(errors="replace")
            raise RuntimeError(f"{self.name} did not start ({error}): {log[-2000:]}") from None
        finally:
            connection.close()
        return self

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None
        self._log.close()

    # -- acting -------------------------------------------------------------------------------

    def sync(self, peer: Node | None = None):
        """One sync round (in this process), as `rabita sync` runs it."""
        with self.context():
            only = peers.find(peer.node_id) if peer is not None else None
            outcomes = sync.sync(only)
            return {o.peer.label or o.peer.node_id: o.error for o in outcomes}

    def cli(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        """Run the real `rabita` command line against this node."""
        return subprocess.run(
            [sys.executable, "-m", "core.cli", "--instance", str(self.folder), *args],
            cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False,
            env=dict(os.environ, RABITA_INSTANCE_PATH=str(self.folder)),
        )

    def close(self) -> None:
        self.stop()
        self._port.close()
        with self.app.app_context():
            keystore.keystore(self.app).lock()
            db.session.remove()
            db.engine.dispose()


def pair(first: Node, second: Node) -> None:
    """Pair two nodes as their administrators would: each reads the other her fingerprint;
    the first adds the second, the second approves the first."""
    with first.context():
        peers.add(second.url, second.fingerprint, second.name, None)
    with second.context():
        peers.approve(peers.find(first.node_id), first.fingerprint, None)
        peer = peers.find(first.node_id)
        peer.label = first.name
        db.session.commit()


# -- load ----------------------------------------------------------------------------------


def insecure_fill_outbox(node: Node, count: int, *, feed: str = "peers",
                         payload_bytes: int = 2000, batch: int = 1000) -> list[str]:
    """Append ``count`` signed record entries with made-up payloads straight to the outbox,
    skipping consent and review (for load and crash tests only). Returns the record ids."""
    with node.context():
        return insecure_fill(count, feed=feed, payload_bytes=payload_bytes, batch=batch)


def insecure_fill(count: int, *, feed: str = "peers", payload_bytes: int = 2000,
                  batch: int = 1000, purposes: tuple[str, ...] = ("advocacy",),
                  payload_of: Callable[[int], dict] | None = None) -> list[str]:
    """``insecure_fill_outbox`` in the current app: the same entries ``outbox.append`` makes,
    chained and signed, written many at a time; consented for ``purposes``, each payload made
    by ``payload_of(number)`` if given (a case's shape, for a hub's statistics)."""
    own = signing.identity()
    head = db.session.scalar(select(OutboxHead).where(OutboxHead.feed == feed))
    seq, prev = head.seq, head.hash
    moment = max(clock.now().replace(microsecond=0), head.at or clock.now())
    at = protocol.at_text(moment)
    ids, rows = [], []
    for number in range(count):
        record_id = str(uuid.uuid4())
        payload = protocol.canonical(payload_of(number) if payload_of else {
            "title": f"Record {number}", "tags": ["summons", "travel-ban"],
            "narrative": ("Fictional narrative for load tests. " * 80)[:payload_bytes],
        })
        seq += 1
        body = protocol.entry_body(
            origin=own.node_id, feed=feed, seq=seq, prev=prev, at=at, key=own.current,
            kind=protocol.RECORD, record_type="testimony.testimony", record_id=record_id,
            version=1, payload_hash=protocol.sha256_hex(payload), relay=False,
            consent={"audiences": [feed], "purposes": sorted(purposes), "expires": None})
        text = protocol.canonical(body)
        prev = protocol.sha256_hex(text)
        rows.append({"feed": feed, "seq": seq, "entry_hash": prev, "kind": protocol.RECORD,
                     "record_type": "testimony.testimony", "record_id": record_id,
                     "version": 1, "at": moment, "entry": text.decode(),
                     "sig": protocol.b64(signing.sign(text)), "payload": payload.decode(),
                     "payload_hash": body["payload_hash"], "policy_hash": UNREVIEWED})
        ids.append(record_id)
        if len(rows) == batch or number == count - 1:
            db.session.execute(insert(OutboxEntry), rows)
            db.session.execute(update(OutboxHead).where(OutboxHead.feed == feed)
                               .values(seq=seq, hash=prev, at=moment))
            db.session.commit()
            rows = []
    return ids


# -- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def federation_plugins() -> list[str]:
    """The plugins test nodes run (override it to add your record types)."""
    return ["federation"]


@pytest.fixture
def make_node(tmp_path, insecure_fast_kdf, postgres_server_url,
              federation_plugins) -> Iterator[Callable[..., Node]]:
    """Make a node: ``make_node("sfax", role="hub", database="postgresql", serve=True)``."""
    made: list[Node] = []
    schemas: list[str] = []
    share_dir = tmp_path / "shm"
    share_dir.mkdir(exist_ok=True)

    def factory(name: str, *, role: str = "node", database: str = "sqlite",
                plugins: list[str] | None = None, serve: bool = True, wait: bool = True,
                request_log: Path | None = None) -> Node:
        if database == "sqlite":
            url = f"sqlite:///{tmp_path / name / 'rabita.db'}"
        else:
            if postgres_server_url is None:
                missing("PostgreSQL is not reachable; set RABITA_TEST_POSTGRES_URL")
            url = _postgres_schema(postgres_server_url, schemas)
        node = Node(name, tmp_path / name, url, role,
                    plugins or federation_plugins,
                    share_dir, request_log)
        made.append(node)
        if serve:
            node.start(wait=wait)
        return node

    yield factory
    for node in made:
        node.close()
    _drop_schemas(postgres_server_url, schemas)


def _postgres_schema(server_url: str, schemas: list[str]) -> str:
    schema = f"t_{uuid.uuid4().hex[:16]}"
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    schemas.append(schema)
    separator = "&" if "?" in server_url else "?"
    return f"{server_url}{separator}options=-csearch_path%3D{schema}"


def _drop_schemas(server_url: str | None, schemas: list[str]) -> None:
    if not schemas:
        return

    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        for schema in schemas:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture
def two_nodes(make_node) -> tuple[Node, Node]:
    """Two partner nodes, paired and serving."""
    first, second = make_node("tunis", wait=False), make_node("sfax", wait=False)
    first.wait(), second.wait()
    pair(first, second)
    return first, second


@pytest.fixture
def three_nodes(make_node) -> tuple[Node, Node, Node]:
    """Nodes A and B (SQLite) and a hub (PostgreSQL), each paired with the hub only."""
    a, b = make_node("tunis", wait=False), make_node("sfax", wait=False)
    hub = make_node("hub", role="hub", database="postgresql", wait=False)
    for node in (a, b, hub):
        node.wait()
    pair(a, hub)
    pair(b, hub)
    return a, b, hub


# -- the server process ----------------------------------------------------------------------


def serve(listener: int) -> None:
    """Serve the node of $RABITA_INSTANCE_PATH on the listening socket ``listener`` (a file
    descriptor this process was given) until it is stopped."""
    app = create_app()
    log = os.environ.get("RABITA_TEST_REQUEST_LOG")
    if log:
        wsgi = app.wsgi_app

        def logged(environ, start_response):
            # Test-only: which pages were asked for (feed, after, limit), to count re-fetches.
            if environ.get("PATH_INFO") == "/federation/outbox":
                with open(log, "a") as handle:
                    handle.write(json.dumps(environ.get("QUERY_STRING", "")) + "\n")
            return wsgi(environ, start_response)

        app.wsgi_app = logged
    make_server("127.0.0.1", 0, app, threaded=True, fd=listener).serve_forever()


# -- a sync killed at a named point (crash tests) ---------------------------------------------


KILL_POINTS = ("fetched", "applied", "committed")


def sync_killed_at(point: str, page: int, peer: str) -> None:
    """Sync the node of $RABITA_INSTANCE_PATH with ``peer`` as `rabita sync --peer` does, and
    SIGKILL this process at ``point`` of the ``page``-th page it pulls: ``fetched`` (the page
    read from the peer, nothing of it written), ``applied`` (its rows written, not
    committed) or ``committed`` (its transaction committed; the next page, if any, already
    asked for ahead: ``federation.sync``)."""
    reached = dict.fromkeys(KILL_POINTS, 0)

    def at(name: str) -> None:
        reached[name] += 1
        if name == point and reached[name] == page:
            os.kill(os.getpid(), signal.SIGKILL)

    def reaching(name: str, step: Callable) -> Callable:
        def step_then_maybe_killed(*args, **kwargs):
            result = step(*args, **kwargs)
            at(name)
            return result

        return step_then_maybe_killed

    # Test-only: these wrap the sync's own steps in this process alone, named as above.
    inbox.read_page = reaching("fetched", inbox.read_page)
    inbox.advance = reaching("applied", inbox.advance)  # after apply, before the commit
    with create_app().app_context():
        sync.sync(peers.find(peer), lambda *progress: at("committed"))


PUSH_KILL_POINTS = ("sent", "acked", "committed")


def push_killed_at(point: str, page: int, peer: str) -> None:
    """Sync the node of $RABITA_INSTANCE_PATH with ``peer``, to which it pushes, and SIGKILL
    this process at ``point`` of the ``page``-th page it pushes: ``sent`` (the page sent and
    answered, the acknowledgement not yet read), ``acked`` (the acknowledgement verified, the
    cursor not committed) or ``committed`` (the cursor committed, the next page not sent).
    Each page pushed is logged (its ``after``) to $RABITA_TEST_PUSH_LOG, to count re-sends."""
    reached = dict.fromkeys(PUSH_KILL_POINTS, 0)
    log = os.environ.get("RABITA_TEST_PUSH_LOG")

    def at(name: str) -> None:
        reached[name] += 1
        if name == point and reached[name] == page:
            os.kill(os.getpid(), signal.SIGKILL)

    read_answer = push.read_answer

    def answer_read(answer, to, feed, after, items, body):
        if items and log:
            with open(log, "a") as handle:
                handle.write(f"{after}\n")
        if items:
            at("sent")
        result = read_answer(answer, to, feed, after, items, body)
        if items:
            at("acked")
        return result

    # Test-only: wraps the push's own step in this process alone, named as above.
    push.read_answer = answer_read
    with create_app().app_context():
        sync.sync(peers.find(peer), lambda _peer, _feed, done, _to_go: at("committed"))


if __name__ == "__main__" and sys.argv[1:2] == ["serve"]:
    serve(int(sys.argv[2]))
if __name__ == "__main__" and sys.argv[1:2] == ["sync-killed-at"]:
    sync_killed_at(sys.argv[2], int(sys.argv[3]), sys.argv[4])
if __name__ == "__main__" and sys.argv[1:2] == ["push-killed-at"]:
    push_killed_at(sys.argv[2], int(sys.argv[3]), sys.argv[4])
