"""Time limits on the clock or in working time (Asia/Shanghai): docs/domain.md#deadlines-and-the-calendar.

A limit has a value and a unit (``UNITS``). Calendar hours and days run on the clock, day and night,
holidays included. Working hours are counted only inside working periods on working days; N working
days is N times the length of a working day, so a case reported Friday 10:00 with one working day is
due Monday 10:00 (the next working day at the same clock time).

Working days come from the calendar: one file per year (``data/calendar_YYYY.json``, the State
Council's annual notice) beside the shared working periods (``data/calendar.json``). The years must
follow each other without a gap; a working-time question about a day outside them is an error
(``CalendarNotCovered``), never answered with weekends only.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from app.errors import ServiceUnavailable

DATA_DIR = Path(__file__).with_name("data")
DATA_FILE = DATA_DIR / "calendar.json"
TZ = ZoneInfo("Asia/Shanghai")
# The units of a time limit, the one list (categories, the database check, the API).
CALENDAR_UNITS = ("calendar_hours", "calendar_days")
WORKING_UNITS = ("working_hours", "working_days")
UNITS = (*CALENDAR_UNITS, *WORKING_UNITS)
UNIT_LABELS = {
    "calendar_hours": "小时（自然时间）",
    "calendar_days": "天（自然日）",
    "working_hours": "工作小时",
    "working_days": "工作日",
}
_YEAR_FILE = re.compile(r"^calendar_(\d{4})\.json$")


class CalendarNotCovered(ServiceUnavailable):
    """A working-time question about a day the calendar has no year for."""

    def __init__(
        self, day: dt.date, first: dt.date, last: dt.date, *, at_start: bool = False
    ) -> None:
        what = (
            f"今天（{day.isoformat()}）不在其中，服务拒绝启动"
            if at_start
            else f"无法按工作时间计算 {day.isoformat()} 的期限"
        )
        super().__init__(
            f"工作日历只覆盖 {first.isoformat()} 至 {last.isoformat()}，{what}；"
            f"请管理员按国务院办公厅当年的节假日安排通知补充"
            f" app/incidents/data/calendar_{day.year}.json 后重启",
            day=day.isoformat(),
            covered_from=first.isoformat(),
            covered_to=last.isoformat(),
        )
        self.day = day


def _hm(text: str) -> dt.time:
    h, m = text.split(":")
    return dt.time(int(h), int(m))


@dataclass(frozen=True)
class WorkingCalendar:
    periods: tuple[tuple[dt.time, dt.time], ...]
    first_day: dt.date
    last_day: dt.date
    weekend: frozenset[int] = frozenset({5, 6})
    holidays: frozenset[dt.date] = frozenset()
    makeup_workdays: frozenset[dt.date] = frozenset()
    # Years whose days were not checked against the year's notice (see data/README.md).
    provisional_years: frozenset[int] = frozenset()
    tz: ZoneInfo = field(default=TZ)

    def __post_init__(self) -> None:
        if not self.periods:
            raise ValueError("a working calendar needs at least one working period")
        for start, end in self.periods:
            if end <= start:
                raise ValueError(f"working period {start}-{end} ends before it starts")
        if self.last_day < self.first_day:
            raise ValueError("a working calendar must cover at least one day")

    @classmethod
    def from_files(cls, base: dict, years: list[dict]) -> WorkingCalendar:  # type: ignore[type-arg]
        """The shared periods (``base``) and one dict per year; the years must be consecutive and
        each may only name days of its own year."""
        if not years:
            raise ValueError("the working calendar has no year (data/calendar_YYYY.json)")
        years = sorted(years, key=lambda y: int(y["year"]))
        numbers = [int(y["year"]) for y in years]
        if numbers != list(range(numbers[0], numbers[-1] + 1)):
            raise ValueError(
                f"the calendar's years must follow each other without a gap: {numbers}"
            )
        holidays: set[dt.date] = set()
        makeup: set[dt.date] = set()
        for y in years:
            for key, bucket in (("holidays", holidays), ("makeup_workdays", makeup)):
                for text in y.get(key, {}):
                    day = dt.date.fromisoformat(text)
                    if day.year != int(y["year"]):
                        raise ValueError(f"calendar_{y['year']}.json names {day} of another year")
                    bucket.add(day)
        return cls(
            periods=tuple((_hm(a), _hm(b)) for a, b in base["working_periods"]),
            first_day=dt.date(numbers[0], 1, 1),
            last_day=dt.date(numbers[-1], 12, 31),
            weekend=frozenset(int(d) for d in base.get("weekend", [5, 6])),
            holidays=frozenset(holidays),
            makeup_workdays=frozenset(makeup),
            provisional_years=frozenset(int(y["year"]) for y in years if y.get("provisional")),
            tz=ZoneInfo(base.get("timezone", "Asia/Shanghai")),
        )

    @cached_property
    def minutes_per_day(self) -> int:
        return sum(_minutes(b) - _minutes(a) for a, b in self.periods)

    def includes(self, day: dt.date) -> bool:
        return self.first_day <= day <= self.last_day

    def require_day(self, day: dt.date) -> None:
        if not self.includes(day):
            raise CalendarNotCovered(day, self.first_day, self.last_day)

    def is_working_day(self, day: dt.date) -> bool:
        self.require_day(day)
        if day in self.makeup_workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() not in self.weekend

    def add(self, start: dt.datetime, value: int | float, unit: str) -> dt.datetime:
        """``start`` plus ``value`` of ``unit`` (one of ``UNITS``); an aware datetime in self.tz."""
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        if unit == "calendar_hours":
            return (start + dt.timedelta(hours=float(value))).astimezone(self.tz)
        if unit == "calendar_days":
            return (start + dt.timedelta(days=float(value))).astimezone(self.tz)
        if unit == "working_hours":
            return self.add_minutes(start, float(value) * 60)
        if unit == "working_days":
            return self.add_minutes(start, float(value) * self.minutes_per_day)
        raise ValueError(f"unknown time-limit unit {unit!r}")

    @cached_property
    def _spans(self) -> tuple[tuple[dt.timedelta, dt.timedelta], ...]:
        """The working periods as offsets from midnight (arithmetic on them is exact and cheap)."""
        return tuple((_offset(a), _offset(b)) for a, b in self.periods)

    def add_minutes(self, start: dt.datetime, minutes: float) -> dt.datetime:
        """``start`` plus ``minutes`` of working time; ``CalendarNotCovered`` past the last year."""
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        local = start.astimezone(self.tz)
        day = local.date()
        clock = local - dt.datetime.combine(day, dt.time(0), self.tz)
        remaining = dt.timedelta(minutes=float(minutes))
        while True:
            if self.is_working_day(day):
                for a, b in self._spans:
                    begin = max(clock, a)
                    if begin >= b:
                        continue
                    if remaining <= b - begin:
                        return dt.datetime.combine(day, dt.time(0), self.tz) + begin + remaining
                    remaining -= b - begin
            day += _DAY
            clock = _ZERO

    def minutes_between(self, a: dt.datetime, b: dt.datetime, unit: str) -> float:
        """Minutes of ``unit``'s kind of time in [a, b): clock minutes for calendar units, working
        minutes for working units (0 if b <= a)."""
        if unit in CALENDAR_UNITS:
            return max(0.0, (b - a).total_seconds() / 60)
        if unit in WORKING_UNITS:
            return self.working_minutes_between(a, b)
        raise ValueError(f"unknown time-limit unit {unit!r}")

    def add_basis_minutes(self, start: dt.datetime, minutes: float, unit: str) -> dt.datetime:
        """``start`` plus ``minutes`` of ``unit``'s kind of time (the inverse of minutes_between)."""
        if unit in CALENDAR_UNITS:
            return self.add(start, minutes / 60, "calendar_hours")
        return self.add(start, minutes / 60, "working_hours")

    def working_minutes_between(self, a: dt.datetime, b: dt.datetime) -> float:
        """Working minutes in [a, b) (0 if b <= a)."""
        if b <= a:
            return 0.0
        a, b = a.astimezone(self.tz), b.astimezone(self.tz)
        total = _ZERO
        day, last = a.date(), b.date()
        while day <= last:
            if self.is_working_day(day):
                midnight = dt.datetime.combine(day, dt.time(0), self.tz)
                lo_clock = a - midnight if day == a.date() else _ZERO
                hi_clock = b - midnight if day == last else _DAY
                for p, q in self._spans:
                    lo, hi = max(lo_clock, p), min(hi_clock, q)
                    if hi > lo:
                        total += hi - lo
            day += _DAY
        return total.total_seconds() / 60


