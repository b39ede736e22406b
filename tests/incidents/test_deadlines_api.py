"""Deadlines through the API as pages see them: the case output's ``deadline`` (stage, due time,
light), stage clocks from the moves, extension requests decided by the dispatcher and their limit,
挂账 and 恢复, and every refusal. Times are fixed (the service's clock) and the expectations worked
out by hand (working periods 09:00-12:00 and 13:30-17:30, docs/domain.md#deadlines-and-the-calendar).

The case lies in grid G11 and is dispatched to 城管执法局 (dept-cgzf), whose handler is cg1.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text

from app.incidents import deadlines, intake, service
from app.incidents.calendar import TZ
from app.incidents.models import Incident
from tests.factories import TOWNSHIP
from tests.incidents.conftest import IN_G11
from tests.units.world import CG, add_units


def t(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TZ)


def when(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


@pytest.fixture
def clock(monkeypatch):  # type: ignore[no-untyped-def]
    """The service's clock, set by the test."""
    now = {"at": t(2026, 3, 10, 9, 0)}

    def set_to(at: dt.datetime) -> None:
        now["at"] = at

    monkeypatch.setattr(service, "now", lambda: now["at"])
    monkeypatch.setattr(intake, "now", lambda: now["at"])
    return set_to


@pytest.fixture
def people(db, county, token_for):  # type: ignore[no-untyped-def]
    add_units(db)
    db.commit()
    return {
        "D": token_for("dispatcher", TOWNSHIP, "disp"),
        "U": token_for("unit_handler", "419901", "cg1"),
        "C": token_for("dispatcher", "419901", "county_disp"),
    }


def move(api, who, case, action, **body):  # type: ignore[no-untyped-def]
    r = api.post(
        f"/api/v1/incidents/{case['id']}/transitions",
        json={"action": action, "version": case["version"], **body},
        headers=who,
    )
    return r


def ok(api, who, case, action, **body):  # type: ignore[no-untyped-def]
    r = move(api, who, case, action, **body)
    assert r.status_code == 200, (action, r.text)
    return r.json()


def actions(api, who, case) -> set[str]:  # type: ignore[no-untyped-def]
    r = api.get(f"/api/v1/incidents/{case['id']}", headers=who)
    assert r.status_code == 200, r.text
    return {a["action"] for a in r.json()["actions"]}


@pytest.fixture
def in_handling(api, people, report, clock):  # type: ignore[no-untyped-def]
    """垃圾堆积 (1 working day) reported Tue 10 March 2026 09:00, dispatched at 15:00 and started
    at 15:30 by 城管执法局: handling is due Wed 11 March 15:00."""
    d, u = people["D"], people["U"]
    clock(t(2026, 3, 10, 9, 0))
    case = report("0401")
    clock(t(2026, 3, 10, 9, 10))
    case = ok(api, d, case, "accept")
    clock(t(2026, 3, 10, 9, 20))
    case = ok(api, d, case, "register")
    clock(t(2026, 3, 10, 15, 0))
    case = ok(api, d, case, "dispatch", unit=CG)
    clock(t(2026, 3, 10, 15, 30))
    return ok(api, u, case, "start")


def test_reported_case_carries_its_first_stage(api, people, report, clock):
    clock(t(2026, 3, 10, 9, 0))
    case = report("0401")
    view = case["deadline"]
    assert (view["stage"], view["stage_label"], view["light"]) == ("register", "受理立案", "green")
    assert when(view["due_at"]) == t(2026, 3, 10, 10, 0)  # one working hour
    assert view["remaining_seconds"] == 3600 and view["basis"] == "working_hours"
    # Handling as if dispatched at once: one working day from 09:00 ends at 17:30.
    assert when(case["due_at"]) == t(2026, 3, 10, 17, 30)


def test_handling_counts_from_dispatch(api, people, in_handling):
    view = in_handling["deadline"]
    assert (view["stage"], view["light"], view["basis"]) == ("handling", "green", "working_days")
    assert when(view["due_at"]) == t(2026, 3, 11, 15, 0)
    assert when(in_handling["due_at"]) == t(2026, 3, 11, 15, 0)
    assert view["started_at"] and when(view["started_at"]) == t(2026, 3, 10, 15, 0)
    assert (view["extension_count"], view["extensions_left"], view["pending_request"]) == (
        0,
        1,
        None,
    )


