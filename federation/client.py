"""The only HTTP client: every request this node makes to another node goes through here.

Requests are signed (``federation.transport``), answers are read up to a bound and verified
before anything parses them. Transient failures (no connection, time-out, 5xx, 429) are
retried with exponential backoff and full jitter; refusals are not. With
``FEDERATION_PROXY`` (e.g. ``socks5h://127.0.0.1:9050`` for Tor) all of it goes through that
SOCKS proxy, names resolved by the proxy; environment proxy variables are never read.
"""

from __future__ import annotations

import random
import time
from contextlib import nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from urllib.parse import urlencode

import requests
from flask import Flask, current_app

from core import clock
from federation import keys, protocol, signing, transport
from federation.reasons import REASONS, Refused

MAX_RESPONSE = 64 * 1024 * 1024
ATTEMPTS = 4
BACKOFF_BASE = 0.5  # seconds: the first retry waits up to this, then 2x, 4x...
BACKOFF_CAP = 30.0
USER_AGENT = "rabita-federation/1"
sleep = time.sleep  # tests replace it: the backoff is real, its waiting need not be
# What this thread does while it waits on the network (an answer, a backoff): nothing, or, in
# a round with many peers at once, give the database to another peer's turn (federation.rounds).
waiting: ContextVar = ContextVar("waiting", default=nullcontext)


class RemoteRefused(Refused):
    """The peer refused our request; ``code`` is the reason it gave."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes


def session(app: Flask | None = None) -> requests.Session:
    """A session that speaks only to what it is told: no proxy from the environment, and
    the configured SOCKS proxy (Tor) for every request when there is one."""
    app = app or current_app
    made = requests.Session()
    made.trust_env = False
    proxy = app.config.get("FEDERATION_PROXY")
    if proxy:
        made.proxies = {"http": proxy, "https": proxy}
    made.headers.update({"User-Agent": USER_AGENT, "Accept-Encoding": "identity"})
    return made


class PeerClient:
    """Signed requests to one peer, whose answers must be signed by one of its keys."""

    def __init__(self, base_url: str, *, peer=None, http: requests.Session | None = None,
                 app: Flask | None = None):
        self.app = app or current_app._get_current_object()
        self.base_url = base_url.rstrip("/")
        self.peer = peer
        self.http = http or session(self.app)
        self.timeout = self.app.config.get("FEDERATION_TIMEOUT", (10, 60))

    def get(self, path: str, **params) -> bytes:
        return self.request("GET", path, params=params).body

    def post(self, path: str, document: dict) -> bytes:
        return self.request("POST", path, body=protocol.dumps(document)).body

    def request(self, method: str, path: str, *, params: dict | None = None,
                body: bytes = b"") -> Answer:
        """Send, retrying transient failures; return a verified 200 answer or raise."""
        for attempt in range(ATTEMPTS):
            try:
                return self._once(method, path, params, body)
            except Refused as refused:
                if refused.code not in ("unreachable", "server-error", "too-many-requests") or \
                        attempt == ATTEMPTS - 1:
                    raise
            with waiting.get()():
                sleep(random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt)))
        raise Refused("unreachable")  # not reached: the loop returns or raises

    def _once(self, method: str, path: str, params: dict | None, body: bytes) -> Answer:
        url = self.base_url + path + ("?" + urlencode(params) if params else "")
        headers = transport.Headers([("Content-Type", "application/json")] if body else [])
        chain = keys.keys_header()
        if chain:
            headers[keys.KEYS_HEADER] = chain
        request = transport.Request(method, url, headers)
        transport.sign(request, body, key_id=signing.identity().current,
                       sign_bytes=signing.sign, now=clock.now())
        with waiting.get()():
            status, lines, answer = send_raw(self.http, method, url, headers.as_dict(), body,
                                             self.timeout)
        response = transport.Response(status, transport.Headers(lines), request)
        if status >= 500 and "Signature" not in response.headers:
            raise Refused(_unsigned_code(status, answer))
        if status == 429:
            raise Refused("too-many-requests")
        resolve = keys.resolver_with_chain(self.peer, response.headers.get(keys.KEYS_HEADER))
        transport.verify_message(response, answer, resolve_key=resolve, now=clock.now())
        keys.remember_chain(resolve)
        if status != 200:
            raise RemoteRefused(_remote_code(answer), "the peer refused the request")
        return Answer(status, answer)


def _unsigned_code(status: int, body: bytes) -> str:
    """What an unsigned failure says: a locked peer (which cannot sign) says so, unsigned;
    anything else is a server error. Either way nothing is taken from it."""
    return "node-locked" if status == 503 and _remote_code(body) == "node-locked" \
        else "server-error"


def _remote_code(body: bytes) -> str:
    try:
        code = protocol.strict_loads(body).get("error")
    except (Refused, AttributeError):
        return "server-error"
    return code if code in REASONS else "server-error"


def send_raw(http: requests.Session, method: str, url: str, headers: dict, body: bytes,
             timeout=(10, 60)) -> tuple[int, list[tuple[str, str]], bytes]:
    """One HTTP exchange, nothing verified: the answer's status, header lines and body
    (read up to ``MAX_RESPONSE``). Used above, and by tests that send tampered messages."""
    try:
        with http.request(method, url, data=body or None, headers=headers, timeout=timeout,
                          stream=True, allow_redirects=False) as response:
            length = response.headers.get("Content-Length")
            if length is not None and (not length.isdigit() or int(length) > MAX_RESPONSE):
                raise Refused("too-large")
            chunks, size = [], 0
            for chunk in response.raw.stream(65536, decode_content=False):
                size += len(chunk)
                if size > MAX_RESPONSE:
                    raise Refused("too-large")
                chunks.append(chunk)
            lines = list(response.raw.headers.items())
            return response.status_code, lines, b"".join(chunks)
    except requests.RequestException:
        raise Refused("unreachable") from None


def fetch_document(url: str, http: requests.Session | None = None) -> dict:
    """A node's self-signed document from ``/.well-known/rabita`` (pairing starts here)."""
    status, _lines, body = send_raw(http or session(), "GET",
                                    url.rstrip("/") + "/.well-known/rabita", {}, b"")
    if status != 200:
        if _unsigned_code(status, body) == "node-locked":
            raise Refused("node-locked", "the node is locked")
        raise Refused("unreachable", "no node document at that address")
    return protocol.strict_loads(body)
