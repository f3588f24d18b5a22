"""Column types every model may use: timestamps stored as naive UTC, read back aware."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """A timestamp stored as naive UTC and always returned timezone-aware."""

    impl = DateTime
    cache_ok = True

    # Both directions by datetime.combine: replace(tzinfo=...) costs two to three times as
    # much, and a sync page or a listing converts thousands of timestamps.

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
        utc = value.astimezone(UTC)
        return datetime.combine(utc.date(), utc.time())  # time(): without its tzinfo

    def process_result_value(self, value: datetime | None, dialect):
        return None if value is None else datetime.combine(value.date(), value.time(), UTC)
