"""A simulated federation for tests and benchmarks: many member nodes of a hub, served by one
process over real HTTP on 127.0.0.1, each a node identity of its own (an Ed25519 key, a signed
node document, a ``hub`` feed of signed, chained entries made with the protocol's own code).

It stands in for the members' side only, with just what a hub's pull asks of a member: under
``/m/<number>`` each member answers ``GET /federation/outbox`` with a page of its feed, and
``POST /federation/inbox`` and ``/federation/receipts`` with a plain acknowledgement, every
answer signed by the member's key over the hub's request, as a node signs it. It checks the
hub's request signature (not its nonce: nothing is stored here). A member may be made slow
(every answer waits); a dead member is an address where nobody listens. The hub is real: a
node of ``federation.testing`` (or ``rabita``) pulling as ``rabita sync`` does.

    python -m bench.simulation FD SPEC

serves, on the listening socket FD, the members SPEC (JSON) names: ``hub_key_id``,
``hub_public_key`` (base64), ``first``, ``count``, ``records`` (each member's, the same entries
every time for the same numbers), ``payload_bytes``, ``relay`` (consented to partner nodes
too) and ``slow`` (member number → seconds each answer waits, or a file's path: each answer
waits until it exists); it prints ``ready`` once the entries are made.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs

from nacl.signing import SigningKey
from werkzeug.serving import make_server

from federation import identity, protocol, transport
from federation.reasons import Refused

VALID_FROM = datetime(2020, 1, 1, tzinfo=UTC)  # the members' keys are older than any entry
MAX_LIMIT = 1000


class Member:
    """One simulated member node: its key (from its number, so the hub's process and the
    serving process make the same), node id, document and ``hub`` feed."""

    def __init__(self, number: int):
        self.number = number
        self.key = SigningKey(hashlib.sha256(f"rabita simulated member {number}".encode())
                              .digest())
        self.public = bytes(self.key.verify_key)
        self.node_id = identity.key_id_of(self.public)
        self.fingerprint = identity.fingerprint(self.public)
        self.items: list[dict] = []  # its hub feed, as page items
        self.last_hash = protocol.GENESIS

    @property
    def label(self) -> str:
        return f"member-{self.number:03d}"

    def sign(self, data: bytes) -> bytes:
        return self.key.sign(data).signature

    def document(self, url: str) -> dict:
        """Its signed node document, as ``/.well-known/rabita`` serves a node's."""
        key = identity.KeyInfo(self.node_id, self.public, VALID_FROM).as_json()
        body = {"type": protocol.NODE_TYPE, "node_id": self.node_id, "name": "", "role": "node",
                "url": url, "at": protocol.at_text(datetime.now(UTC)), "key": self.node_id,
                "keys": [key | {"certificate": None}], "endpoints": identity.ENDPOINTS}
        text = protocol.canonical(body)
        return protocol.envelope(text, self.sign(text))

    def add_records(self, count: int, *, payload_bytes: int = 1000, relay: bool = False,
                    at: datetime | None = None) -> None:
        """Append ``count`` signed record entries (made-up payloads) to its ``hub`` feed;
        ``relay``: consented to partner nodes too, so the hub relays them."""
        moment = protocol.at_text((at or datetime.now(UTC)).replace(microsecond=0))
        audiences = ["hub", "peers"] if relay else ["hub"]
        for _ in range(count):
            seq = len(self.items) + 1
            payload = protocol.canonical({
                "title": f"Record {seq} of {self.label}", "tags": ["summons", "travel-ban"],
                "narrative": ("Fictional narrative for load tests. " * 40)[:payload_bytes]})
            body = protocol.entry_body(
                origin=self.node_id, feed=protocol.HUB, seq=seq, prev=self.last_hash,
                at=moment, key=self.node_id, kind=protocol.RECORD,
                record_type="testimony.testimony", record_id=str(uuid.UUID(int=seq << 64 |
                                                                            self.number)),
                version=1, payload_hash=protocol.sha256_hex(payload), relay=relay,
                consent={"audiences": audiences, "purposes": ["advocacy"], "expires": None})
            text = protocol.canonical(body)
            self.last_hash = protocol.sha256_hex(text)
            self.items.append({"seq": seq, "entry": text.decode(),
                               "sig": protocol.b64(self.sign(text)),
                               "payload": payload.decode()})

    def page(self, after: int, limit: int) -> dict:
        return {"type": protocol.PAGE_TYPE, "feed": protocol.HUB, "after": after,
                "head": len(self.items), "items": self.items[after:after + limit]}


