"""The units directory, members, the routing table and the dispatch picker, through the API
(docs/domain.md#responsible-units)."""

from __future__ import annotations

from tests.factories import C1, C2, COUNTY, G11, TOWNSHIP
from tests.units.world import CG, PCS, ZJ, staff_id


def test_the_picker_lists_the_suggested_unit_first_then_the_units_of_the_area(
    api, db, registered, token_for
):
    token_for("grid_worker", TOWNSHIP, "gw", staff_id=staff_id(db, "S2"))
    d = token_for("dispatcher", "419901", "disp")
    case = registered("0103")  # 物业纠纷: default tier community
    r = api.get(f"/api/v1/incidents/{case['id']}/dispatch-options", headers=d)
    assert r.status_code == 200, r.text
    body = r.json()
    codes = [u["code"] for u in body["units"]]
    # No routing rule yet: the category's default tier (community) for the case's area comes first.
    assert body["suggested"] == "community-" + C1
    assert codes == [
        "community-" + C1,
        "grid-" + G11,
        "township-" + TOWNSHIP,
        "county-" + COUNTY,
        CG,
        ZJ,
    ]  # PCS serves C2 only; G12's and G21's units are other grids
    by_code = {u["code"]: u for u in body["units"]}
    assert by_code[CG]["staff"] == [{"username": "cg1", "name": "城管王强"}]
    assert by_code[ZJ]["staff"] == [{"username": "zj1", "name": "住建刘洋"}]  # zj_old ended
    assert by_code["grid-" + G11]["staff"] == [{"username": "gw", "name": "李娜"}]
    assert (by_code[CG]["kind_label"], by_code["grid-" + G11]["kind_label"]) == ("职能部门", "网格")
    assert [u["suggested"] for u in body["units"]] == [True] + [False] * 5

    # The county admin routes 物业纠纷 in C1 to 住建局: the picker now suggests it first.
    admin = token_for("county_admin", "419901", "admin1")
    rule = {"category_code": "0103", "area_code": C1, "unit_code": ZJ, "note": "物业归住建"}
    r = api.put("/api/v1/routing-rules", json=rule, headers=admin)
    assert r.status_code == 200, r.text
    assert (r.json()["category_name"], r.json()["unit_name"]) == ("物业纠纷", "住建局")
    body = api.get(f"/api/v1/incidents/{case['id']}/dispatch-options", headers=d).json()
    assert body["suggested"] == ZJ and body["units"][0]["code"] == ZJ
    assert len(body["units"]) == 6


def test_routing_rules_most_specific_first(api, registered, token_for):
    admin = token_for("county_admin", "419901", "admin1")
    d = token_for("dispatcher", "419901", "disp")
    put = lambda body: api.put("/api/v1/routing-rules", json=body, headers=admin)  # noqa: E731
    # The big class 01 county-wide to the township; the small class 0103 in the county to CG.
    assert put({"category_code": "01", "area_code": COUNTY, "tier": "township"}).status_code == 200
    case = registered("0103")
    body = api.get(f"/api/v1/incidents/{case['id']}/dispatch-options", headers=d).json()
    assert body["suggested"] == "township-" + TOWNSHIP
    assert put({"category_code": "0103", "area_code": COUNTY, "unit_code": CG}).status_code == 200
    body = api.get(f"/api/v1/incidents/{case['id']}/dispatch-options", headers=d).json()
    assert body["suggested"] == CG
    # Replacing a rule keeps one row per category and area.
    assert put({"category_code": "0103", "area_code": COUNTY, "unit_code": ZJ}).status_code == 200
    rules = api.get("/api/v1/routing-rules", headers=d).json()
    assert [(r["category_code"], r["area_code"], r["unit_code"], r["tier"]) for r in rules] == [
        ("01", COUNTY, None, "township"),
        ("0103", COUNTY, ZJ, None),
    ]


