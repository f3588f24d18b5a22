"""The only HTTP client: every request this node makes to another node goes through here.

Requests are signed (``federation.transport``), answers are read up to a bound and verified
before anything parses them. Transient failures (no connection, time-out, 5xx, 429) are
retried with exponential backoff and full jitter; refusals are not. A request may be asked
ahead (``PeerClient.ask``): sent at once, its answer read on another thread while this one
goes on (a pull writes one page while the peer serves the next), verified when it is taken. With
``FEDERATION_PROXY`` (e.g. ``socks5h://127.0.0.1:9050`` for Tor) all of it goes through that
SOCKS proxy, names resolved by the proxy; environment proxy variables are never read.
"""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import Future
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
TRANSIENT = ("unreachable", "server-error", "too-many-requests")  # retried, not refusals
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
        self._asked: Asked | None = None  # a request asked ahead, its answer not yet taken

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
                if refused.code not in TRANSIENT or \
                        attempt == ATTEMPTS - 1:
                    raise
            with waiting.get()():
                sleep(random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt)))
        raise Refused("unreachable")  # not reached: the loop returns or raises

    def ask(self, path: str, **params) -> Asked:
        """``get(path, **params)`` sent now, its answer read on another thread while this one
        goes on; ``Asked.body()`` gives it. Until it is taken, this client asks nothing else
        (a request waits for it: one exchange at a time on its connection)."""
        self._wait_for_asked()
        self._asked = Asked(self, path, params)
        return self._asked

    def _wait_for_asked(self) -> None:
        asked, self._asked = self._asked, None
        if asked is not None:
            asked.forget()

    def _once(self, method: str, path: str, params: dict | None, body: bytes) -> Answer:
        self._wait_for_asked()
        request, url, headers = self._signed(method, path, params, body)
        with waiting.get()():
            status, lines, answer = send_raw(self.http, method, url, headers, body,
                                             self.timeout)
        return self._verified(request, status, lines, answer)

    def _signed(self, method: str, path: str, params: dict | None, body: bytes
                ) -> tuple[transport.Request, str, dict]:
        """The signed request: what was signed, and the URL and headers to send."""
        url = self.base_url + path + ("?" + urlencode(params) if params else "")
        headers = transport.Headers([("Content-Type", "application/json")] if body else [])
        chain = keys.keys_header()
        if chain:
            headers[keys.KEYS_HEADER] = chain
        request = transport.Request(method, url, headers)
        transport.sign(request, body, key_id=signing.identity().current,
                       sign_bytes=signing.sign, now=clock.now())
        return request, url, headers.as_dict()

    def _verified(self, request: transport.Request, status: int, lines: list[tuple[str, str]],
                  answer: bytes) -> Answer:
        """The answer to ``request`` if it is signed by the peer and says yes; else raise."""
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


class Asked:
    """A GET sent ahead (``PeerClient.ask``). The other thread only sends and reads bytes (up
    to ``MAX_RESPONSE``): it touches no database, no key; the answer is verified in the
    asking thread, by ``body()``, exactly as ``get``'s. If the exchange failed on the way
    (a transient failure), or the answer expired while it waited, ``body()`` asks again as
    ``get`` does, retries and all."""

    def __init__(self, client: PeerClient, path: str, params: dict):
        self._client, self._path, self._params = client, path, params
        self._request, url, headers = client._signed("GET", path, params, b"")
        self._exchange: Future = Future()
        # A thread of its own, a daemon: a process that ends (a round refused, the command
        # stopped) does not wait for an answer nobody will take.
        threading.Thread(target=_exchange, args=(self._exchange, client.http, url, headers,
                                                 client.timeout),
                         name="rabita-ask", daemon=True).start()

    def body(self) -> bytes:
        client = self._client
        if client._asked is self:
            client._asked = None
        try:
            with waiting.get()():
                status, lines, answer = self._exchange.result()
            return client._verified(self._request, status, lines, answer).body
        except Refused as refused:
            if refused.code not in (*TRANSIENT, "expired"):
                raise
        return client.request("GET", self._path, params=self._params).body

    def forget(self) -> None:
        """Not taken, and this client asks something else: the exchange ends first (its
        connection is then free again); its answer is dropped unread."""
        with waiting.get()():
            self._exchange.exception()


def _exchange(future: Future, http: requests.Session, url: str, headers: dict,
              timeout) -> None:
    """A GET asked ahead, sent and read (``send_raw``); its outcome goes to ``future``."""
    try:
        future.set_result(send_raw(http, "GET", url, headers, b"", timeout))
    except BaseException as failed:  # whatever it is, the thread that takes it raises it
        future.set_exception(failed)


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
