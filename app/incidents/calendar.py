"""Working-time calendar (Asia/Shanghai): working periods per day, weekends, holidays and make-up days.

Deadlines are working time: a limit of N working hours is N hours counted only inside working
periods; N working days is N times the length of a working day, so a case reported Friday 10:00
with one working day is due Monday 10:00 (the next working day at the same clock time).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

DATA_FILE = Path(__file__).with_name("data") / "calendar.json"
TZ = ZoneInfo("Asia/Shanghai")
_MAX_DAYS = 3660  # a limit never spans more than ten years: guards against an all-holiday calendar


def _hm(text: str) -> dt.time:
    h, m = text.split(":")
    return dt.time(int(h), int(m))


@dataclass(frozen=True)
class WorkingCalendar:
    periods: tuple[tuple[dt.time, dt.time], ...]
    weekend: frozenset[int] = frozenset({5, 6})
    holidays: frozenset[dt.date] = frozenset()
    makeup_workdays: frozenset[dt.date] = frozenset()
    tz: ZoneInfo = field(default=TZ)

    def __post_init__(self) -> None:
        if not self.periods:
            raise ValueError("a working calendar needs at least one working period")
        for start, end in self.periods:
            if end <= start:
                raise ValueError(f"working period {start}-{end} ends before it starts")

    @classmethod
    def from_dict(cls, data: dict) -> WorkingCalendar:  # type: ignore[type-arg]
        return cls(
            periods=tuple((_hm(a), _hm(b)) for a, b in data["working_periods"]),
            weekend=frozenset(int(d) for d in data.get("weekend", [5, 6])),
            holidays=frozenset(dt.date.fromisoformat(d) for d in data.get("holidays", {})),
            makeup_workdays=frozenset(
                dt.date.fromisoformat(d) for d in data.get("makeup_workdays", {})
            ),
            tz=ZoneInfo(data.get("timezone", "Asia/Shanghai")),
        )

    @property
    def minutes_per_day(self) -> int:
        return sum(_minutes(b) - _minutes(a) for a, b in self.periods)

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.makeup_workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() not in self.weekend

    def add(self, start: dt.datetime, value: int | float, unit: str) -> dt.datetime:
        """``start`` plus ``value`` working hours or working days; an aware datetime in self.tz."""
        if unit == "working_hours":
            minutes = float(value) * 60
        elif unit == "working_days":
            minutes = float(value) * self.minutes_per_day
        else:
            raise ValueError(f"unknown time-limit unit {unit!r}")
        return self.add_minutes(start, minutes)

    def add_minutes(self, start: dt.datetime, minutes: float) -> dt.datetime:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        cursor = start.astimezone(self.tz)
        day = cursor.date()
        remaining = float(minutes)
        for _ in range(_MAX_DAYS):
            if self.is_working_day(day):
                for a, b in self.periods:
                    begin = max(cursor, dt.datetime.combine(day, a, self.tz))
                    end = dt.datetime.combine(day, b, self.tz)
                    if begin >= end:
                        continue
                    available = (end - begin).total_seconds() / 60
                    if remaining <= available:
                        return begin + dt.timedelta(minutes=remaining)
                    remaining -= available
            day += dt.timedelta(days=1)
            cursor = dt.datetime.combine(day, dt.time(0, 0), self.tz)
        raise ValueError("working calendar has no working time in the next ten years")

    def working_minutes_between(self, a: dt.datetime, b: dt.datetime) -> float:
        """Working minutes in [a, b) (0 if b <= a)."""
        if b <= a:
            return 0.0
        a, b = a.astimezone(self.tz), b.astimezone(self.tz)
        total = 0.0
        day = a.date()
        while day <= b.date():
            if self.is_working_day(day):
                for p, q in self.periods:
                    lo = max(a, dt.datetime.combine(day, p, self.tz))
                    hi = min(b, dt.datetime.combine(day, q, self.tz))
                    if hi > lo:
                        total += (hi - lo).total_seconds() / 60
            day += dt.timedelta(days=1)
        return total


def _minutes(t: dt.time) -> int:
    return t.hour * 60 + t.minute


@lru_cache
def default_calendar(path: Path = DATA_FILE) -> WorkingCalendar:
    return WorkingCalendar.from_dict(json.loads(path.read_text(encoding="utf-8")))