def test_light_turns_amber_then_red(api, people, in_handling, clock):
    d = people["D"]
    url = f"/api/v1/incidents/{in_handling['id']}"
    clock(t(2026, 3, 11, 13, 40))  # 80 working minutes left of 420: under a fifth
    assert api.get(url, headers=d).json()["deadline"]["light"] == "amber"
    clock(t(2026, 3, 11, 15, 1))
    view = api.get(url, headers=d).json()["deadline"]
    assert (view["light"], view["remaining_seconds"]) == ("red", -60)
    listed = api.get("/api/v1/incidents", params={"state": "handling"}, headers=d).json()["data"]
    assert next(c for c in listed if c["id"] == in_handling["id"])["deadline"]["light"] == "red"


def test_lists_built_in_sql_show_the_same_light(api, db, people, in_handling):
    # Amber from Wednesday 13:36, when 84 working minutes (a fifth of 420) are left.
    for at, colour in [
        (t(2026, 3, 11, 12, 30), "green"),  # lunch: 90 working minutes left
        (t(2026, 3, 11, 13, 35), "green"),
        (t(2026, 3, 11, 13, 36), "amber"),
        (t(2026, 3, 11, 15, 0), "red"),
    ]:
        got = db.execute(
            select(deadlines.light_sql(Incident, at)).where(Incident.id == in_handling["id"])
        ).scalar_one()
        assert got == colour, at
    layer = api.get("/api/v1/layers/cases", headers=people["D"]).json()
    (feature,) = [f for f in layer["features"] if f["id"] == in_handling["id"]]
    assert feature["properties"]["light"] in ("green", "amber", "red")
    assert when(feature["properties"]["stage_due_at"]) == t(2026, 3, 11, 15, 0)


def test_fire_reported_at_18_before_a_holiday(api, people, report, clock):
    clock(t(2026, 9, 30, 18, 0))
    case = report("0701")
    assert when(case["due_at"]) == t(2026, 9, 30, 20, 0)  # not 8 October 11:00
    view = case["deadline"]
    assert (view["stage"], view["basis"], view["light"]) == ("register", "calendar_hours", "green")
    assert when(view["due_at"]) == t(2026, 9, 30, 18, 30)
    clock(t(2026, 9, 30, 18, 25))  # 5 of 30 minutes left
    again = api.get(f"/api/v1/incidents/{case['id']}", headers=people["D"]).json()
    assert again["deadline"]["light"] == "amber"