def _minutes(t: dt.time) -> int:
    return t.hour * 60 + t.minute


def _offset(t: dt.time) -> dt.timedelta:
    return dt.timedelta(hours=t.hour, minutes=t.minute)


_ZERO = dt.timedelta(0)
_DAY = dt.timedelta(days=1)


def load_calendar(directory: Path = DATA_DIR) -> WorkingCalendar:
    """The calendar of ``directory``: calendar.json and every calendar_YYYY.json beside it."""
    base = json.loads((directory / "calendar.json").read_text(encoding="utf-8"))
    years = []
    for path in sorted(directory.iterdir()):
        m = _YEAR_FILE.match(path.name)
        if m:
            data = json.loads(path.read_text(encoding="utf-8"))
            if int(data.get("year", 0)) != int(m.group(1)):
                raise ValueError(f"{path.name}: its year field says {data.get('year')!r}")
            years.append(data)
    return WorkingCalendar.from_files(base, years)


@lru_cache
def default_calendar() -> WorkingCalendar:
    return load_calendar()


def check_today(calendar: WorkingCalendar, today: dt.date | None = None) -> list[str]:
    """Start-up check: raises ``CalendarNotCovered`` when today is outside the calendar; returns
    warnings (Chinese, for the log) when today's year is provisional or the calendar ends within
    a month."""
    day = today or dt.datetime.now(calendar.tz).date()
    if not calendar.includes(day):
        raise CalendarNotCovered(day, calendar.first_day, calendar.last_day, at_start=True)
    warnings = []
    if day.year in calendar.provisional_years:
        warnings.append(
            f"{day.year} 年的工作日历为暂定（仅法定假日，未按当年国务院办公厅通知核对），"
            f"请核对 app/incidents/data/calendar_{day.year}.json"
        )
    if (calendar.last_day - day).days < 31:
        warnings.append(
            f"工作日历将于 {calendar.last_day.isoformat()} 结束，请补充下一年的节假日安排"
        )
    return warnings