class Members:
    """The WSGI application serving many members under ``/m/<number>``."""

    def __init__(self, members: list[Member], hub_key_id: str, hub_public_key: bytes,
                 slow: dict[int, float | str] | None = None):
        self.members = {member.number: member for member in members}
        self.hub_key_id, self.hub_public_key = hub_key_id, hub_public_key
        self.slow = slow or {}

    def __call__(self, environ, start_response):
        parts = environ.get("PATH_INFO", "").split("/", 3)  # "", "m", number, rest
        member = self.members.get(int(parts[2])) if len(parts) == 4 and parts[1] == "m" and \
            parts[2].isdigit() else None
        if member is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"no such member"]
        _wait(self.slow.get(member.number))
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        request = transport.Request(
            environ["REQUEST_METHOD"],
            f"http://{environ['HTTP_HOST']}{environ.get('RAW_URI') or environ['REQUEST_URI']}",
            transport.Headers((name[5:].replace("_", "-").title(), value)
                              for name, value in environ.items() if name.startswith("HTTP_")))
        if environ.get("CONTENT_TYPE"):
            request.headers["Content-Type"] = environ["CONTENT_TYPE"]
        status, document = self.answer(member, "/" + parts[3], environ, request, body)
        return self.respond(start_response, member, request, status, document)

    def answer(self, member: Member, path: str, environ, request, body) -> tuple[int, dict]:
        try:
            transport.verify_message(request, body, now=datetime.now(UTC),
                                     resolve_key=lambda key_id: self.hub_public_key
                                     if key_id == self.hub_key_id else None)
        except Refused as refused:
            return refused.status, refused.as_json()
        if path == "/federation/outbox":
            query = {name: values[0] for name, values in
                     parse_qs(environ.get("QUERY_STRING", "")).items()}
            if query.get("feed") != protocol.HUB:
                return 403, Refused("feed-not-allowed").as_json()
            limit = min(int(query.get("limit", 500)), MAX_LIMIT)
            return 200, member.page(int(query.get("after", 0)), limit)
        if path in ("/federation/inbox", "/federation/receipts"):
            return 200, {"type": "rabita.ok/1"}
        return 404, Refused("not-found").as_json()

    @staticmethod
    def respond(start_response, member: Member, request, status: int, document: dict):
        body = protocol.dumps(document)
        headers = transport.Headers([("Content-Type", "application/json")])
        transport.sign(transport.Response(status, headers, request), body,
                       key_id=member.node_id, sign_bytes=member.sign, now=datetime.now(UTC))
        headers["Content-Length"] = str(len(body))
        start_response(f"{status} {'OK' if status == 200 else 'Refused'}", headers.lines)
        return [body]


def _wait(slow: float | str | None) -> None:
    if isinstance(slow, str):  # until the file exists (a test says when), a minute at most
        until = time.monotonic() + 60
        while not Path(slow).exists() and time.monotonic() < until:
            time.sleep(0.05)
    elif slow:
        time.sleep(slow)


def members(first: int, count: int) -> list[Member]:
    return [Member(number) for number in range(first, first + count)]


def enrol(hub_members: list[Member], base_url: str) -> None:
    """Pair the hub of the current app with each member, as its administrator would (the
    member's document and fingerprint checked, its first key pinned); the members' side
    approves any request the hub signs."""
    from federation import peers  # the hub's side: needs an app, which serving does not

    for member in hub_members:
        url = f"{base_url}/m/{member.number}"
        peers.add(url, member.fingerprint, member.label, None, document=member.document(url),
                  send_request=False)


class Served:
    """Members ``first`` … ``first + count - 1`` served by a process of their own, for the hub
    ``hub`` (a ``federation.testing.Node``); ``slow`` as in the module's SPEC."""

    def __init__(self, hub, first: int, count: int, records: int, *,
                 payload_bytes: int = 1000, relay: bool = False,
                 slow: dict[int, float | str] | None = None):
        from federation import signing  # the hub's key: read in the hub's app
        from federation.testing import Port

        with hub.context():
            own = signing.identity()
            key_id, public = own.current, own.key(own.current).public_key
        spec = {"hub_key_id": key_id, "hub_public_key": protocol.b64(public), "first": first,
                "count": count, "records": records, "payload_bytes": payload_bytes,
                "relay": relay, "slow": {str(n): wait for n, wait in (slow or {}).items()}}
        self.members = members(first, count)
        self._port = Port()
        self.base_url = f"http://127.0.0.1:{self._port.number}"
        with self._port.listening() as listener:
            self.process = subprocess.Popen(  # noqa: S603 - this module, arguments made here
                [sys.executable, "-m", "bench.simulation", str(listener.fileno()),
                 json.dumps(spec)], cwd=Path(__file__).resolve().parent.parent,
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                pass_fds=(listener.fileno(),), text=True)
        if self.process.stdout.readline().strip() != "ready":
            self.close()
            raise RuntimeError("the simulated members did not start")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process.stdout.close()
        self._port.close()


def serve(fd: int, spec: dict) -> None:
    made = members(spec["first"], spec["count"])
    # Dated a minute ago: a hub's clock may be a little behind, and an entry is never dated
    # after the moment it is received.
    at = datetime.now(UTC) - timedelta(minutes=1)
    for member in made:
        member.add_records(spec["records"], payload_bytes=spec["payload_bytes"],
                           relay=spec["relay"], at=at)
    application = Members(made, spec["hub_key_id"], protocol.unb64(spec["hub_public_key"]),
                          {int(n): wait for n, wait in spec["slow"].items()})
    server = make_server("127.0.0.1", 0, application, threaded=True, fd=fd)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    serve(int(sys.argv[1]), json.loads(sys.argv[2]))
