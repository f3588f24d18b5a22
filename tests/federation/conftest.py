"""Helpers for federation's tests: people on test nodes who write, consent and approve."""

from dataclasses import dataclass
from datetime import date

import pytest

from core.testing import signed_in_client


def share_testimony(node, author_id, reviewer_id, *, audiences=("peers",), approve=None,
                    **values):
    """Write a testimony on ``node``, record the defender's consent for ``audiences`` and have
    a reviewer who is not the author approve it for each (or for ``approve``)."""
    from core import consent, records, review
    from tests.fixtures.testimony.models import Testimony

    with node.context():
        author = node.user(author_id)
        record = records.new(Testimony, author)
        record.title = values.pop("title", "Summons after a radio interview")
        record.narrative = values.pop(
            "narrative", "Salma Ben Ali was summoned to the police station after the interview.")
        record.place = values.pop("place", "TN-61:sakiet-ezzit")
        record.happened_on = values.pop("happened_on", date(2025, 3, 14))
        record.tags = values.pop("tags", ["summons"])
        records.set_identifying(record, record, "teller_name",
                                values.pop("teller_name", "Salma Ben Ali"))
        records.save(record, author)
        consent.record(record, user=author, given_by="defender", method="oral",
                       audiences=list(audiences), purposes=["advocacy"],
                       obtained_on=date(2026, 1, 1))
        for audience in approve if approve is not None else audiences:
            review.approve(record, audience, node.user(reviewer_id))
        return record.uuid


def withdraw(node, record_id, user_id):
    from core import consent
    from tests.conftest import load_testimony

    with node.context():
        record = load_testimony(node.app, record_id)
        consent.withdraw(consent.current(record), reason="defender-request",
                         user=node.user(user_id))


@pytest.fixture
def people():
    """On a node: a documenter who writes and a reviewer who approves."""

    def factory(node):
        return node.make_user("salma", "documenter"), node.make_user("huda", "reviewer")

    return factory


# -- a made-up origin: signed entries without a node ---------------------------------------


class Origin:
    """A node's feeds, made in the test: each call appends a signed entry to a feed and
    returns it as a page item (``{"seq", "entry", "sig", "payload"}``)."""

    def __init__(self, seed: int = 1, start=None):
        import hashlib
        from datetime import UTC, datetime

        from nacl.signing import SigningKey

        from federation import identity

        self.key = SigningKey(hashlib.sha256(f"origin {seed}".encode()).digest())
        self.public = bytes(self.key.verify_key)
        self.node_id = identity.key_id_of(self.public)
        self.key_id = self.node_id
        self.keys = {self.key_id: self.key}
        self.heads = {}
        self.at = start or datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    def _append(self, feed, kind, fields, payload=None, key_id=None, seq=None, prev=None):
        from datetime import timedelta

        from federation import protocol

        last_seq, last_hash = self.heads.get(feed, (0, protocol.GENESIS))
        self.at += timedelta(seconds=1)
        body = protocol.entry_body(origin=self.node_id, feed=feed,
                                   seq=last_seq + 1 if seq is None else seq,
                                   prev=last_hash if prev is None else prev,
                                   at=protocol.at_text(self.at), key=key_id or self.key_id,
                                   kind=kind, **fields)
        text = protocol.canonical(body)
        self.heads[feed] = (body["seq"], protocol.sha256_hex(text))
        signature = self.keys[key_id or self.key_id].sign(text).signature
        return {"seq": body["seq"], "entry": text.decode(), "sig": protocol.b64(signature),
                "payload": None if payload is None else payload.decode()}

    def record(self, feed, record_id, version=1, payload=None, *, relay=False,
               audiences=None, expires=None, **overrides):
        from federation import protocol

        payload = protocol.canonical(payload if payload is not None else
                                     {"title": f"Record {record_id[:4]} v{version}"})
        fields = {"record_type": "testimony.testimony", "record_id": record_id,
                  "version": version, "payload_hash": protocol.sha256_hex(payload),
                  "relay": relay,
                  "consent": {"audiences": sorted(audiences or [feed]),
                              "purposes": ["advocacy"], "expires": expires}}
        seq, prev = overrides.pop("seq", None), overrides.pop("prev", None)
        fields.update(overrides)
        return self._append(feed, "record", fields, payload, seq=seq, prev=prev)

    def tombstone(self, feed, record_id, version=1, reason="withdrawn"):
        return self._append(feed, "tombstone", {"record_type": "testimony.testimony",
                                                "record_id": record_id, "version": version,
                                                "reason": reason})

    def rotate(self, feed, seed):
        import hashlib

        from nacl.signing import SigningKey

        from federation import identity, protocol

        new = SigningKey(hashlib.sha256(f"origin {seed}".encode()).digest())
        new_id = identity.key_id_of(bytes(new.verify_key))
        self.keys[new_id] = new
        item = self._append(feed, "key", {"key_event": {
            "action": "rotate", "key_id": new_id,
            "public_key": protocol.b64(bytes(new.verify_key))}})
        self.key_id = new_id
        return item

    def revoke(self, feed, key_id, revoked_at):
        from federation import protocol

        return self._append(feed, "key", {"key_event": {
            "action": "revoke", "key_id": key_id, "revoked_at": protocol.at_text(revoked_at)}})

    def pin(self, app, *, role="node", state="approved"):
        """Make this origin a peer of ``app``'s node, its first key pinned as at pairing."""
        from core.extensions import db
        from federation.models import Key, Peer

        with app.app_context():
            db.session.add(Peer(node_id=self.node_id, state=state, role=role,
                                label=f"origin-{self.node_id[:4]}", url="http://127.0.0.1:9"))
            db.session.add(Key(origin=self.node_id, key_id=self.node_id, public_key=self.public,
                               valid_from=self.at.replace(year=2020), source="pairing"))
            db.session.commit()


