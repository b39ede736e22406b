"""Party-building in the grid (docs/party.md): organisations covering grids, members leading
buildings, 双报到 with service hours, and the figures the dashboard shows."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from app.buildings.models import Building
from app.staff.models import Staff, StaffAssignment
from tests.factories import C1, C2, G11, G12, G21

BJ = dt.timezone(dt.timedelta(hours=8))
TODAY = dt.datetime.now(BJ).date()


@pytest.fixture
def people(api, token_for, world):  # type: ignore[no-untyped-def]
    return {
        "admin": token_for("county_admin", "419901", "admin1"),
        "disp": token_for("dispatcher", "419901001", "disp1"),
        "far": token_for("dispatcher", "419901002", "disp2"),
        "mzj": token_for("unit_handler", "419901", "mzj"),
        "zjj": token_for("unit_handler", "419901001", "zjj"),
        "worker": token_for("grid_worker", "419901001", "lina", staff_id=world["S2"]),
        "auditor": token_for("auditor", "419901", "aud1"),
        "planner": token_for("planner", "419901", "plan1"),
    }


def branch(api, who, **body):  # type: ignore[no-untyped-def]
    payload = {
        "name": "幸福社区网格党支部",
        "kind": "branch",
        "area_code": C1,
        "secretary": "王芳",
        "phone": "13700001234",
        "grid_codes": [G11, G12],
        **body,
    }
    return api.post("/api/v1/party/orgs", json=payload, headers=who)


@pytest.fixture
def leaders(db):  # type: ignore[no-untyped-def]
    """Two building leaders of B1 (阳光花园3号楼) in G11: 赵楼长 now, 钱楼长 until last year; and a
    unit steward in G21 (another community)."""
    b1 = db.scalar(select(Building.id).where(Building.code == "B1"))
    zhao = Staff(code="S9", name="赵楼长", phone="13911112222")
    qian = Staff(code="S8", name="钱楼长")
    sun = Staff(code="S7", name="孙管家")
    db.add_all([zhao, qian, sun])
    db.flush()
    db.add_all(
        [
            StaffAssignment(
                staff_id=zhao.id,
                grid_code=G11,
                role="building_leader",
                building_id=b1,
                start_date="2026-01-01",
            ),
            StaffAssignment(
                staff_id=qian.id,
                grid_code=G11,
                role="building_leader",
                building_id=b1,
                start_date="2024-01-01",
                end_date="2025-12-31",
            ),
            StaffAssignment(
                staff_id=sun.id,
                grid_code=G21,
                role="unit_steward",
                building_id=b1,
                start_date="2026-01-01",
            ),
        ]
    )
    db.commit()
    return {"zhao": zhao.id, "qian": qian.id, "sun": sun.id}


def test_an_organisation_covers_grids_and_a_grid_knows_it(api, people):
    r = branch(api, people["disp"])
    assert r.status_code == 201, r.text
    org = r.json()
    assert (org["kind_label"], org["area_name"], org["grid_codes"]) == (
        "网格党支部",
        "幸福社区",
        [G11, G12],
    )
    grids = api.get("/api/v1/party/grids", headers=people["worker"]).json()
    assert [(g["grid_code"], g["org_name"]) for g in grids] == [
        (G11, "幸福社区网格党支部"),
        (G12, "幸福社区网格党支部"),
    ]
    # a group under the branch, covering no grid of its own
    g = api.post(
        "/api/v1/party/orgs",
        json={"name": "3号楼党小组", "kind": "group", "area_code": C1, "parent_id": org["id"]},
        headers=people["disp"],
    )
    assert g.status_code == 201 and g.json()["parent_id"] == org["id"]
    # one organisation per grid
    clash = branch(api, people["admin"], name="第二支部", grid_codes=[G12])
    assert clash.status_code == 409
    assert "网格 " + G12 + " 已由党组织“幸福社区网格党支部”覆盖" in clash.json()["detail"]
    # moving a grid: the first organisation lets it go, then the other takes it
    moved = api.put(
        f"/api/v1/party/orgs/{org['id']}",
        json={"name": "幸福社区网格党支部", "kind": "branch", "area_code": C1, "grid_codes": [G11]},
        headers=people["disp"],
    )
    assert moved.status_code == 200 and moved.json()["grid_codes"] == [G11]
    assert branch(api, people["admin"], name="第二支部", grid_codes=[G12]).status_code == 201


def test_every_refusal_of_an_organisation(api, people):
    outside = branch(api, people["disp"], area_code=C2, grid_codes=[G11])
    assert outside.status_code == 422 and "不在该党组织所属区域" in outside.json()["detail"]
    unknown = branch(api, people["disp"], grid_codes=["419901001001009"])
    assert unknown.status_code == 422 and "419901001001009" in unknown.json()["detail"]
    twice = branch(api, people["disp"], grid_codes=[G11, G11])
    assert twice.status_code == 422
    assert branch(api, people["disp"], area_code="419901001009").status_code == 422
    assert branch(api, people["far"]).status_code == 404  # C1 is outside their township
    assert branch(api, people["disp"], kind="branch", parent_id=999999).status_code == 422
    org = branch(api, people["disp"]).json()
    wrong = branch(api, people["disp"], name="x", kind="branch", parent_id=org["id"], grid_codes=[])
    assert wrong.status_code == 422 and "只有党小组" in wrong.json()["detail"]
    for who in ("worker", "auditor", "planner", "mzj"):
        assert branch(api, people[who], grid_codes=[G21], area_code=C2).status_code == 403, who
    assert (
        api.put(
            "/api/v1/party/orgs/999999",
            json={"name": "x", "kind": "branch", "area_code": C1},
            headers=people["disp"],
        ).status_code
        == 404
    )
    assert (
        api.get(f"/api/v1/party/orgs/{org['id']}/members", headers=people["far"]).status_code == 404
    )


def test_members_lead_buildings(api, people, leaders):
    org = branch(api, people["disp"]).json()
    r = api.post(
        f"/api/v1/party/orgs/{org['id']}/members",
        json={"name": "赵楼长", "phone": "13911112222", "staff_id": leaders["zhao"]},
        headers=people["disp"],
    )
    assert r.status_code == 201, r.text
    assert (r.json()["buildings_led"], r.json()["phone"]) == (["阳光花园3号楼"], "13911112222")
    twice = api.post(
        f"/api/v1/party/orgs/{org['id']}/members",
        json={"name": "赵楼长", "staff_id": leaders["zhao"]},
        headers=people["disp"],
    )
    assert twice.status_code == 409 and "已登记为党员 赵楼长" in twice.json()["detail"]
    # a leader whose assignment ended, one of another community, a staff row that does not exist
    for staff_id in (leaders["qian"], leaders["sun"], 999999):
        no = api.post(
            f"/api/v1/party/orgs/{org['id']}/members",
            json={"name": "某党员", "staff_id": staff_id},
            headers=people["disp"],
        )
        assert no.status_code == 422 and "不是该党组织所属区域内的楼栋长" in no.json()["detail"], (
            staff_id
        )
    nobody = api.post(
        f"/api/v1/party/orgs/{org['id']}/members",
        json={"name": "某党员", "person_id": 999999},
        headers=people["disp"],
    )
    assert nobody.status_code == 422 and "person_id" in nobody.json()["detail"]
    plain = api.post(
        f"/api/v1/party/orgs/{org['id']}/members", json={"name": "吴党员"}, headers=people["disp"]
    )
    assert plain.status_code == 201 and plain.json()["buildings_led"] == []
    # a grid worker reads the members with their phones masked
    seen = api.get(f"/api/v1/party/orgs/{org['id']}/members", headers=people["worker"]).json()
    assert [(m["name"], m["phone"]) for m in seen] == [("赵楼长", "139****2222"), ("吴党员", None)]
    listing = api.get("/api/v1/party/orgs", headers=people["admin"]).json()
    assert [(o["members"], o["buildings_led"]) for o in listing] == [(2, 1)]
    # the member leaves: the building is no longer led by a party member
    gone = api.put(
        f"/api/v1/party/orgs/{org['id']}/members/{r.json()['id']}",
        json={"name": "赵楼长", "staff_id": leaders["zhao"], "active": False},
        headers=people["disp"],
    )
    assert gone.status_code == 200
    listing = api.get("/api/v1/party/orgs", headers=people["admin"]).json()
    assert [(o["members"], o["buildings_led"]) for o in listing] == [(1, 0)]
    assert (
        api.put(
            f"/api/v1/party/orgs/{org['id']}/members/999999",
            json={"name": "x"},
            headers=people["disp"],
        ).status_code
        == 404
    )


def test_dual_registration_and_hours(api, people):
    reg = {
        "community_code": C1,
        "unit_code": "dept-mz",
        "name": "周在职",
        "phone": "13855556666",
        "username": "mzj",
    }
    r = api.post("/api/v1/party/dual", json=reg, headers=people["disp"])
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    assert (r.json()["community_name"], r.json()["unit_name"], r.json()["hours"]) == (
        "幸福社区",
        "县民政局",
        "0",
    )
    dup = api.post("/api/v1/party/dual", json=reg, headers=people["disp"])
    assert dup.status_code == 409 and "无需重复登记" in dup.json()["detail"]
    assert (
        api.post(
            "/api/v1/party/dual", json={**reg, "unit_code": "dept-xx"}, headers=people["disp"]
        ).status_code
        == 422
    )
    assert (
        api.post(
            "/api/v1/party/dual",
            json={**reg, "community_code": "419901001009"},
            headers=people["disp"],
        ).status_code
        == 422
    )
    assert (
        api.post(
            "/api/v1/party/dual", json={**reg, "username": "ghost"}, headers=people["disp"]
        ).status_code
        == 422
    )
    assert (
        api.post(
            "/api/v1/party/dual", json={**reg, "phone": "abc"}, headers=people["disp"]
        ).status_code
        == 422
    )
    assert api.post("/api/v1/party/dual", json=reg, headers=people["far"]).status_code == 404
    for who in ("mzj", "worker", "auditor"):
        assert api.post("/api/v1/party/dual", json=reg, headers=people[who]).status_code == 403, who

    # the member logs their own hours
    mine = api.get("/api/v1/party/dual", headers=people["mzj"]).json()
    assert [(d["name"], d["phone"]) for d in mine] == [("周在职", "13855556666")]
    day = TODAY.isoformat()
    h = api.post(
        f"/api/v1/party/dual/{rid}/hours",
        json={"served_on": day, "hours": 2.5, "activity": "社区清洁"},
        headers=people["mzj"],
    )
    assert h.status_code == 201, h.text
    assert (
        api.post(
            f"/api/v1/party/dual/{rid}/hours",
            json={"served_on": day, "hours": 3, "activity": "政策宣讲"},
            headers=people["disp"],
        ).status_code
        == 201
    )
    tomorrow = (TODAY + dt.timedelta(days=1)).isoformat()
    future = api.post(
        f"/api/v1/party/dual/{rid}/hours",
        json={"served_on": tomorrow, "hours": 1, "activity": "x"},
        headers=people["mzj"],
    )
    assert future.status_code == 422 and "不能晚于今天" in future.json()["detail"]
    too_long = api.post(
        f"/api/v1/party/dual/{rid}/hours",
        json={"served_on": day, "hours": 19, "activity": "x"},
        headers=people["mzj"],
    )
    assert too_long.status_code == 422 and "不能超过 24 小时" in too_long.json()["detail"]
    assert (
        api.post(
            f"/api/v1/party/dual/{rid}/hours",
            json={"served_on": day, "hours": 0, "activity": "x"},
            headers=people["mzj"],
        ).status_code
        == 422
    )
    # another unit's member neither sees nor logs on it; an auditor reads it with the phone masked
    assert api.get("/api/v1/party/dual", headers=people["zjj"]).json() == []
    assert (
        api.post(
            f"/api/v1/party/dual/{rid}/hours",
            json={"served_on": day, "hours": 1, "activity": "x"},
            headers=people["zjj"],
        ).status_code
        == 404
    )
    assert api.get(f"/api/v1/party/dual/{rid}/hours", headers=people["zjj"]).status_code == 404
    audited = api.get("/api/v1/party/dual", headers=people["auditor"]).json()
    assert [(d["phone"], d["hours"], d["entries"]) for d in audited] == [("138****6666", "5.5", 2)]
    hours = api.get(f"/api/v1/party/dual/{rid}/hours", headers=people["mzj"]).json()
    assert sorted(x["activity"] for x in hours) == ["政策宣讲", "社区清洁"]
    assert api.get("/api/v1/party/dual", headers=people["worker"]).status_code == 403


def test_the_figures_of_an_area(api, people, leaders):
    org = branch(api, people["disp"]).json()
    api.post(
        f"/api/v1/party/orgs/{org['id']}/members",
        json={"name": "赵楼长", "staff_id": leaders["zhao"]},
        headers=people["disp"],
    )
    api.post(
        f"/api/v1/party/orgs/{org['id']}/members", json={"name": "吴党员"}, headers=people["disp"]
    )
    for name, phone in (("周在职", "13855556666"), ("郑在职", "13855557777")):
        reg = {"community_code": C1, "unit_code": "dept-mz", "name": name, "phone": phone}
        rid = api.post("/api/v1/party/dual", json=reg, headers=people["disp"]).json()["id"]
        api.post(
            f"/api/v1/party/dual/{rid}/hours",
            json={"served_on": TODAY.isoformat(), "hours": 1.5, "activity": "巡查"},
            headers=people["disp"],
        )
    f = api.get("/api/v1/party/figures", headers=people["admin"]).json()
    assert (f["grids"], f["grids_with_org"], f["buildings"]) == (3, 2, 1)
    assert (f["buildings_led"], f["buildings_party_led"]) == (1, 1)
    assert (f["orgs"], f["party_members"], f["dual_members"], f["dual_hours"]) == (1, 2, 2, "3.0")
    assert f["by_community"] == [
        {"community_code": C1, "community_name": "幸福社区", "members": 2, "hours": "3.0"}
    ]
    east = api.get("/api/v1/party/figures", params={"area": C2}, headers=people["admin"]).json()
    assert (east["grids"], east["grids_with_org"], east["dual_members"]) == (1, 0, 0)
    assert (
        api.get(
            "/api/v1/party/figures", params={"area": "419901002"}, headers=people["disp"]
        ).status_code
        == 403
    )
    assert api.get("/api/v1/party/figures", headers=people["mzj"]).status_code == 403
