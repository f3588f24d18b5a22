"""Logging that never writes a client IP, a token in a URL, or a query string."""

from __future__ import annotations

import logging
import re

# Werkzeug's request lines: '127.0.0.1 - - [date] "GET /path?query HTTP/1.1" 200 -'
_REQUEST_LINE = re.compile(r'^\S+ - - \[[^\]]*\] "(?P<method>\S+) (?P<path>\S+) (?P<proto>[^"]+)"')
_LONG_SEGMENT = re.compile(r"/[A-Za-z0-9_\-]{20,}")


class ClientDetailsFilter(logging.Filter):
    """Rewrite request lines: no client address, no query string, no long path tokens."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        match = _REQUEST_LINE.match(message)
        if match:
            path = match["path"].split("?", 1)[0]
            path = _LONG_SEGMENT.sub("/…", path)
            rest = message[match.end():]
            record.msg = f'"{match["method"]} {path} {match["proto"]}"{rest}'
            record.args = ()
        return True


def init_logging() -> None:
    logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, ClientDetailsFilter) for f in logger.filters):
        logger.addFilter(ClientDetailsFilter())