def as_item(raw):
    """A page item as ``federation.inbox`` hands it on after verification."""
    from federation import inbox, protocol

    entry = protocol.read_entry(raw["entry"].encode())
    return inbox.Item(entry, raw["sig"], protocol.read_payload(raw["payload"], entry))


@pytest.fixture
def federation_app(make_app, tmp_path):
    """An unlocked app with federation and its key (not served): ``federation_app(**config)``.
    A second node in the same test needs a ``name`` (its own folder and SQLite file)."""

    def factory(plugins=("federation",), name=None, **config):
        from federation import signing

        if name is not None:
            config.setdefault("INSTANCE_PATH", str(tmp_path / name))
            config.setdefault("SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path / name}.db")
        config.setdefault("unlocked", True)  # the key is wrapped by the node key
        app = make_app(PLUGINS=list(plugins), **config)
        with app.app_context():
            app.config["NODE_ID"] = signing.create_identity(app).node_id
        return app

    return factory


class FakePeer:
    """A peer on 127.0.0.1 that answers each request with the page the test sets, signed
    (or not) as the test says. It is the only way to get a page a real node would never
    serve. ``requests`` counts what it was asked."""

    def __init__(self, origin):
        import threading

        from werkzeug.serving import make_server

        self.origin = origin
        self.page = None  # a callable(after) -> (body bytes, options)
        self.answers = {}  # other paths: path -> callable(query) -> (body bytes, options)
        self.requests = 0
        self.server = make_server("127.0.0.1", 0, self, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True,
                                       kwargs={"poll_interval": 0.05})
        self.thread.start()

    def __call__(self, environ, start_response):
        from datetime import timedelta
        from urllib.parse import parse_qs

        from core import clock
        from federation import protocol, transport

        self.requests += 1
        query = parse_qs(environ.get("QUERY_STRING", ""))
        path = environ["PATH_INFO"]
        request = transport.Request(
            environ["REQUEST_METHOD"],
            f"http://{environ['HTTP_HOST']}{environ.get('RAW_URI') or environ['REQUEST_URI']}",
            transport.Headers([(k[5:].replace("_", "-").title(), v) for k, v in environ.items()
                               if k.startswith("HTTP_")]))
        if path == "/federation/outbox":
            body, options = self.page(int(query.get("after", ["0"])[0]))
        elif path in self.answers:
            body, options = self.answers[path](query)
        else:
            body, options = protocol.dumps({"type": "rabita.ok/1"}), {}
        headers = transport.Headers([("Content-Type", "application/json")])
        response = transport.Response(options.get("status", 200), headers, options.get(
            "answers", request))
        if options.get("signed", True):
            key = options.get("key", self.origin.key)
            transport.sign(response, options.get("signed_body", body),
                           key_id=options.get("key_id", self.origin.key_id),
                           sign_bytes=lambda data: key.sign(data).signature,
                           now=clock.now() + options.get("shift", timedelta()))
        start_response(f"{response.status_code} X", headers.lines)
        return [body]

    def close(self):
        self.server.shutdown()


@dataclass
class Shared:
    tunis: object
    sfax: object
    uuid: str
    author: int
    member_id: int

    @property
    def url(self) -> str:
        return f"/federation/shared/{self.tunis.node_id}/{self.uuid}"

    def member(self):
        return signed_in_client(self.sfax.app, self.member_id)


@pytest.fixture
def shared(two_nodes, people) -> Shared:
    """A testimony shared by Tunis with its peers, pulled by Sfax, where Amina is a member."""
    tunis, sfax = two_nodes
    salma, huda = people(tunis)
    uuid = share_testimony(tunis, salma, huda, title="Summons after a radio interview",
                           narrative="Salma Ben Ali was summoned after the interview.")
    sfax.sync()
    return Shared(tunis, sfax, uuid, salma, sfax.make_user("amina", "member"))
