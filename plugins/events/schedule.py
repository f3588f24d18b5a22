"""When events happen: local times in an IANA zone to UTC and back, bounded recurrence
(an RRULE must end: COUNT or UNTIL, and at most MAX_OCCURRENCES), and the occurrences of
events in a range of days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from dateutil.rrule import rrulestr
from flask_babel import lazy_gettext as _l

MAX_OCCURRENCES = 366
LONGEST = timedelta(days=31)  # one occurrence at most; a longer event is a series
RRULE_PARTS = {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "BYMONTH",
               "BYSETPOS", "WKST"}


class ScheduleError(ValueError):
    """The times or the recurrence cannot be kept as given; the message says why."""


@dataclass(frozen=True)
class Occurrence:
    """One time an event happens: its UTC start and end."""

    event: object
    starts_at: datetime
    ends_at: datetime


def zone(name: str) -> ZoneInfo:
    """The IANA time zone of that name, or a ScheduleError (no guessing, no offsets)."""
    if not name or name not in _zone_names():
        raise ScheduleError(_l("Unknown time zone: use a name like Africa/Tunis."))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ScheduleError(_l("Unknown time zone: use a name like Africa/Tunis.")) from error


def _zone_names() -> set[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = available_timezones()
    return _ZONES


_ZONES: set[str] | None = None


def to_utc(local: datetime, zone_name: str) -> datetime:
    """A wall-clock time in ``zone_name`` as an aware UTC datetime."""
    return local.replace(tzinfo=zone(zone_name)).astimezone(UTC)


def local(moment: datetime, zone_name: str) -> datetime:
    return moment.astimezone(zone(zone_name))


def check_times(starts_at: datetime, ends_at: datetime) -> None:
    if ends_at <= starts_at:
        raise ScheduleError(_l("The end must come after the start."))
    if ends_at - starts_at > LONGEST:
        raise ScheduleError(_l("An event lasts at most 31 days; make a longer one a series."))


def check_rule(rule: str | None, starts_at: datetime, zone_name: str) -> list[datetime]:
    """The UTC starts of a series (just ``starts_at`` without a rule); a rule that never
    ends, repeats more than MAX_OCCURRENCES times or is not an RRULE is refused."""
    if not rule:
        return [starts_at]
    parts = _parts(rule)
    if "COUNT" not in parts and "UNTIL" not in parts:
        raise ScheduleError(_l("A repeating event must end: give COUNT or UNTIL."))
    starts = _expand(rule, starts_at, zone_name, MAX_OCCURRENCES + 1)
    if len(starts) > MAX_OCCURRENCES:
        raise ScheduleError(_l("A series may repeat at most %(n)d times.", n=MAX_OCCURRENCES))
    if not starts:
        raise ScheduleError(_l("This rule gives no date at all."))
    return starts


def _parts(rule: str) -> dict[str, str]:
    rule = rule.strip().removeprefix("RRULE:")
    try:
        parts = dict(part.split("=", 1) for part in rule.upper().split(";") if part)
    except ValueError:
        raise ScheduleError(_l("Not a recurrence rule (RRULE).")) from None
    if not parts or "FREQ" not in parts or set(parts) - RRULE_PARTS:
        raise ScheduleError(_l("Not a recurrence rule (RRULE)."))
    return parts


def normalised_rule(rule: str | None) -> str | None:
    return rule.strip().upper().removeprefix("RRULE:") if rule and rule.strip() else None


def _expand(rule: str, starts_at: datetime, zone_name: str, limit: int) -> list[datetime]:
    first = local(starts_at, zone_name)
    try:
        series = rrulestr(normalised_rule(rule), dtstart=first, forceset=False)
    except (ValueError, TypeError) as error:
        raise ScheduleError(_l("Not a recurrence rule (RRULE).")) from error
    starts = []
    for start in series:  # wall-clock times in the zone: 18:00 stays 18:00 across DST
        starts.append(start.astimezone(UTC))
        if len(starts) >= limit:
            break
    return starts


def occurrences(event, first: datetime | None = None, last: datetime | None = None,
                ) -> list[Occurrence]:
    """The occurrences of ``event`` that overlap [first, last) (all of them by default)."""
    length = event.ends_at - event.starts_at
    starts = (check_rule(event.recurrence, event.starts_at, event.timezone)
              if event.recurrence else [event.starts_at])
    return [Occurrence(event, start, start + length) for start in starts
            if (last is None or start < last) and (first is None or start + length > first)]


def month_bounds(month: date, zone_name: str = "UTC") -> tuple[datetime, datetime]:
    start = datetime(month.year, month.month, 1)
    following = (start + timedelta(days=32)).replace(day=1)
    return to_utc(start, zone_name), to_utc(following, zone_name)


def week_bounds(day: date, zone_name: str = "UTC") -> tuple[datetime, datetime]:
    monday = datetime(day.year, day.month, day.day) - timedelta(days=day.weekday())
    return to_utc(monday, zone_name), to_utc(monday + timedelta(days=7), zone_name)