def test_extension_requested_approved_and_limited(api, db, people, in_handling, clock):
    d, u = people["D"], people["U"]
    case = in_handling
    assert {"request_extension", "request_suspension"} <= actions(api, u, case)
    assert not {"approve_extension", "refuse_extension", "resume"} & actions(api, d, case)

    # Without a reason or without the hours: 422 in Chinese, nothing written.
    r = move(api, u, case, "request_extension", extension_hours=7)
    assert r.status_code == 422 and "理由" in r.json()["detail"]
    r = move(api, u, case, "request_extension", note="等待材料")
    assert r.status_code == 422 and "extension_hours" in r.json()["detail"]
    r = move(api, u, case, "request_extension", extension_hours=7, note="   ")
    assert r.status_code == 422

    clock(t(2026, 3, 10, 16, 0))
    case = ok(api, u, case, "request_extension", extension_hours=7, note="需等待住建局出具意见")
    pending = case["deadline"]["pending_request"]
    assert (pending["kind"], pending["hours"], pending["by"]) == ("extension", 7, "cg1")
    assert when(case["deadline"]["due_at"]) == t(2026, 3, 11, 15, 0)  # unchanged until approved
    assert not {"request_extension", "request_suspension"} & actions(api, u, case)
    assert {"approve_extension", "refuse_extension"} <= actions(api, d, case)
    r = move(api, u, case, "approve_extension")  # the handler cannot approve their own request
    assert r.status_code == 409

    clock(t(2026, 3, 10, 16, 30))
    case = ok(api, d, case, "approve_extension")
    # Seven working hours on top of Wednesday 15:00 → Thursday 12 March 15:00.
    assert when(case["deadline"]["due_at"]) == t(2026, 3, 12, 15, 0)
    assert when(case["due_at"]) == t(2026, 3, 12, 15, 0)
    assert (case["extension_count"], case["deadline"]["extensions_left"]) == (1, 0)
    assert case["deadline"]["pending_request"] is None

    # The limit (one extension): neither the handler nor the dispatcher may extend again.
    assert "request_extension" not in actions(api, u, case)
    assert "extend" not in actions(api, d, case)
    r = move(api, u, case, "request_extension", extension_hours=2, note="还需两小时")
    assert r.status_code == 409 and "上限" in r.json()["detail"]

    hist = api.get(f"/api/v1/incidents/{case['id']}/history", headers=d).json()
    req, dec = hist[-2], hist[-1]
    assert (req["action"], req["actor"], req["data"]["reason"]) == (
        "request_extension",
        "cg1",
        "需等待住建局出具意见",
    )
    assert (dec["action"], dec["actor"], dec["data"]["requested_by"]) == (
        "approve_extension",
        "disp",
        "cg1",
    )
    assert when(dec["data"]["new_due_at"]) == t(2026, 3, 12, 15, 0)
    escalate_at = db.execute(
        text("SELECT escalate_at FROM incidents WHERE id = :i"), {"i": case["id"]}
    ).scalar_one()
    assert escalate_at == t(2026, 3, 12, 15, 0)  # the worker escalates at the new due time


def test_extension_refused_needs_a_reason_and_changes_nothing(api, people, in_handling, clock):
    d, u = people["D"], people["U"]
    clock(t(2026, 3, 10, 16, 0))
    case = ok(api, u, in_handling, "request_extension", extension_hours=7, note="等待材料")
    r = move(api, d, case, "refuse_extension")
    assert r.status_code == 422 and "理由" in r.json()["detail"]
    case = ok(api, d, case, "refuse_extension", note="时限内可以完成")
    assert when(case["deadline"]["due_at"]) == t(2026, 3, 11, 15, 0)
    assert case["extension_count"] == 0 and case["deadline"]["pending_request"] is None
    assert "request_extension" in actions(api, u, case)  # may ask again


def test_the_tier_above_may_decide(api, people, in_handling, clock):
    clock(t(2026, 3, 10, 16, 0))
    case = ok(api, people["U"], in_handling, "request_extension", extension_hours=3, note="待协调")
    r = move(api, people["C"], case, "approve_extension", extension_hours=5)  # more than asked
    assert r.status_code == 422 and "不能超过申请的 3 小时" in r.json()["detail"]
    case = ok(api, people["C"], case, "approve_extension", extension_hours=2)  # grants less
    # Wednesday 15:00 + 2 working hours = 17:00.
    assert when(case["deadline"]["due_at"]) == t(2026, 3, 11, 17, 0)


def test_suspension_stops_the_clock_until_resumed(api, db, people, in_handling, clock):
    d, u = people["D"], people["U"]
    r = move(api, u, in_handling, "request_suspension")
    assert r.status_code == 422 and "理由" in r.json()["detail"]
    clock(t(2026, 3, 10, 16, 0))
    case = ok(api, u, in_handling, "request_suspension", note="需纳入年度道路改造计划")
    assert case["deadline"]["pending_request"]["kind"] == "suspension"
    clock(t(2026, 3, 10, 16, 30))
    case = ok(api, d, case, "approve_suspension")
    # Stopped on Tuesday 16:30 with 60 + 270 = 330 working minutes left.
    clock(t(2026, 3, 13, 10, 0))
    view = api.get(f"/api/v1/incidents/{case['id']}", headers=d).json()["deadline"]
    assert (view["light"], view["light_label"], view["remaining_seconds"]) == (
        "paused",
        "挂账",
        330 * 60,
    )
    assert actions(api, d, case) == {"resume"}
    assert actions(api, u, case) == set()
    r = move(api, u, case, "handle")
    assert r.status_code == 409 and "挂账" in r.json()["detail"]
    row = db.execute(
        text("SELECT escalate_at, paused_since FROM incidents WHERE id = :i"), {"i": case["id"]}
    ).one()
    assert row.escalate_at is None and row.paused_since == t(2026, 3, 10, 16, 30)

    # 恢复 on Monday 16 March 09:00: 330 minutes → 09:00-12:00 (180) and 13:30-16:00 (150).
    clock(t(2026, 3, 16, 9, 0))
    case = ok(api, d, case, "resume")
    view = case["deadline"]
    assert (view["light"], view["stage"]) == ("green", "handling")
    assert when(view["due_at"]) == t(2026, 3, 16, 16, 0) == when(case["due_at"])
    assert {"handle", "request_extension"} <= actions(api, u, case)
    hist = api.get(f"/api/v1/incidents/{case['id']}/history", headers=d).json()
    assert [e["action"] for e in hist[-3:]] == [
        "request_suspension",
        "approve_suspension",
        "resume",
    ]


