"""Plans over the API on the tiny county: create, edit (reshape, split, merge, move), locks,
optimistic concurrency, submit refusal, impact, approval swap and point-in-time queries.

Community C1 = box(113.000, 34.000, 113.010, 34.010); G11 west of 113.005, G12 east of it.
"""

from __future__ import annotations

import datetime as dt

from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import MultiPolygon, Point, box, mapping
from sqlalchemy import select, update

from app.buildings.models import Building
from app.grids.models import Grid
from app.plans.models import Plan, PlanGrid
from tests.factories import C1, G11, G12, add_building, tiny_county

P = "/api/v1/plans"


def _plan(client, headers) -> dict:  # type: ignore[no-untyped-def]
    r = client.post(P, json={"community_code": C1}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def _gid(plan: dict, code: str | None) -> int:
    return next(g["id"] for g in plan["grids"] if g["code"] == code)


def _topology(plan: dict) -> list[dict]:
    """The plan's errors other than grids waiting for the planner's reason (the tiny county's grids
    hold 2 and 0 households, far below the band: each needs one)."""
    return [e for e in plan["validation"]["errors"] if e["kind"] != "needs_reason"]


def _submit(client, h, plan_id: int):  # type: ignore[no-untyped-def]
    """Submit with a reason for every grid that needs one."""
    plan = client.get(f"{P}/{plan_id}", headers=h).json()
    reasons = {
        str(e["grid_id"]): "新建小区，尚未入住"
        for e in plan["validation"]["errors"]
        if e["kind"] == "needs_reason"
    }
    return client.post(
        f"{P}/{plan_id}/submit", json={"version": plan["version"], "reasons": reasons}, headers=h
    )


def test_create_from_current_grids_counts_households(db, client, token_for) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    plan = _plan(client, token_for("planner"))
    assert plan["status"] == "draft" and plan["version"] == 1
    by_code = {g["code"]: g for g in plan["grids"]}
    assert set(by_code) == {G11, G12}
    assert by_code[G11]["households"] == 2 and by_code[G12]["households"] == 0
    # 2 households is far below the 250–500 band and G12 has no building at all: each is an error
    # naming the grid until the planner gives a reason, located.
    v = plan["validation"]
    assert v["ok"] is False and _topology(plan) == []
    assert sorted(e["message"] for e in v["errors"]) == [
        "网格「幸福社区第1网格」只有 2 户，少于标准的 250–500 户：请调整边界，或提交时说明理由",
        "网格「幸福社区第2网格」内没有楼栋：请调整边界，或提交时说明理由",
    ]
    assert all(e["geometry"] and e["grid_id"] for e in v["errors"])
    assert [g["band"] for g in plan["grids"]] == ["below", "below"]


def test_create_needs_planner_role_and_jurisdiction(db, client, token_for) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    assert (
        client.post(P, json={"community_code": C1}, headers=token_for("dispatcher")).status_code
        == 403
    )
    other = token_for("planner", jurisdiction="419902")
    assert client.post(P, json={"community_code": C1}, headers=other).status_code == 403


def test_a_plan_outside_the_jurisdiction_is_answered_as_missing(db, client, token_for) -> None:  # type: ignore[no-untyped-def]
    """Every route that takes a plan id answers a plan of another area exactly like a plan that
    does not exist (it names neither its community nor anything else)."""
    tiny_county(db)
    plan = _plan(client, token_for("planner"))
    pid, missing = plan["id"], plan["id"] + 10_000
    outside = {
        "planner": token_for("planner", jurisdiction="419902"),
        "county_admin": token_for("county_admin", jurisdiction="419902"),
    }
    line = {"type": "LineString", "coordinates": [[113.008, 33.999], [113.008, 34.011]]}
    calls = [
        ("get", "", None),
        ("get", "/validation", None),
        ("get", "/export", None),
        ("get", "/lock", None),
        ("get", "/impact", None),
        ("post", "/lock", None),
        ("delete", "/lock", None),
        ("post", "/split", {"version": 1, "grid_id": _gid(plan, G12), "line": line}),
        ("post", "/submit", {"version": 1}),
        ("post", "/approve", {"effective_date": "2026-06-01", "reason": "调整"}),
    ]
    for role, headers in outside.items():
        for method, path, body in calls:
            if role == "planner" and path == "/approve":
                continue  # planners may not approve at all (403 before any plan is looked at)
            kw = {"headers": headers, **({"json": body} if body else {})}
            r = client.request(method, f"{P}/{pid}{path}", **kw)
            gone = client.request(method, f"{P}/{missing}{path}", **kw)
            assert r.status_code == 404, (role, method, path, r.text)
            assert r.json()["detail"] == gone.json()["detail"].replace(str(missing), str(pid))
            assert C1 not in r.text
    listed = client.get(P, headers=outside["planner"]).json()
    assert listed == {"data": [], "count": 0}
    # Unchanged by all that: still a draft at version 1, unlocked.
    inside = client.get(f"{P}/{pid}", headers=token_for("planner")).json()
    assert (inside["status"], inside["version"]) == ("draft", 1)


def test_split_then_stale_edit_is_409(db, client, token_for) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    h = token_for("planner")
    plan = _plan(client, h)
    line = {"type": "LineString", "coordinates": [[113.008, 33.999], [113.008, 34.011]]}
    body = {"version": 1, "grid_id": _gid(plan, G12), "line": line}
    r = client.post(f"{P}/{plan['id']}/split", json=body, headers=h)
    assert r.status_code == 200, r.text
    after = r.json()
    assert after["version"] == 2 and len(after["grids"]) == 3
    assert [g["code"] for g in after["grids"]].count(None) == 1
    assert _topology(after) == []
    stale = client.post(f"{P}/{plan['id']}/split", json=body, headers=h)
    assert stale.status_code == 409
    assert stale.json()["context"]["current_version"] == 2


def test_split_line_not_crossing_is_422(db, client, token_for) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    h = token_for("planner")
    plan = _plan(client, h)
    inside = {"type": "LineString", "coordinates": [[113.006, 34.004], [113.007, 34.006]]}
    r = client.post(
        f"{P}/{plan['id']}/split",
        json={"version": 1, "grid_id": _gid(plan, G12), "line": inside},
        headers=h,
    )
    assert r.status_code == 422
    assert "没有穿过" in r.json()["detail"]
    assert client.get(f"{P}/{plan['id']}", headers=h).json()["version"] == 1  # nothing changed


def test_merge_touching_grids_and_refuse_non_touching(db, client, token_for) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    h = token_for("planner")
    plan = _plan(client, h)
    r = client.post(
        f"{P}/{plan['id']}/merge",
        json={"version": 1, "grid_id": _gid(plan, G11), "other_grid_id": _gid(plan, G12)},
        headers=h,
    )
    assert r.status_code == 200, r.text
    merged = r.json()
    assert [g["code"] for g in merged["grids"]] == [G11]  # more households keeps its code
    assert merged["grids"][0]["households"] == 2
    assert _topology(merged) == []


def test_merge_refuses_grids_without_shared_edge(db, client, token_for) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    h = token_for("planner")
    plan = _plan(client, h)
    line = {"type": "LineString", "coordinates": [[113.008, 33.999], [113.008, 34.011]]}
    plan = client.post(
        f"{P}/{plan['id']}/split",
        json={"version": 1, "grid_id": _gid(plan, G12), "line": line},
        headers=h,
    ).json()
    r = client.post(
        f"{P}/{plan['id']}/merge",
        json={"version": 2, "grid_id": _gid(plan, G11), "other_grid_id": _gid(plan, None)},
        headers=h,
    )
    assert r.status_code == 422 and "不相邻" in r.json()["detail"]


def test_reshape_takes_from_neighbour_and_snaps_sliver(db, client, token_for) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    h = token_for("planner")
    plan = _plan(client, h)
    # Pull G11's east edge 1 m short of the old line: the thin strip left behind is a sliver.
    shape = box(113.0, 34.0, 113.00499, 34.01)
    r = client.post(
        f"{P}/{plan['id']}/reshape",
        json={"version": 1, "grid_id": _gid(plan, G11), "geometry": mapping(shape)},
        headers=h,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert _topology(body) == [], body["validation"]["errors"]
    grids = {g.code: to_shape(g.geom) for g in db.scalars(select(PlanGrid))}
    assert grids[G12].bounds[0] == 113.00499  # the strip went to the neighbour
    # Push G11 east instead: G12 shrinks, still no gap or overlap.
    r = client.post(
        f"{P}/{plan['id']}/reshape",
        json={
            "version": 2,
            "grid_id": _gid(plan, G11),
            "geometry": mapping(box(113.0, 34.0, 113.007, 34.01)),
        },
        headers=h,
    )
    assert r.status_code == 200 and _topology(r.json()) == []


def test_move_building_to_neighbour(db, client, token_for) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    b = add_building(db, "B9", C1, 113.0049, 34.005, 40)
    h = token_for("planner")
    plan = _plan(client, h)
    assert {g["code"]: g["households"] for g in plan["grids"]} == {G11: 42, G12: 0}
    r = client.post(
        f"{P}/{plan['id']}/move-buildings",
        json={"version": 1, "building_ids": [b.id], "to_grid_id": _gid(plan, G12)},
        headers=h,
    )
    assert r.status_code == 200, r.text
    assert {g["code"]: g["households"] for g in r.json()["grids"]} == {G11: 2, G12: 40}
    assert _topology(r.json()) == []
    far = db.scalar(select(Building).where(Building.code == "B1"))
    assert far is not None
    r = client.post(
        f"{P}/{plan['id']}/move-buildings",
        json={"version": 2, "building_ids": [far.id], "to_grid_id": _gid(plan, G12)},
        headers=h,
    )
    assert r.status_code == 422


def test_lock_blocks_others_expires_and_can_be_broken(db, client, token_for) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    alice, bob = token_for("planner", username="alice"), token_for("planner", username="bob")
    plan = _plan(client, alice)
    url = f"{P}/{plan['id']}"
    lock = client.post(f"{url}/lock", headers=alice).json()
    assert lock["locked_by"] == "alice"
    line = {"type": "LineString", "coordinates": [[113.008, 33.999], [113.008, 34.011]]}
    edit = {"version": 1, "grid_id": _gid(plan, G12), "line": line}
    r = client.post(f"{url}/split", json=edit, headers=bob)
    assert r.status_code == 409 and r.json()["context"]["locked_by"] == "alice"
    assert client.get(f"{url}/lock", headers=bob).json()["locked_by"] == "alice"
    # Bob may not break it; a county admin may.
    r = client.delete(f"{url}/lock", params={"force": True}, headers=bob)
    assert r.status_code == 403 and r.json()["detail"] == "只有县级管理员可以强制解除他人的锁"
    assert client.delete(f"{url}/lock", headers=bob).status_code == 409
    admin = token_for("county_admin", username="chief")
    assert (
        client.delete(f"{url}/lock", params={"force": True}, headers=admin).json()["locked_by"]
        is None
    )
    # Alice takes it again; once it expires Bob's edit goes through and the lock is his.
    client.post(f"{url}/lock", headers=alice)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    db.execute(update(Plan).where(Plan.id == plan["id"]).values(locked_until=past))
    db.flush()
    r = client.post(f"{url}/split", json=edit, headers=bob)
    assert r.status_code == 200, r.text
    assert r.json()["lock"]["locked_by"] == "bob"


def test_submit_refuses_gap_and_overlap_with_locations(db, client, token_for) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    h = token_for("planner")
    plan = _plan(client, h)
    g11 = db.get(PlanGrid, _gid(plan, G11))
    g12 = db.get(PlanGrid, _gid(plan, G12))
    # G11 leaves a gap in the north and G12 reaches 0.001° into G11 (overlap).
    g11.geom = from_shape(MultiPolygon([box(113.0, 34.0, 113.005, 34.008)]), srid=4490)
    g12.geom = from_shape(MultiPolygon([box(113.004, 34.0, 113.01, 34.01)]), srid=4490)
    db.flush()
    r = client.post(f"{P}/{plan['id']}/submit", json={"version": 1}, headers=h)
    assert r.status_code == 422, r.text
    errors = r.json()["context"]["errors"]
    kinds = {e["kind"] for e in errors}
    assert {"gap", "overlap"} <= kinds
    assert all(e["geometry"] is not None for e in errors)
    overlap = next(e for e in errors if e["kind"] == "overlap")
    assert set(overlap["objects"]) == {"幸福社区第1网格", "幸福社区第2网格"}  # named as listed
    assert db.get(Plan, plan["id"]).status == "draft"


def test_approval_swaps_versions_and_history_answers_old_grid(db, client, token_for) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    h = token_for("planner")
    plan = _plan(client, h)
    line = {"type": "LineString", "coordinates": [[113.008, 33.999], [113.008, 34.011]]}
    plan = client.post(
        f"{P}/{plan['id']}/split", json={"version": 1, "grid_id": _gid(plan, G12), "line": line},
        headers=h,
    ).json()  # fmt: skip
    kept_row = db.scalar(select(Grid).where(Grid.code == G11))
    assert _submit(client, h, plan["id"]).status_code == 200

    impact = client.get(f"{P}/{plan['id']}/impact", headers=h).json()
    assert impact["grids_kept"] == [G11] and impact["grids_changed"] == [G12]
    assert impact["grids_new"] == 1
    assert impact["staff_assignments"]["count"] == 1  # the worker of G12: boundary changes
    assert impact["incidents"]["available"] in (True, False)

    body = {"effective_date": "2026-06-01", "reason": "新建小区，按户数调整"}
    assert client.post(f"{P}/{plan['id']}/approve", json=body, headers=h).status_code == 403
    r = client.post(f"{P}/{plan['id']}/approve", json=body, headers=token_for("county_admin"))
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["kept"] == [G11] and result["new_versions"] == [G12]
    assert result["new_codes"] == [C1 + "003"] and result["retired"] == []

    rows = db.scalars(
        select(Grid).where(Grid.community_code == C1).order_by(Grid.code, Grid.version)
    ).all()
    state = [(g.code, g.version, g.status, str(g.valid_from), str(g.valid_to)) for g in rows]
    assert state == [
        (G11, 1, "active", "2026-01-01", "None"),
        (G12, 1, "retired", "2026-01-01", "2026-06-01"),
        (G12, 2, "active", "2026-06-01", "None"),
        (C1 + "003", 1, "active", "2026-06-01", "None"),
    ]
    assert db.scalar(select(Grid).where(Grid.code == G11)).id == kept_row.id  # same row kept

    east = {"lng": 113.009, "lat": 34.005}
    before = client.get("/api/v1/grids/at", params={**east, "date": "2026-03-01"}).json()
    after = client.get("/api/v1/grids/at", params={**east, "date": "2026-07-01"}).json()
    assert (before["code"], before["version"], before["status"]) == (G12, 1, "retired")
    assert after["code"] == C1 + "003"
    assert client.get("/api/v1/grids/at", params={**east, "date": "2025-01-01"}).status_code == 404
    # Approved plans are frozen.
    assert (
        client.post(
            f"{P}/{plan['id']}/approve", json=body, headers=token_for("county_admin")
        ).status_code
        == 409
    )


def test_export_geopackage_and_reimport_as_new_draft(db, client, token_for, tmp_path) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    h = token_for("planner")
    plan = _plan(client, h)
    gj = client.get(f"{P}/{plan['id']}/export", params={"f": "geojson"}, headers=h)
    assert gj.status_code == 200 and gj.headers["content-type"].startswith("application/geo+json")
    assert len(gj.json()["features"]) == 2
    gpkg = client.get(f"{P}/{plan['id']}/export", params={"f": "gpkg"}, headers=h)
    assert gpkg.status_code == 200 and gpkg.content[:15] == b"SQLite format 3"
    r = client.post(
        f"{P}/upload",
        files={"file": ("edited.gpkg", gpkg.content)},
        data={"community_code": C1},
        headers=h,
    )
    assert r.status_code == 201, r.text
    new = r.json()
    assert new["id"] != plan["id"] and new["source"] == "upload"
    assert sorted(g["code"] for g in new["grids"]) == [G11, G12]
    assert _topology(new) == []


def test_upload_in_projected_crs_is_converted_and_reported(db, client, token_for) -> None:  # type: ignore[no-untyped-def]
    import geopandas as gpd

    tiny_county(db)
    frame = gpd.GeoDataFrame(
        {"code": [G11, G12]},
        geometry=[box(113.0, 34.0, 113.005, 34.01), box(113.005, 34.0, 113.01, 34.01)],
        crs=4490,
    ).to_crs(4547)
    r = client.post(
        f"{P}/upload",
        files={"file": ("gk.geojson", frame.to_json())},
        data={"community_code": C1, "crs": "4547"},
        headers=token_for("planner"),
    )
    assert r.status_code == 201, r.text
    assert any("转换" in n for n in r.json()["notes"])
    assert _topology(r.json()) == []


def test_approval_reroutes_open_incidents_with_history(db, client, token_for) -> None:  # type: ignore[no-untyped-def]
    from app.incidents.models import Incident, IncidentCategory, IncidentEvent

    tiny_county(db)
    db.add(IncidentCategory(code="T01", name="测试"))
    db.flush()
    now = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)

    def incident(no: str, x: float, state: str) -> Incident:
        inc = Incident(
            case_no=no, token=no, category_code="T01", description="路灯坏了", grid_code=G12,
            community_code=C1, locate={}, reported_at=now, deadline=now, state=state,
            location=from_shape(Point(x, 34.005), srid=4490),
        )  # fmt: skip
        db.add(inc)
        return inc

    moving, staying, closed = (
        incident("C1", 113.009, "dispatched"),
        incident("C2", 113.006, "handling"),
        incident("C3", 113.009, "closed"),
    )
    db.flush()
    h = token_for("planner")
    plan = _plan(client, h)
    line = {"type": "LineString", "coordinates": [[113.008, 33.999], [113.008, 34.011]]}
    client.post(
        f"{P}/{plan['id']}/split", json={"version": 1, "grid_id": _gid(plan, G12), "line": line},
        headers=h,
    )  # fmt: skip
    assert _submit(client, h, plan["id"]).status_code == 200
    impact = client.get(f"{P}/{plan['id']}/impact", headers=h).json()["incidents"]
    assert impact["count"] == 1 and impact["items"][0]["id"] == moving.id
    r = client.post(
        f"{P}/{plan['id']}/approve",
        json={"effective_date": "2026-06-01", "reason": "拆分"},
        headers=token_for("county_admin", username="chief"),
    )
    assert r.status_code == 200 and r.json()["incidents_rerouted"] == 1
    for inc in (moving, staying, closed):
        db.refresh(inc)
    assert (moving.grid_code, staying.grid_code, closed.grid_code) == (C1 + "003", G12, G12)
    events = db.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == moving.id)).all()
    assert [(e.action, e.actor) for e in events] == [("reroute", "chief")]
    assert G12 in events[0].note and C1 + "003" in events[0].note


