"""Dispatch to a responsible unit and a person from the picker, 退回 with a reason, 改派, and
escalation to the next tier's unit (docs/domain.md#responsible-units)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.factories import C1, G11, G21, TOWNSHIP
from tests.units.world import CG, PCS, ZJ, staff_id


def _move(api, headers, case, action, **kw):  # type: ignore[no-untyped-def]
    body = {"action": action, "version": case["version"], **kw}
    return api.post(f"/api/v1/incidents/{case['id']}/transitions", json=body, headers=headers)


def _events(db, case_id: int) -> list[tuple[str, dict]]:
    rows = db.execute(
        text("SELECT action, data FROM incident_events WHERE incident_id = :i ORDER BY id"),
        {"i": case_id},
    )
    return [(a, d) for a, d in rows]


@pytest.fixture
def d(token_for):  # type: ignore[no-untyped-def]
    return token_for("dispatcher", "419901", "disp")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "unit: “派遣”需要填写承办单位"),
        ({"unit": "dept-nope"}, "unit: 承办单位 dept-nope 不存在"),
        (
            {"unit": PCS},  # 和平派出所 serves C2 only; the case is in C1
            f"unit: 承办单位“和平派出所”（{PCS}）的辖区不包含本案所在网格 {G11}",
        ),
        (
            {"unit": "grid-" + G21},
            f"unit: 承办单位“和平社区第1网格”（grid-{G21}）的辖区不包含本案所在网格 {G11}",
        ),
        (
            {"unit": CG, "assignee": "张三不存在"},
            f"assignee: 张三不存在 不是“城管执法局”（{CG}）当前在岗的人员",
        ),
        ({"unit": CG, "assignee": "zj1"}, f"assignee: zj1 不是“城管执法局”（{CG}）当前在岗的人员"),
        (
            {"unit": ZJ, "assignee": "zj_old"},
            f"assignee: zj_old 不是“住建局”（{ZJ}）当前在岗的人员",
        ),
    ],
)
def test_a_dispatch_to_a_wrong_unit_or_person_is_422_and_writes_nothing(
    api, db, d, registered, body, message
):
    case = registered()
    before = _events(db, case["id"])
    r = _move(api, d, case, "dispatch", **body)
    assert r.status_code == 422, r.text
    assert r.json()["detail"] == message
    now = api.get(f"/api/v1/incidents/{case['id']}", headers=d).json()
    assert (now["state"], now["version"], now["unit_code"], now["assignee"]) == (
        "registered",
        case["version"],
        None,
        None,
    )
    assert _events(db, case["id"]) == before


def test_an_inactive_unit_is_refused(api, db, d, registered):
    db.execute(text("UPDATE units SET active = false WHERE code = :c"), {"c": ZJ})
    db.commit()
    r = _move(api, d, registered(), "dispatch", unit=ZJ)
    assert (r.status_code, r.json()["detail"]) == (422, f"unit: 承办单位“住建局”（{ZJ}）已停用")


def test_dispatch_to_a_unit_and_its_member(api, db, d, registered):
    case = registered()
    r = _move(api, d, case, "dispatch", unit=CG, assignee="cg1", note="请核实")
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["state"], out["unit_code"], out["unit_name"], out["assignee"]) == (
        "dispatched",
        CG,
        "城管执法局",
        "cg1",
    )
    assert _events(db, case["id"])[-1] == (
        "dispatch",
        {"from_unit": None, "unit": CG, "assignee": "cg1"},
    )
    payload = db.execute(
        text("SELECT payload FROM incident_outbox WHERE incident_id = :i ORDER BY id DESC LIMIT 1"),
        {"i": case["id"]},
    ).scalar_one()
    assert (payload["action"], payload["unit_code"], payload["assignee"]) == ("dispatch", CG, "cg1")


def test_a_grid_worker_of_the_grid_is_staff_of_its_unit(api, db, d, registered, token_for):
    """李娜 (S2) works in G11: a dispatch may name her account under G11's unit, and she then
    starts it; 陈静 (S3, G21) may not be named there."""
    w = token_for("grid_worker", TOWNSHIP, "gw", staff_id=staff_id(db, "S2"))
    token_for("grid_worker", TOWNSHIP, "gw21", staff_id=staff_id(db, "S3"))
    case = registered()
    r = _move(api, d, case, "dispatch", unit="grid-" + G11, assignee="gw21")
    assert r.status_code == 422
    r = _move(api, d, case, "dispatch", unit="grid-" + G11, assignee="gw")
    assert r.status_code == 200, r.text
    assert _move(api, w, r.json(), "start").json()["state"] == "handling"


def test_the_unit_returns_with_a_reason_and_the_dispatcher_reassigns(
    api, db, d, registered, token_for
):
    u = token_for("unit_handler", "419901", "cg1")
    case = _move(api, d, registered(), "dispatch", unit=CG).json()
    r = _move(api, u, case, "return")
    assert (r.status_code, r.json()["detail"]) == (422, "note: “退回”需要填写理由（备注）")
    r = _move(api, u, case, "return", note="  ")
    assert r.status_code == 422
    r = _move(api, u, case, "return", note="属于物业管理范围，不属城管职责")
    assert r.status_code == 200, r.text
    case = r.json()
    assert (case["state"], case["unit_code"], case["assignee"]) == ("returned", None, None)
    assert _events(db, case["id"])[-1] == (
        "return",
        {"unit": CG, "assignee": None, "reason": "属于物业管理范围，不属城管职责"},
    )
    # Back with the dispatcher: the unit no longer sees it; the dispatcher's next move is 改派.
    assert api.get(f"/api/v1/incidents/{case['id']}", headers=u).status_code == 404
    assert [a["action"] for a in case["actions"]] == []
    seen = api.get(f"/api/v1/incidents/{case['id']}", headers=d).json()
    assert {a["action"] for a in seen["actions"]} == {"reassign", "escalate"}
    reassign = next(a for a in seen["actions"] if a["action"] == "reassign")
    assert (reassign["label"], reassign["needs"]) == ("改派", ["unit", "assignee?", "note?"])
    r = _move(api, d, case, "reassign", unit="community-" + C1)
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["unit_code"]) == ("dispatched", "community-" + C1)
    assert _events(db, case["id"])[-1] == (
        "reassign",
        {"from_unit": None, "unit": "community-" + C1, "assignee": None},
    )


def test_a_unit_handler_sees_only_the_cases_of_their_unit(api, d, registered, token_for):
    mine = _move(api, d, registered(), "dispatch", unit=CG).json()
    other = _move(api, d, registered(), "dispatch", unit=ZJ).json()
    u = token_for("unit_handler", "419901", "cg1")
    listed = api.get("/api/v1/incidents", headers=u).json()
    assert [c["id"] for c in listed["data"]] == [mine["id"]] and listed["count"] == 1
    assert api.get(f"/api/v1/incidents/{other['id']}", headers=u).status_code == 404
    assert api.get(f"/api/v1/incidents/{mine['id']}/history", headers=u).status_code == 200
    assert _move(api, u, other, "start").status_code == 404
    item = listed["data"][0]
    assert {a["action"] for a in item["actions"]} >= {"start", "return"}


def test_escalation_hands_the_case_to_the_next_tier_unit(api, db, d, registered):
    case = _move(api, d, registered(), "dispatch", unit="community-" + C1).json()
    assert case["tier"] == "community"  # 0103 物业纠纷 starts at the community
    r = _move(api, d, case, "escalate")
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["tier"], out["unit_code"], out["supervised"]) == (
        "township",
        "township-" + TOWNSHIP,
        True,
    )
    action, data = _events(db, case["id"])[-1]
    assert (action, data["from_unit"], data["unit"]) == (
        "escalate",
        "community-" + C1,
        "township-" + TOWNSHIP,
    )
    payload = db.execute(
        text("SELECT payload FROM incident_outbox WHERE incident_id = :i ORDER BY id DESC LIMIT 1"),
        {"i": case["id"]},
    ).scalar_one()
    assert payload["unit_code"] == "township-" + TOWNSHIP


def test_the_worker_escalation_sweep_moves_the_unit_too(api, db, d, registered):
    """The background sweep's statement (app/incidents/worker.py), run in the test's transaction:
    an overdue case with the community's unit goes to the township's, the person assigned is
    cleared, and the history and the notification name the new unit."""
    import datetime as dt

    from app.incidents.worker import _SWEEP

    case = _move(api, d, registered(), "dispatch", unit="community-" + C1).json()
    db.execute(
        text("UPDATE incidents SET escalate_at = now() - interval '1 minute' WHERE id = :i"),
        {"i": case["id"]},
    )
    assert db.execute(_SWEEP, {"now": dt.datetime.now(dt.UTC), "batch": 100}).scalar_one() >= 1
    row = db.execute(
        text("SELECT tier, unit_code, supervised FROM incidents WHERE id = :i"), {"i": case["id"]}
    ).one()
    assert tuple(row) == (2, "township-" + TOWNSHIP, True)
    action, data = _events(db, case["id"])[-1]
    assert (action, data) == ("escalate", {"to_tier": "township", "unit": "township-" + TOWNSHIP})
    payload = db.execute(
        text("SELECT payload FROM incident_outbox WHERE incident_id = :i ORDER BY id DESC LIMIT 1"),
        {"i": case["id"]},
    ).scalar_one()
    assert payload["unit_code"] == "township-" + TOWNSHIP


def test_on_site_check_by_the_grid_worker(api, db, d, registered, token_for):
    u = token_for("unit_handler", "419901", "cg1")
    w = token_for("grid_worker", TOWNSHIP, "gw", staff_id=staff_id(db, "S2"))
    case = _move(api, d, registered(), "dispatch", unit=CG).json()
    case = _move(api, u, case, "start").json()
    case = _move(api, u, case, "handle").json()
    case = _move(api, d, case, "request_check").json()
    assert case["state"] == "checking"
    seen = api.get(f"/api/v1/incidents/{case['id']}", headers=w).json()
    assert {a["action"] for a in seen["actions"]} == {"check_pass", "check_fail"}
    r = _move(api, w, case, "check_fail")
    assert (r.status_code, r.json()["detail"]) == (422, "note: “核查未解决”需要填写理由（备注）")
    case = _move(api, w, case, "check_fail", note="楼道仍有杂物").json()
    assert (case["state"], case["rework_count"]) == ("handling", 1)
    case = _move(api, u, case, "handle").json()
    case = _move(api, d, case, "request_check").json()
    case = _move(api, w, case, "check_pass").json()
    assert case["state"] == "verified"


def test_reopen_goes_back_to_the_unit(api, db, d, registered, token_for):
    u = token_for("unit_handler", "419901", "cg1")
    case = _move(api, d, registered(), "dispatch", unit=CG).json()
    for who, action, kw in (
        (u, "start", {}),
        (u, "handle", {}),
        (d, "verify", {}),
        (d, "close", {}),
    ):
        case = _move(api, who, case, action, **kw).json()
    r = _move(api, d, case, "reopen")
    assert r.status_code == 422
    case = _move(api, d, case, "reopen", note="居民反映问题仍在").json()
    assert (case["state"], case["unit_code"], case["handled_at"], case["closed_at"]) == (
        "dispatched",
        CG,
        None,
        None,
    )
