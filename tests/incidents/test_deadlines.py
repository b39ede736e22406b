"""Deadlines without the database: time bases, stage clocks, lights, extensions, 挂账 and the
calendar's coverage. Every expected time is worked out by hand from docs/domain.md#deadlines-and-
the-calendar and the State Council's holiday notices (2026 国庆: 1-7 October off, Saturday
10 October worked; working periods 09:00-12:00 and 13:30-17:30)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from app.incidents import deadlines as dl
from app.incidents.calendar import (
    DATA_DIR,
    TZ,
    CalendarNotCovered,
    check_today,
    default_calendar,
    load_calendar,
)
from app.incidents.categories import DEFAULT_FILE, read_category_file

CAL = default_calendar()
# The county defaults of data/deadlines.json, written out here so the expectations stay fixed.
STAGES = {
    "calendar": {
        "register": [0.5, "calendar_hours"],
        "dispatch": [0.5, "calendar_hours"],
        "verification": [2, "calendar_hours"],
    },
    "working": {
        "register": [1, "working_hours"],
        "dispatch": [1, "working_hours"],
        "verification": [1, "working_days"],
    },
}
POLICY = dl.Policy.from_dict({"stage_limits": STAGES, "max_extensions": 1, "amber_share": 0.2})


def t(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TZ)


@dataclass
class Case:
    """The fields of a case the deadline module reads and sets."""

    category_code: str
    limit_value: float
    limit_unit: str
    state: str = "reported"
    tier: int = 0
    deadline: dt.datetime = dt.datetime(2000, 1, 1, tzinfo=TZ)
    escalate_at: dt.datetime | None = None
    stage_started_at: dt.datetime | None = None
    stage_due_at: dt.datetime | None = None
    amber_at: dt.datetime | None = None
    paused_since: dt.datetime | None = None
    paused_minutes: int = 0
    pending_request: dict[str, Any] | None = None
    extension_count: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def reported(code: str, at: dt.datetime, *, urgent: bool = False) -> Case:
    cat = next(r for r in read_category_file(DEFAULT_FILE) if r["code"] == code)

    class Row:
        limit_value = cat["limit_value"]
        limit_unit = cat["limit_unit"]
        urgent_limit_value = cat["urgent_limit_value"]
        urgent_limit_unit = cat["urgent_limit_unit"]

    limit = dl.handling_limit(Row, urgent=urgent)
    clock = dl.intake_clock(at, code, limit, CAL, POLICY, tier=0)
    case = Case(category_code=code, limit_value=limit.value, limit_unit=limit.unit)
    for k, v in clock.items():
        setattr(case, k, v)
    return case


def move(case: Case, to: str, at: dt.datetime, action: str = "") -> None:
    before, case.state = case.state, to
    dl.after_move(case, action or to, before, at, CAL, POLICY)


# -- time basis per category ---------------------------------------------------------------------


def test_emergency_and_safety_classes_run_on_the_clock():
    units = {
        r["code"]: (r["limit_value"], r["limit_unit"]) for r in read_category_file(DEFAULT_FILE)
    }
    assert units["0701"] == (2, "calendar_hours")  # 火灾
    assert units["0202"] == (4, "calendar_hours")  # 燃气隐患
    assert units["0803"] == (4, "calendar_hours")  # 井盖缺失
    assert units["0704"] == (2, "calendar_hours")  # 群体性事件
    assert units["0401"] == (1, "working_days")  # 垃圾堆积: office hours are enough


def test_fire_at_18_before_national_day_is_due_the_same_evening():
    case = reported("0701", t(2026, 9, 30, 18, 0))
    # 2 hours on the clock, not 2 working hours (which would be 8 October 11:00).
    assert case.deadline == t(2026, 9, 30, 20, 0)
    # 受理立案 within half an hour, also on the clock.
    assert case.stage_due_at == t(2026, 9, 30, 18, 30)
    urgent = reported("0701", t(2026, 9, 30, 18, 0), urgent=True)
    assert urgent.deadline == t(2026, 9, 30, 19, 0)


def test_gas_leak_and_open_manhole_at_night_on_a_holiday():
    assert reported("0202", t(2026, 10, 3, 23, 0)).deadline == t(2026, 10, 4, 3, 0)
    assert reported("0803", t(2026, 10, 1, 22, 30)).deadline == t(2026, 10, 2, 2, 30)


def test_urgent_variant_of_a_working_time_class_can_run_on_the_clock():
    # 房屋安全隐患: 3 working days, urgent 4 hours on the clock (a house may fall on a Sunday).
    case = reported("0203", t(2026, 10, 4, 20, 0), urgent=True)
    assert case.deadline == t(2026, 10, 5, 0, 0)


def test_working_days_case_across_national_day():
    # 邻里纠纷, 5 working days from Wednesday 30 September 10:00: 1 → Thu 8 Oct, 2 → Fri 9,
    # 3 → Sat 10 (worked), 4 → Mon 12, 5 → Tue 13 October 10:00.
    case = reported("0101", t(2026, 9, 30, 10, 0))
    assert case.deadline == t(2026, 10, 13, 10, 0)
    # Its 受理立案 stage: one working hour, reported 30 September 17:00 → 8 October 09:30.
    late = reported("0101", t(2026, 9, 30, 17, 0))
    assert late.stage_due_at == t(2026, 10, 8, 9, 30)


def test_2025_national_day_is_in_the_calendar_too():
    # 2025: 1-8 October off, Saturday 11 October worked. Tue 30 Sep 2025 10:00 + 1 working day.
    assert CAL.add(t(2025, 9, 30, 10, 0), 1, "working_days") == t(2025, 10, 9, 10, 0)
    assert CAL.add(t(2025, 10, 10, 10, 0), 1, "working_days") == t(2025, 10, 11, 10, 0)


# -- stage clocks --------------------------------------------------------------------------------


def test_each_stage_counts_from_its_own_start():
    # 垃圾堆积 (1 working day) reported Tuesday 10 March 2026 09:00.
    case = reported("0401", t(2026, 3, 10, 9, 0))
    assert dl.stage_of(case) == "register" and case.stage_due_at == t(2026, 3, 10, 10, 0)
    move(case, "accepted", t(2026, 3, 10, 9, 20))
    assert case.stage_due_at == t(2026, 3, 10, 10, 0)  # same stage: the clock runs on
    move(case, "registered", t(2026, 3, 10, 9, 30))
    assert dl.stage_of(case) == "dispatch" and case.stage_due_at == t(2026, 3, 10, 10, 30)
    # Dispatched at 15:00: handling is due one working day later, counted from the dispatch.
    move(case, "dispatched", t(2026, 3, 10, 15, 0))
    assert case.stage_due_at == case.deadline == t(2026, 3, 11, 15, 0)
    move(case, "handling", t(2026, 3, 10, 16, 0))
    assert case.deadline == t(2026, 3, 11, 15, 0)  # starting work does not restart the clock
    # 改派 gives the new unit its full time: from 09:00 a whole working day ends at 17:30.
    move(case, "dispatched", t(2026, 3, 11, 9, 0), "reassign")
    assert case.deadline == t(2026, 3, 11, 17, 30)
    move(case, "handling", t(2026, 3, 11, 9, 30))
    move(case, "handled", t(2026, 3, 11, 10, 0))
    # 核查: one working day from 处置完毕; the handling deadline stays what it was.
    assert dl.stage_of(case) == "verification" and case.stage_due_at == t(2026, 3, 12, 10, 0)
    assert case.deadline == t(2026, 3, 11, 17, 30)
    move(case, "verified", t(2026, 3, 11, 11, 0))
    assert case.stage_due_at is None and dl.light(case, t(2026, 3, 11, 12, 0), CAL, POLICY) is None


def test_a_stage_limit_can_be_set_for_one_category():
    policy = dl.Policy.from_dict(
        {"stage_limits": STAGES, "categories": {"0701": {"register": [10, "calendar_hours"]}}}
    )
    clock = dl.intake_clock(
        t(2026, 9, 30, 18, 0), "0701", dl.Limit(2, "calendar_hours"), CAL, policy, tier=0
    )
    assert clock["stage_due_at"] == t(2026, 10, 1, 4, 0)


@pytest.mark.parametrize(
    "bad",
    [
        {"stage_limits": {"calendar": {}, "working": {}}},  # stages missing
        {"stage_limits": {"calendar": {"handling": [1, "calendar_hours"]}, "working": {}}},
        {"stage_limits": {"calendar": {"register": [1, "hours"]}, "working": {}}},
    ],
)
def test_a_broken_policy_file_is_refused(bad):
    with pytest.raises(ValueError):
        dl.Policy.from_dict(bad)


def test_the_shipped_policy_file_loads():
    policy = dl.default_policy()
    assert policy.max_extensions >= 0 and 0 <= policy.amber_share < 1


# -- lights --------------------------------------------------------------------------------------


def handling_case() -> Case:
    case = reported("0401", t(2026, 3, 10, 9, 0))
    move(case, "accepted", t(2026, 3, 10, 9, 10))
    move(case, "registered", t(2026, 3, 10, 9, 20))
    move(case, "dispatched", t(2026, 3, 10, 15, 0))  # due Wed 11 March 15:00
    move(case, "handling", t(2026, 3, 10, 15, 30))
    return case


def test_green_amber_red():
    case = handling_case()
    # Amber when a fifth of the 420 working minutes (84) or less is left.
    view = dl.light(case, t(2026, 3, 11, 13, 30), CAL, POLICY)
    assert view is not None
    assert (view.stage, view.light, view.basis) == ("handling", "green", "working_days")
    assert view.remaining_seconds == 90 * 60 and view.due_at == t(2026, 3, 11, 15, 0)
    assert dl.light(case, t(2026, 3, 11, 13, 40), CAL, POLICY).light == "amber"  # 80 min left
    red = dl.light(case, t(2026, 3, 11, 15, 30), CAL, POLICY)
    assert (red.light, red.light_label, red.remaining_seconds) == ("red", "超期", -30 * 60)
    # At lunch with 90 working minutes left the light stays green: the clock is not running.
    assert dl.light(case, t(2026, 3, 11, 12, 30), CAL, POLICY).light == "green"


# -- extensions and 挂账 -----------------------------------------------------------------------


def test_extension_request_approval_and_the_limit():
    case = handling_case()
    with pytest.raises(Exception) as no_reason:
        dl.apply_move(case, "request_extension", actor="cg1", note="  ", hours=7,
                      at=t(2026, 3, 10, 16, 0), calendar=CAL, policy=POLICY)  # fmt: skip
    assert getattr(no_reason.value, "status_code", None) == 422
    assert "理由" in str(no_reason.value)
    dl.apply_move(case, "request_extension", actor="cg1", note="需等待材料", hours=7,
                  at=t(2026, 3, 10, 16, 0), calendar=CAL, policy=POLICY)  # fmt: skip
    assert case.pending_request["kind"] == "extension"
    assert dl.refusal(case, "request_extension", POLICY) is not None  # one request at a time
    data = dl.apply_move(case, "approve_extension", actor="disp", note="", hours=None,
                         at=t(2026, 3, 10, 16, 30), calendar=CAL, policy=POLICY)  # fmt: skip
    # Seven working hours on top of Wednesday 15:00 → Thursday 15:00.
    assert case.deadline == case.stage_due_at == t(2026, 3, 12, 15, 0)
    assert data["new_due_at"] == t(2026, 3, 12, 15, 0).isoformat()
    assert case.extension_count == 1 and case.pending_request is None
    why = dl.refusal(case, "request_extension", POLICY)
    assert why is not None and "上限" in why


def test_a_refused_extension_changes_no_deadline():
    case = handling_case()
    dl.apply_move(case, "request_extension", actor="cg1", note="需等待材料", hours=7,
                  at=t(2026, 3, 10, 16, 0), calendar=CAL, policy=POLICY)  # fmt: skip
    dl.apply_move(case, "refuse_extension", actor="disp", note="时限内可以完成", hours=None,
                  at=t(2026, 3, 10, 16, 5), calendar=CAL, policy=POLICY)  # fmt: skip
    assert case.deadline == t(2026, 3, 11, 15, 0) and case.extension_count == 0
    assert case.pending_request is None


def test_suspension_stops_the_clock_and_resume_restarts_it():
    case = handling_case()  # due Wed 11 March 15:00
    dl.apply_move(case, "request_suspension", actor="cg1", note="需纳入年度改造计划", hours=None,
                  at=t(2026, 3, 10, 16, 0), calendar=CAL, policy=POLICY)  # fmt: skip
    dl.apply_move(case, "approve_suspension", actor="disp", note="", hours=None,
                  at=t(2026, 3, 10, 16, 30), calendar=CAL, policy=POLICY)  # fmt: skip
    # Stopped at Tue 16:30 with 1 h (Tue) + 4.5 h (Wed) = 330 working minutes left.
    view = dl.light(case, t(2026, 3, 20, 10, 0), CAL, POLICY)
    assert (view.light, view.remaining_seconds) == ("paused", 330 * 60)
    assert case.escalate_at is None  # the worker leaves it alone
    assert dl.refusal(case, "handle", POLICY) is not None  # nothing moves but 恢复
    # 恢复 on Monday 16 March 09:00: 330 minutes → 12:00 (180) + 13:30..16:00 (150).
    dl.apply_move(case, "resume", actor="disp", note="", hours=None,
                  at=t(2026, 3, 16, 9, 0), calendar=CAL, policy=POLICY)  # fmt: skip
    assert case.deadline == case.stage_due_at == t(2026, 3, 16, 16, 0)
    assert case.paused_since is None
    assert case.paused_minutes == (5 * 24 * 60 + 16 * 60 + 30)  # Tue 16:30 → Mon 09:00


def test_suspension_on_calendar_time():
    case = reported("0701", t(2026, 9, 30, 18, 0))
    move(case, "accepted", t(2026, 9, 30, 18, 5))
    move(case, "registered", t(2026, 9, 30, 18, 10))
    move(case, "dispatched", t(2026, 9, 30, 18, 20))  # due 20:20
    case.pending_request = {"kind": "suspension", "reason": "待消防部门勘查", "by": "u", "at": ""}
    dl.apply_move(case, "approve_suspension", actor="disp", note="", hours=None,
                  at=t(2026, 9, 30, 19, 0), calendar=CAL, policy=POLICY)  # fmt: skip
    dl.apply_move(case, "resume", actor="disp", note="", hours=None,
                  at=t(2026, 10, 1, 9, 0), calendar=CAL, policy=POLICY)  # fmt: skip
    assert case.deadline == t(2026, 10, 1, 10, 20)  # the 80 minutes left, from 09:00


# -- the calendar's coverage ---------------------------------------------------------------------


def test_working_time_beyond_the_calendar_is_an_error():
    assert (CAL.first_day, CAL.last_day) == (dt.date(2025, 1, 1), dt.date(2027, 12, 31))
    with pytest.raises(CalendarNotCovered) as exc:
        CAL.add(t(2027, 12, 31, 16, 0), 2, "working_hours")
    assert "2025-01-01 至 2027-12-31" in exc.value.message and "2028" in exc.value.message
    with pytest.raises(CalendarNotCovered):
        CAL.is_working_day(dt.date(2024, 12, 31))
    # Clock time needs no calendar: a fire reported on New Year's Eve 2027 is due in 2028.
    assert CAL.add(t(2027, 12, 31, 23, 0), 2, "calendar_hours") == t(2028, 1, 1, 1, 0)


def test_start_up_refuses_a_day_outside_the_calendar():
    with pytest.raises(CalendarNotCovered) as exc:
        check_today(CAL, dt.date(2028, 1, 3))
    assert exc.value.message == (
        "工作日历只覆盖 2025-01-01 至 2027-12-31，今天（2028-01-03）不在其中，服务拒绝启动；"
        "请管理员按国务院办公厅当年的节假日安排通知补充 app/incidents/data/calendar_2028.json 后重启"
    )
    assert check_today(CAL, dt.date(2026, 12, 1)) == []
    # 2027's days are the statutory ones only: start-up says so.
    (warning,) = check_today(CAL, dt.date(2027, 3, 1))
    assert "2027" in warning and "暂定" in warning
    assert any("2027-12-31" in w for w in check_today(CAL, dt.date(2027, 12, 15)))


def test_2027_statutory_holidays():
    assert not CAL.is_working_day(dt.date(2027, 2, 5))  # 除夕
    assert not CAL.is_working_day(dt.date(2027, 10, 1))
    assert CAL.is_working_day(dt.date(2027, 10, 8))
    assert 2027 in CAL.provisional_years and 2026 not in CAL.provisional_years


def _calendar_dir(tmp_path: Path, years: dict[int, dict[str, Any]]) -> Path:
    (tmp_path / "calendar.json").write_text(
        (DATA_DIR / "calendar.json").read_text("utf-8"), "utf-8"
    )
    for year, body in years.items():
        (tmp_path / f"calendar_{year}.json").write_text(json.dumps({"year": year, **body}))
    return tmp_path


def test_a_gap_between_years_is_refused(tmp_path):
    with pytest.raises(ValueError, match="gap"):
        load_calendar(_calendar_dir(tmp_path, {2025: {}, 2027: {}}))


def test_a_day_of_another_year_in_a_year_file_is_refused(tmp_path):
    with pytest.raises(ValueError, match="another year"):
        load_calendar(_calendar_dir(tmp_path, {2026: {"holidays": {"2027-01-01": "元旦"}}}))


def test_no_year_at_all_is_refused(tmp_path):
    with pytest.raises(ValueError, match="no year"):
        load_calendar(_calendar_dir(tmp_path, {}))


def test_a_waiting_request_lapses_when_the_clock_starts_again():
    case = handling_case()
    dl.apply_move(case, "request_extension", actor="cg1", note="需等待材料", hours=7,
                  at=t(2026, 3, 10, 16, 0), calendar=CAL, policy=POLICY)  # fmt: skip
    move(case, "dispatched", t(2026, 3, 10, 16, 30), "reassign")  # to another unit
    assert case.pending_request is None
    assert case.deadline == t(2026, 3, 11, 16, 30)  # the new unit's full working day