def test_bad_routing_rules_are_422_and_only_the_county_admin_edits(api, token_for):
    admin = token_for("county_admin", "419901", "admin1")
    cases = [
        ({"category_code": "9999", "area_code": C1, "tier": "grid"}, "事件类别 9999 不存在"),
        (
            {"category_code": "0103", "area_code": "419901009", "tier": "grid"},
            "区域 419901009 不存在",
        ),
        ({"category_code": "0103", "area_code": C1, "unit_code": "nope"}, "承办单位 nope 不存在"),
        (
            {"category_code": "0103", "area_code": C1, "unit_code": PCS},
            f"承办单位“和平派出所”（{PCS}）的辖区不包含区域 {C1}",
        ),
        ({"category_code": "0103", "area_code": C1}, "二者选一"),
        ({"category_code": "0103", "area_code": C1, "tier": "grid", "unit_code": CG}, "二者选一"),
    ]
    for body, words in cases:
        r = api.put("/api/v1/routing-rules", json=body, headers=admin)
        assert r.status_code == 422, (body, r.text)
        assert words in r.json()["detail"], r.json()["detail"]
    ok = {"category_code": "0103", "area_code": C1, "tier": "grid"}
    for role in ("dispatcher", "grid_worker", "unit_handler", "auditor", "planner"):
        r = api.put("/api/v1/routing-rules", json=ok, headers=token_for(role, "419901"))
        assert r.status_code == 403, role
    assert api.get("/api/v1/routing-rules", headers=admin).json() == []


def test_units_directory_and_members(api, token_for):
    admin = token_for("county_admin", "419901", "admin1")
    # A township dispatcher sees the county's departments (they serve the township) and the units
    # inside the township, not a unit serving only elsewhere.
    street = token_for("dispatcher", TOWNSHIP, "street")
    codes = {u["code"] for u in api.get("/api/v1/units", headers=street).json()}
    assert {CG, ZJ, PCS, "county-" + COUNTY, "grid-" + G11} <= codes
    c1 = token_for("dispatcher", C1, "c1disp")
    codes = {u["code"] for u in api.get("/api/v1/units", headers=c1).json()}
    assert PCS not in codes and "community-" + C2 not in codes and CG in codes
    assert api.get(f"/api/v1/units/{PCS}", headers=c1).status_code == 404
    depts = api.get("/api/v1/units", params={"kind": "department"}, headers=street).json()
    assert [(u["code"], u["name"], u["kind_label"]) for u in depts] == [
        (CG, "城管执法局", "职能部门"),
        (ZJ, "住建局", "职能部门"),
    ]

    new = {
        "code": "dept-yj",
        "name": "应急管理局",
        "kind": "department",
        "area_code": COUNTY,
        "parent_code": "county-" + COUNTY,
        "phone": "0371-12345678",
    }
    r = api.post("/api/v1/units", json=new, headers=admin)
    assert r.status_code == 201, r.text
    assert api.post("/api/v1/units", json=new, headers=admin).status_code == 422
    assert api.post("/api/v1/units", json=new, headers=street).status_code == 403
    bad = {**new, "code": "dept-x", "area_code": "419901777"}
    r = api.post("/api/v1/units", json=bad, headers=admin)
    assert (r.status_code, r.json()["detail"]) == (422, "area_code: 区域 419901777 不存在")
    bad = {**new, "code": "grid-x", "kind": "grid"}  # a grid unit answers for a 15-digit grid
    assert api.post("/api/v1/units", json=bad, headers=admin).status_code in (409, 422)

    r = api.post(
        "/api/v1/units/dept-yj/members",
        json={"username": "cg1", "valid_from": "2026-01-01"},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    member = r.json()
    assert (member["username"], member["full_name"]) == ("cg1", "城管王强")
    r = api.post(
        "/api/v1/units/dept-yj/members",
        json={"username": "nobody", "valid_from": "2026-01-01"},
        headers=admin,
    )
    assert (r.status_code, r.json()["detail"]) == (422, "username: 账号 nobody 不存在")
    r = api.post(
        "/api/v1/units/dept-yj/members",
        json={"username": "cg1", "valid_from": "2026-02-01", "valid_to": "2026-01-01"},
        headers=admin,
    )
    assert r.status_code == 422
    ended = {"username": "cg1", "valid_from": "2026-01-01", "valid_to": "2026-01-31"}
    r = api.put(f"/api/v1/units/dept-yj/members/{member['id']}", json=ended, headers=admin)
    assert r.status_code == 200 and r.json()["valid_to"] == "2026-01-31"
    listed = api.get("/api/v1/units/dept-yj/members", headers=street).json()
    assert [(m["username"], m["valid_to"]) for m in listed] == [("cg1", "2026-01-31")]

    r = api.put("/api/v1/units/dept-yj", json={**new, "active": False}, headers=admin)
    assert r.status_code == 200 and r.json()["active"] is False
    assert api.get("/api/v1/units/nope", headers=street).status_code == 404
