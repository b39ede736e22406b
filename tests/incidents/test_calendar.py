"""Deadline arithmetic in working time, across weekends, holidays and make-up days (hand-computed)."""

import datetime as dt

import pytest

from app.incidents.calendar import TZ, WorkingCalendar, default_calendar


def t(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TZ)


@pytest.mark.parametrize(
    ("start", "value", "unit", "expected"),
    [
        # 2 working hours inside the morning period
        (t(2026, 3, 10, 9, 0), 2, "working_hours", t(2026, 3, 10, 11, 0)),
        # crosses lunch: 11:00 + 2h = 12:00 (1h) + 13:30..14:30
        (t(2026, 3, 10, 11, 0), 2, "working_hours", t(2026, 3, 10, 14, 30)),
        # reported at lunch: the clock starts at 13:30
        (t(2026, 3, 10, 12, 15), 1, "working_hours", t(2026, 3, 10, 14, 30)),
        # Friday 17:00 + 1h: 30 min Friday, 30 min Monday
        (t(2026, 3, 13, 17, 0), 1, "working_hours", t(2026, 3, 16, 9, 30)),
        # reported on Saturday: Monday 09:00 + 4h = 13:30 + 1h = 14:30
        (t(2026, 3, 14, 10, 0), 4, "working_hours", t(2026, 3, 16, 14, 30)),
        # one working day from Friday 10:00 → Monday 10:00
        (t(2026, 3, 13, 10, 0), 1, "working_days", t(2026, 3, 16, 10, 0)),
        # National Day: Sep 30 (Wed) 16:00 + 1 day → Oct 8 (Oct 1-7 holiday) 16:00
        (t(2026, 9, 30, 16, 0), 1, "working_days", t(2026, 10, 8, 16, 0)),
        # Oct 9 (Fri) + 1 day → Oct 10 (Saturday, make-up working day)
        (t(2026, 10, 9, 10, 0), 1, "working_days", t(2026, 10, 10, 10, 0)),
        # Spring Festival: Feb 13 (Fri) 10:00 + 1 day → Feb 14 (Saturday make-up day)
        (t(2026, 2, 13, 10, 0), 1, "working_days", t(2026, 2, 14, 10, 0)),
        # Feb 14 (make-up Sat) 10:00 + 1 day → Feb 24 (Feb 15-23 holiday)
        (t(2026, 2, 14, 10, 0), 1, "working_days", t(2026, 2, 24, 10, 0)),
        # deadline lands exactly at the end of the day: stays 17:30, not next morning
        (t(2026, 3, 10, 9, 0), 7, "working_hours", t(2026, 3, 10, 17, 30)),
        # New Year: Dec 31 2025 (Wed) 17:00 + 1h → Jan 4 2026 (Sunday make-up) 09:30
        (t(2025, 12, 31, 17, 0), 1, "working_hours", t(2026, 1, 4, 9, 30)),
        # UTC input is converted: 01:00Z = 09:00 Shanghai
        (dt.datetime(2026, 3, 10, 1, 0, tzinfo=dt.UTC), 1, "working_hours", t(2026, 3, 10, 10, 0)),
    ],
)
def test_deadlines(start, value, unit, expected):
    assert default_calendar().add(start, value, unit) == expected


def test_working_day_flags():
    cal = default_calendar()
    assert not cal.is_working_day(dt.date(2026, 10, 1))
    assert cal.is_working_day(dt.date(2026, 9, 20))  # Sunday make-up
    assert not cal.is_working_day(dt.date(2026, 3, 14))  # ordinary Saturday
    assert cal.minutes_per_day == 420


def test_minutes_between_matches_add():
    cal = default_calendar()
    start = t(2026, 9, 29, 15, 0)
    end = cal.add(start, 10, "working_hours")
    assert cal.working_minutes_between(start, end) == pytest.approx(600)


@pytest.mark.parametrize(
    ("kwargs", "exc"),
    [
        ({"start": dt.datetime(2026, 3, 10, 9), "value": 1, "unit": "working_hours"}, ValueError),
        ({"start": t(2026, 3, 10, 9), "value": 1, "unit": "hours"}, ValueError),
    ],
)
def test_bad_arguments(kwargs, exc):
    with pytest.raises(exc):
        default_calendar().add(**kwargs)


def test_empty_or_reversed_periods_refused():
    year = {"first_day": dt.date(2026, 1, 1), "last_day": dt.date(2026, 12, 31)}
    with pytest.raises(ValueError):
        WorkingCalendar(periods=(), **year)
    with pytest.raises(ValueError):
        WorkingCalendar(periods=((dt.time(12), dt.time(9)),), **year)
