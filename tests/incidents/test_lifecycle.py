"""Around the lifecycle: jurisdiction, masking, versions, history, outbox, a whole loop.

Which caller may make which move in which state, and where it leads, is the golden table
(tests/incidents/test_lifecycle_golden.py), written by hand from docs/domain.md#incident-lifecycle.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.factories import C1, C2, TOWNSHIP
from tests.units.world import CG, add_units, staff_id

EXTRA = {
    "dispatch": {"unit": CG},
    "reassign": {"unit": CG},
    "extend": {"extension_hours": 4, "note": "需协调施工队"},
    "evaluate": {"satisfaction": "satisfied"},
    "rework": {"note": "仍有垃圾"},
    "void": {"note": "重复上报"},
}


def _force_state(db, case_id: int, state: str) -> None:
    db.execute(text("UPDATE incidents SET state = :s WHERE id = :i"), {"s": state, "i": case_id})
    db.commit()


def _move(api, headers, case, action, **kw):
    body = {"action": action, "version": case["version"], **EXTRA.get(action, {}), **kw}
    return api.post(f"/api/v1/incidents/{case['id']}/transitions", json=body, headers=headers)


def test_a_role_that_makes_no_such_move_is_told_who_may(api, report, token_for):
    """A move refused for the role is a 409 like any move outside the caller's moves: it names who
    may make it, and lists what this caller may do (nothing, for an auditor)."""
    case = report()
    r = _move(api, token_for("auditor", C1), case, "accept")
    assert r.status_code == 409
    assert r.json()["detail"] == "“受理”仅限指挥调度员；当前角色为督查审计员；您可执行的操作：无"
    assert r.json()["context"]["allowed"] == []
    r = _move(api, token_for("county_admin", C1), case, "resolve_on_spot")
    assert r.json()["detail"] == "“自行处置”仅限网格员；当前角色为县级管理员；您可执行的操作：无"


def test_outside_jurisdiction_is_answered_as_missing(api, report, token_for):
    """A case in C1 is, for a caller in C2, exactly what a case that does not exist is: a 404
    that names nothing (not its case number, not its grid)."""
    case = report()  # in community C1
    outside = {role: token_for(role, C2) for role in ("dispatcher", "auditor", "grid_worker")}
    missing = case["id"] + 10_000
    for path in ("", "/history", "/photos/0"):
        for headers in outside.values():
            r = api.get(f"/api/v1/incidents/{case['id']}{path}", headers=headers)
            gone = api.get(f"/api/v1/incidents/{missing}{path}", headers=headers)
            assert (r.status_code, r.json()) == (404, gone.json()), path
            assert r.json()["detail"] == "事件不存在"
            assert case["case_no"] not in r.text and case["grid_code"] not in r.text
    r = _move(api, outside["dispatcher"], case, "accept")
    assert r.status_code == 404 and r.json()["detail"] == "事件不存在"
    assert case["case_no"] not in r.text and case["grid_code"] not in r.text
    listed = api.get("/api/v1/incidents", headers=outside["dispatcher"]).json()
    assert listed["count"] == 0 and listed["data"] == []
    # The same case, from inside its community, moves.
    assert _move(api, token_for("dispatcher", C1), case, "accept").status_code == 200


def test_area_outside_jurisdiction_is_refused(api, report, token_for):
    report()
    h = token_for("dispatcher", C2)
    r = api.get("/api/v1/incidents", params={"area": C1}, headers=h)
    assert r.status_code == 403 and r.json()["detail"] == f"区域 {C1} 不在您的辖区内"
    inside = api.get("/api/v1/incidents", params={"area": C1}, headers=token_for("dispatcher"))
    assert inside.json()["count"] == 1


def test_planners_and_the_public_read_no_cases(api, report, token_for):
    case = report()
    for role in ("planner", "public"):
        h = token_for(role, C1)
        assert api.get("/api/v1/incidents", headers=h).status_code == 403
        assert api.get(f"/api/v1/incidents/{case['id']}", headers=h).status_code == 403
    assert api.get(f"/api/v1/incidents/{case['id']}").status_code == 401


def test_reporter_contact_masked_for_auditors(api, token_for):
    body = {
        "category_code": "0401",
        "description": "垃圾堆积",
        "lng": 113.002,
        "lat": 34.005,
        "crs": "cgcs2000",
        "reporter_name": "王小明",
        "reporter_phone": "13712345678",
    }
    case = api.post("/api/v1/incidents", json=body, headers=token_for("dispatcher")).json()
    seen = {
        role: api.get(f"/api/v1/incidents/{case['id']}", headers=token_for(role, C1)).json()
        for role in ("dispatcher", "auditor")
    }
    assert (seen["dispatcher"]["reporter_name"], seen["dispatcher"]["reporter_phone"]) == (
        "王小明",
        "13712345678",
    )
    assert (seen["auditor"]["reporter_name"], seen["auditor"]["reporter_phone"]) == (
        "王*明",
        "137****5678",
    )


def test_stale_version_is_409(api, report, token_for):
    case = report()
    h = token_for("dispatcher")
    assert _move(api, h, case, "accept").status_code == 200
    r = _move(api, h, case, "void")  # still sends version 1
    assert r.status_code == 409 and r.json()["context"]["current_version"] == 2


def test_full_loop_with_rework_extension_and_evaluation(api, db, report, token_for):
    add_units(db)
    db.commit()
    d = token_for("dispatcher")
    u = token_for("unit_handler", "419901", "cg1")
    case = report("0103")  # 物业纠纷: handled without a photo
    steps = [
        (d, "accept"), (d, "register"), (d, "dispatch"), (u, "start"), (d, "extend"),
        (u, "handle"), (d, "rework"), (u, "handle"), (d, "verify"), (d, "close"), (d, "evaluate"),
    ]  # fmt: skip
    for headers, action in steps:
        r = _move(api, headers, case, action)
        assert r.status_code == 200, (action, r.text)
        case = r.json()
    assert case["state"] == "evaluated"
    assert [a["action"] for a in case["actions"]] == ["reopen"]
    assert (case["rework_count"], case["extension_count"], case["satisfaction"]) == (
        1,
        1,
        "satisfied",
    )
    assert (case["unit_code"], case["unit_name"]) == (CG, "城管执法局")
    hist = api.get(f"/api/v1/incidents/{case['id']}/history", headers=d).json()
    assert [e["action"] for e in hist] == ["report"] + [a for _, a in steps]


def test_grid_worker_handles_a_case_of_their_grid_unit(api, db, report, token_for):
    """A case dispatched to a grid's unit is handled by the grid's workers (their staff record
    serves the grid), not by a worker of another grid."""
    add_units(db)
    db.commit()
    d = token_for("dispatcher")
    case = report()
    for action, kw in (
        ("accept", {}),
        ("register", {}),
        ("dispatch", {"unit": "grid-419901001001001"}),
    ):
        case = _move(api, d, case, action, **kw).json()
    other = token_for("grid_worker", TOWNSHIP, "gw21", staff_id=staff_id(db, "S3"))
    mine = token_for("grid_worker", TOWNSHIP, "gw", staff_id=staff_id(db, "S2"))
    seen = api.get(f"/api/v1/incidents/{case['id']}", headers=other).json()
    assert seen["actions"] == []
    assert _move(api, other, case, "start").status_code == 409
    seen = api.get(f"/api/v1/incidents/{case['id']}", headers=mine).json()
    assert {"start", "return"} <= {a["action"] for a in seen["actions"]}
    assert _move(api, mine, case, "start").json()["state"] == "handling"


def test_missing_transition_data_is_422(api, db, report, token_for):
    case = report()
    _force_state(db, case["id"], "handling")
    r = api.post(
        f"/api/v1/incidents/{case['id']}/transitions",
        json={"action": "extend", "version": 1, "note": "需协调"},
        headers=token_for("dispatcher"),
    )
    assert r.status_code == 422 and "extension_hours" in r.text


def test_manual_escalation_stops_at_county(api, report, token_for):
    d = token_for("dispatcher")
    case = report("0701")  # 火灾: handled at county level from the start
    assert case["tier"] == "county"
    assert _move(api, d, case, "escalate").status_code == 409
    case = report()
    r = _move(api, d, case, "escalate")
    assert r.json()["tier"] == "community" and r.json()["supervised"]


def test_history_is_append_only(db, report):
    from sqlalchemy.exc import DBAPIError

    case = report()
    with pytest.raises(DBAPIError, match="只能追加"), db.begin_nested():
        db.execute(
            text("UPDATE incident_events SET note = 'x' WHERE incident_id = :i"), {"i": case["id"]}
        )
    with pytest.raises(DBAPIError, match="只能追加"), db.begin_nested():
        db.execute(text("DELETE FROM incident_events WHERE incident_id = :i"), {"i": case["id"]})


def test_transitions_write_outbox_in_same_transaction(api, db, report, token_for):
    case = report()
    _move(api, token_for("dispatcher"), case, "accept")
    kinds = (
        db.execute(
            text("SELECT kind FROM incident_outbox WHERE incident_id = :i ORDER BY id"),
            {"i": case["id"]},
        )
        .scalars()
        .all()
    )
    assert kinds == ["incident.report", "incident.accept"]


def test_the_database_alone_keeps_a_case_outside_the_area_missing(
    app_factory, report, token_for, tmp_path
):
    """With the application's jurisdiction filters switched off (the test switch), row-level
    security alone answers an outside caller as before: no case listed, the case itself missing,
    no move made; and an area named outside the jurisdiction lists nothing instead of a 403."""
    from fastapi.testclient import TestClient

    case = report()  # in community C1
    h = token_for("dispatcher", C2)
    with TestClient(app_factory(data_dir=tmp_path, access_app_filters=False)) as bare:
        assert bare.get("/api/v1/incidents", headers=h).json() == {"count": 0, "data": []}
        listed = bare.get("/api/v1/incidents", params={"area": C1}, headers=h)
        assert listed.json() == {"count": 0, "data": []}
        for path in ("", "/history"):
            r = bare.get(f"/api/v1/incidents/{case['id']}{path}", headers=h)
            assert (r.status_code, r.json()["detail"]) == (404, "事件不存在")
        assert _move(bare, h, case, "accept").status_code == 404
        inside = bare.get("/api/v1/incidents", headers=token_for("dispatcher", C1)).json()
        assert [c["case_no"] for c in inside["data"]] == [case["case_no"]]