def test_approving_a_merge_ends_the_assignments_of_the_grid_that_goes(
    db, client, token_for
) -> None:  # type: ignore[no-untyped-def]
    from app.staff.models import StaffAssignment

    tiny_county(db)  # G11: leader S1 and worker S2; G12: worker S2 (all from 2026-01-01)
    h = token_for("planner")
    plan = _plan(client, h)
    merged = client.post(
        f"{P}/{plan['id']}/merge",
        json={"version": 1, "grid_id": _gid(plan, G11), "other_grid_id": _gid(plan, G12)},
        headers=h,
    ).json()
    assert merged["version"] == 2
    assert _submit(client, h, plan["id"]).status_code == 200
    impact = client.get(f"{P}/{plan['id']}/impact", headers=h).json()
    gone = [i for i in impact["staff_assignments"]["items"] if i["from_grid"] == G12]
    assert len(gone) == 1 and "结束" in gone[0]["action"]
    body = {"effective_date": "2026-06-01", "reason": "两网格合并"}
    result = client.post(
        f"{P}/{plan['id']}/approve", json=body, headers=token_for("county_admin")
    ).json()
    assert result["retired"] == [G12] and len(result["assignments_ended"]) == 1
    rows = db.execute(
        select(StaffAssignment.grid_code, StaffAssignment.role, StaffAssignment.end_date).order_by(
            StaffAssignment.grid_code, StaffAssignment.role
        )
    ).all()
    assert [(g, r, str(e)) for g, r, e in rows] == [
        (G11, "leader", "None"),
        (G11, "worker", "None"),
        (G12, "worker", "2026-05-31"),
    ]
