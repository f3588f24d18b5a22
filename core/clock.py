"""The one clock the node reads, so rules that depend on time (time-outs, expiry) are testable."""

from datetime import UTC, datetime


def now() -> datetime:
    """Return the current time, timezone-aware, in UTC."""
    return datetime.now(UTC)