def test_suspension_refused(api, people, in_handling, clock):
    d, u = people["D"], people["U"]
    case = ok(api, u, in_handling, "request_suspension", note="需纳入年度计划")
    case = ok(api, d, case, "refuse_suspension", note="属于日常维护，应按期完成")
    assert case["deadline"]["light"] != "paused" and case["deadline"]["pending_request"] is None
    assert "resume" not in actions(api, d, case)


def test_meta_labels_the_stages_and_time_units(api):
    meta = api.get("/api/v1/meta").json()
    assert meta["stages"] == {
        "register": "受理立案",
        "dispatch": "派遣",
        "handling": "处置",
        "verification": "核查",
    }
    assert meta["time_units"]["calendar_hours"] == "小时（自然时间）"
    assert meta["time_units"]["working_days"] == "工作日"
    assert meta["transitions"]["request_suspension"] == "申请挂账"


def test_a_deadline_beyond_the_calendar_is_refused_and_nothing_is_written(
    api, db, people, report, clock
):
    clock(t(2027, 12, 31, 16, 0))
    before = db.execute(text("SELECT count(*) FROM incidents")).scalar_one()
    # 垃圾堆积 runs on working time: its first stage (one working hour) ends in 2028.
    r = api.post(
        "/api/v1/incidents",
        json={"category_code": "0401", "description": "垃圾堆积", **IN_G11},
        headers=people["D"],
    )
    assert r.status_code == 503, r.text
    assert "2025-01-01 至 2027-12-31" in r.json()["detail"]
    assert "calendar_2028.json" in r.json()["detail"]
    assert db.execute(text("SELECT count(*) FROM incidents")).scalar_one() == before
    # A fire runs on the clock and needs no calendar.
    fire = report("0701")
    assert when(fire["due_at"]) == t(2027, 12, 31, 18, 0)


def test_a_suspended_case_is_not_overdue_while_its_clock_is_stopped(
    api, people, in_handling, clock
):
    d, u = people["D"], people["U"]
    case = ok(api, u, in_handling, "request_suspension", note="需纳入年度计划")
    clock(t(2026, 3, 10, 16, 30))
    case = ok(api, d, case, "approve_suspension")
    clock(t(2026, 4, 1, 9, 0))  # long after the handling deadline of 11 March
    again = api.get(f"/api/v1/incidents/{case['id']}", headers=d).json()
    assert again["overdue"] is False and again["deadline"]["light"] == "paused"


def test_demo_cases_have_their_clock(api, db):
    from app.incidents.demo import demo_incidents_step

    demo_incidents_step(db)
    missing = db.execute(
        text(
            "SELECT count(*) FROM incidents WHERE source = 'demo' AND state IN ('reported', "
            "'accepted', 'registered', 'dispatched', 'handling', 'handled') "
            "AND (stage_due_at IS NULL OR amber_at IS NULL OR limit_unit IS NULL)"
        )
    ).scalar_one()
    closed = db.execute(
        text(
            "SELECT count(*) FROM incidents WHERE source = 'demo' AND state IN ('closed', "
            "'evaluated', 'verified', 'rejected', 'voided') AND stage_due_at IS NOT NULL"
        )
    ).scalar_one()
    assert (missing, closed) == (0, 0)
