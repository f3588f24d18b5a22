"""gunicorn's settings for a node: no client address in any log, and no ``Server`` header.

Use it with ``gunicorn -c python:core.gunicorn_conf --workers 2 --bind 127.0.0.1:8000
'core.wsgi:app'``; command-line options still override these.

- No access log, whatever ``--access-logfile`` says: its lines begin with the client's
  address (``%(h)s``), and behind a proxy the proxy's address teaches nothing worth keeping.
- The error log keeps its messages, with every IP address in them replaced by ``[address]``:
  gunicorn writes ``Invalid request from ip=…`` for each malformed request.
- gunicorn 27 has no setting for its ``Server: gunicorn`` header; the line is dropped from
  the headers it writes (error pages it writes itself carry none).
- Each worker serves with a few threads (gunicorn's ``gthread`` worker): a password check
  holds its thread for a quarter of a second of argon2id, which releases the GIL, so the
  worker's other threads go on serving pages meanwhile (with one thread a worker, pages
  queued behind a check; ``bench/signin.py`` measures it). The sign-in budgets in
  ``core.throttle`` are per process and locked, so the threads share them.
- That worker is ``core.gunicorn_worker.WholeRequestWorker``: ``gthread`` with each request
  read whole — header fields and body, within a deadline — by the worker's main loop before a
  thread takes it, so a client that sends part of a body and waits holds no thread.
"""

from __future__ import annotations

import ipaddress
import logging
import re

from gunicorn import glogging
from gunicorn.http import wsgi as gunicorn_wsgi

control_socket_disable = True  # no control socket in the service user's home folder
accesslog = None
worker_class = "core.gunicorn_worker.WholeRequestWorker"
threads = 4  # more than the hashing burst (SIGNIN_HASH_BURST): a thread is left for pages
logger_class = "core.gunicorn_conf.AddresslessLogger"

# Candidates, each kept unless Python's ipaddress reads it (or, for IPv6, a prefix of it
# before a ":port") as an address: dotted quads, then runs of hex digits and colons.
_IPV4_LIKE = re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.]*\d)")
_IPV6_LIKE = re.compile(r"[0-9A-Fa-f]*:[0-9A-Fa-f:]*:[0-9A-Fa-f:]*(?:%[\w.]+)?")
ADDRESS_PLACEHOLDER = "[address]"


def without_addresses(text: str) -> str:
    """``text`` with every IPv4 and IPv6 address in it replaced by ``[address]``."""
    text = _IPV4_LIKE.sub(lambda m: ADDRESS_PLACEHOLDER if _is_address(m.group(0))
                          else m.group(0), text)
    return _IPV6_LIKE.sub(_replace_ipv6, text)


def _is_address(candidate: str) -> bool:
    try:
        ipaddress.ip_address(candidate.split("%", 1)[0])
    except ValueError:
        return False
    return True


def _replace_ipv6(match: re.Match) -> str:
    run = match.group(0)
    end = len(run)
    while end > 0:  # the longest prefix that is an address: "::1:8000" is ::1, port 8000
        if _is_address(run[:end]):
            return ADDRESS_PLACEHOLDER + run[end:]
        end = run.rfind(":", 0, end)
    return run


class AddressFilter(logging.Filter):
    """Rewrite each record, and the traceback it carries, without IP addresses."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info = record.exc_text = None
        record.msg, record.args = without_addresses(message), ()
        return True


class AddresslessLogger(glogging.Logger):
    """gunicorn's logger with no access log and an error log that names no address."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        if not any(isinstance(f, AddressFilter) for f in self.error_log.filters):
            self.error_log.addFilter(AddressFilter())

    def access(self, resp, req, environ, request_time) -> None:
        return None


def _headers_without_server(response) -> list[str]:
    return [line for line in _gunicorn_default_headers(response)
            if not line.lower().startswith("server:")]


_gunicorn_default_headers = gunicorn_wsgi.Response.default_headers
gunicorn_wsgi.Response.default_headers = _headers_without_server
