"""gunicorn's threaded worker, handing a request to a thread only once it has arrived whole.

gunicorn's ``gthread`` worker gives a connection to a thread as soon as its first bytes
arrive, and the thread then waits for the rest: a client that declares 100 bytes of body and
sends 95 holds that thread for as long as it likes, and a few such clients hold them all, so
the node answers nobody (issue 19). Here the worker's main loop, which already waits on every
idle connection without holding a thread, also gathers each request — its header fields and
all of its body — without blocking, within a deadline, and only then gives it to a thread,
which finds every byte already read. A request that is not whole by its deadline is answered
``408`` and its connection closed; no thread ever waited for it.

Refusals made here, before the application, are the protocol's JSON shape
``{"error", "message"}`` (docs/federation.md): ``headers-too-large`` (431) for header fields
beyond gunicorn's limits, ``too-large`` (413) for a declared body beyond the application's
``MAX_CONTENT_LENGTH``, ``length-required`` (411) for a chunked body (no browser or node sends
one), ``too-slow`` (408) past the deadline. TLS is the reverse proxy's (a worker serving TLS
itself reads as gunicorn's own worker does).
"""

from __future__ import annotations

import contextlib
import errno
import json
import selectors
import time
from functools import partial

from gunicorn import http
from gunicorn.workers.gthread import ThreadWorker

HEADER_SECONDS = 10.0  # for the request line and header fields, from the first byte
BODY_BYTES_PER_SECOND = 32 * 1024  # the slowest body accepted, beyond the first deadline
MAX_HEADER_BYTES = 32 * 1024  # all header fields together
DEFAULT_MAX_BODY = 16 * 1024 * 1024  # when the application states no MAX_CONTENT_LENGTH
READ_SIZE = 64 * 1024
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"

REFUSALS = {
    "headers-too-large": (431, "Request Header Fields Too Large",
                          "The message's header fields are larger than this node accepts."),
    "too-large": (413, "Content Too Large", "The message is larger than this node accepts."),
    "length-required": (411, "Length Required", "A message with a body must state its length."),
    "too-slow": (408, "Request Timeout", "The message did not arrive in time."),
}


class Gathering:
    """What has arrived of one request, and by when the rest must."""

    def __init__(self, buffered: bytes):
        self.data = bytearray(buffered)
        self.deadline = time.monotonic() + HEADER_SECONDS
        self.size: int | None = None  # the whole request's, once its header fields are in
        self.polled = False


class WholeRequestWorker(ThreadWorker):
    """``gthread``, with each request read whole by the main loop before a thread takes it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.gathering: dict = {}  # connection -> Gathering

    def enqueue_req(self, conn):
        """Every way a request reaches the pool (new, kept-alive, read ahead) comes here."""
        if self.cfg.is_ssl or getattr(conn, "whole", False):
            conn.whole = False
            return super().enqueue_req(conn)
        buffered = conn.parser.unreader.take_buffered() if conn.parser is not None else b""
        conn.sock.setblocking(False)
        gathered = self.gathering[conn] = Gathering(buffered)
        # Most requests are already there (a kept-alive connection woke the poller): read
        # them at once rather than after another turn of the loop.
        if not self._settle(conn) and not self._on_readable(conn, conn.sock):
            gathered.polled = True
            self.poller.register(conn.sock, selectors.EVENT_READ,
                                 partial(self._on_readable, conn))
        return None

    def _on_readable(self, conn, sock) -> bool:
        """Read what has come; True once the request was handed over or refused."""
        try:
            data = sock.recv(READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            data = b""
        if not data:  # the client went away
            self._forget(conn)
            return True
        self.gathering[conn].data += data
        return self._settle(conn)

    def _settle(self, conn) -> bool:
        """Hand the request over if it is whole, or refuse it; True if either was done."""
        gathered = self.gathering[conn]
        if gathered.size is None:
            verdict = request_state(bytes(gathered.data), self.cfg, self._max_body())
            if isinstance(verdict, int):  # the header fields are in: the body's time is known
                gathered.size = verdict
                gathered.deadline += (verdict - len(gathered.data)) / BODY_BYTES_PER_SECOND
                if len(gathered.data) < verdict and _expects_continue(bytes(gathered.data)):
                    # The client waits to be told to send its body (curl does, for large
                    # ones); gunicorn's own "100 Continue" follows later, which HTTP allows.
                    with contextlib.suppress(OSError):
                        conn.sock.send(CONTINUE)
        if gathered.size is not None:
            verdict = "whole" if len(gathered.data) >= gathered.size else None
        if verdict is None:
            return False
        if verdict == "whole":
            self._hand_over(conn)
        else:
            self._refuse(conn, verdict)
        return True

    def _hand_over(self, conn) -> None:
        gathered = self._stop_polling(conn)
        if conn.parser is None:
            conn.parser = http.get_parser(self.cfg, conn.sock, conn.client)
        conn.parser.unreader.unread(bytes(gathered.data))
        conn.data_ready, conn.whole = True, True
        self.enqueue_req(conn)

    def _refuse(self, conn, code: str) -> None:
        status, phrase, message = REFUSALS[code]
        body = json.dumps({"error": code, "message": message}).encode()
        head = (f"HTTP/1.1 {status} {phrase}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
        try:
            conn.sock.send(head + body)
        except OSError as error:
            if error.errno not in (errno.EPIPE, errno.ECONNRESET, errno.EAGAIN):
                self.log.debug("Could not answer a refused request: %s", error)
        self._forget(conn)

    def _stop_polling(self, conn) -> Gathering:
        gathered = self.gathering.pop(conn)
        if gathered.polled:
            with contextlib.suppress(KeyError, ValueError, OSError):
                self.poller.unregister(conn.sock)
        return gathered

    def _forget(self, conn) -> None:
        if conn in self.gathering:
            self._stop_polling(conn)
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self) -> None:
        """gunicorn's own pending connections, and requests past their deadline."""
        super().murder_pending()
        now = time.monotonic()
        for conn in [c for c, g in self.gathering.items() if g.deadline <= now]:
            self._refuse(conn, "too-slow")

    def _max_body(self) -> int:
        config = getattr(self.wsgi, "config", None) or {}
        return config.get("MAX_CONTENT_LENGTH") or DEFAULT_MAX_BODY


def _expects_continue(data: bytes) -> bool:
    head = data[:data.find(b"\r\n\r\n")].lower()
    return b"http/1.1" in head.split(b"\r\n", 1)[0] and any(
        line.startswith(b"expect:") and line.partition(b":")[2].strip() == b"100-continue"
        for line in head.split(b"\r\n")[1:])


def request_state(data: bytes, cfg, max_body: int) -> str | int | None:
    """Where a request stands from its first bytes: a refusal's code; once its header fields
    are in, the size of the whole request (header fields and declared body); or None."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        too_long = len(data) > MAX_HEADER_BYTES or any(
            len(line) > cfg.limit_request_field_size for line in data.split(b"\r\n")[1:])
        return "headers-too-large" if too_long else None
    lines = data[:end].split(b"\r\n")
    if end > MAX_HEADER_BYTES or len(lines) - 1 > cfg.limit_request_fields or any(
            len(line) > cfg.limit_request_field_size for line in lines[1:]):
        return "headers-too-large"
    length, chunked = 0, False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"transfer-encoding":
            chunked = chunked or b"chunked" in value.lower()
        elif name == b"content-length" and value.strip().isdigit():
            length = max(length, int(value.strip()))
    if chunked:
        return "length-required"
    if length > max_body:
        return "too-large"
    # Anything odd (a length written twice, differently) is left to gunicorn's parser.
    return end + 4 + length
