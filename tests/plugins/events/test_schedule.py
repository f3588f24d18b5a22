"""Times: UTC from a wall-clock time in an IANA zone, bounded recurrence, occurrences that
keep their wall-clock time across a daylight-saving change."""

from datetime import UTC, datetime

import pytest

from plugins.events import schedule


def test_a_local_time_is_stored_as_its_utc_instant():
    assert schedule.to_utc(datetime(2026, 3, 20, 18), "Europe/Paris") == datetime(
        2026, 3, 20, 17, tzinfo=UTC)
    assert schedule.to_utc(datetime(2026, 7, 1, 18), "Europe/Paris").hour == 16
    assert schedule.to_utc(datetime(2026, 7, 1, 18), "Africa/Tunis").hour == 17


@pytest.mark.parametrize("name", ["", "Mars/Olympus", "UTC+1", "../etc/passwd", "europe paris"])
def test_an_unknown_zone_is_refused(name):
    with pytest.raises(schedule.ScheduleError, match="Unknown time zone"):
        schedule.to_utc(datetime(2026, 3, 20, 18), name)


def test_an_end_before_the_start_is_refused():
    start = datetime(2026, 3, 20, 17, tzinfo=UTC)
    with pytest.raises(schedule.ScheduleError, match="after the start"):
        schedule.check_times(start, start)


@pytest.mark.parametrize("rule", ["FREQ=WEEKLY", "FREQ=DAILY;INTERVAL=2", "RRULE:FREQ=MONTHLY"])
def test_a_series_that_never_ends_is_refused(rule):
    with pytest.raises(schedule.ScheduleError, match="must end"):
        schedule.check_rule(rule, datetime(2026, 3, 20, 17, tzinfo=UTC), "Europe/Paris")


@pytest.mark.parametrize("rule", ["FREQ=DAILY;COUNT=367", "FREQ=DAILY;UNTIL=20300101T000000Z"])
def test_a_series_too_long_is_refused(rule):
    with pytest.raises(schedule.ScheduleError, match="at most"):
        schedule.check_rule(rule, datetime(2026, 3, 20, 17, tzinfo=UTC), "Europe/Paris")


@pytest.mark.parametrize("rule", ["COUNT=3", "FREQ=WEEKLY;COUNT=3;X-EVIL=1", "hello",
                                  "FREQ=SOMETIMES;COUNT=2", "FREQ=WEEKLY;UNTIL=tomorrow"])
def test_what_is_no_rrule_is_refused(rule):
    with pytest.raises(schedule.ScheduleError):
        schedule.check_rule(rule, datetime(2026, 3, 20, 17, tzinfo=UTC), "Europe/Paris")


def test_a_weekly_series_keeps_its_wall_clock_time_across_a_dst_change():
    start = schedule.to_utc(datetime(2026, 3, 20, 18), "Europe/Paris")  # CET, UTC+1
    starts = schedule.check_rule("FREQ=WEEKLY;COUNT=3", start, "Europe/Paris")
    # Paris moves to summer time on 29 March 2026: 18:00 is then 16:00 UTC
    assert [s.hour for s in starts] == [17, 17, 16]
    assert [schedule.local(s, "Europe/Paris").hour for s in starts] == [18, 18, 18]


def test_an_event_longer_than_a_month_is_refused():
    start = datetime(2026, 3, 1, 9, tzinfo=UTC)
    with pytest.raises(schedule.ScheduleError, match="31 days"):
        schedule.check_times(start, start.replace(month=4, day=2))
