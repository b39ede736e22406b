"""Micro-grids (微网格) through the API on the tiny county (tests/factories.py): drawn inside grid
G11 = box(113.000, 34.000, 113.005, 34.010), about 460 m × 1.1 km. Answers known by looking.

    M1 = box(113.000, 34.000, 113.0025, 34.006): holds building B1 (113.002, 34.005, 2 households)
    near 34°N one metre is about 1.0835e-5° of longitude and 9.017e-6° of latitude.
"""

from __future__ import annotations

import pytest
from shapely.geometry import box, mapping
from sqlalchemy import text

from app.grids.models import Grid
from app.staff.models import Staff
from tests.factories import G11, G12, G21, add_building, mp, tiny_county

M1 = box(113.0, 34.0, 113.0025, 34.006)
URL = "/api/v1/micro-grids"


def geo(geom):  # type: ignore[no-untyped-def]
    return mapping(geom)


@pytest.fixture
def county(db):
    tiny_county(db)
    steward = Staff(code="S9", name="王芳", phone="13700002222", employment="part_time")
    db.add(steward)
    db.flush()
    db.commit()
    return steward.id


@pytest.fixture
def planner(token_for):
    return token_for("planner", "419901")


def _create(client, headers, geom, **extra):  # type: ignore[no-untyped-def]
    body = {"grid_code": G11, "name": "1号微网格", "geometry": geo(geom), **extra}
    return client.post(URL, json=body, headers=headers)


def test_draw_list_steward_households_and_band(client, county, planner, token_for):
    r = _create(client, planner, M1, steward_staff_id=county)
    assert r.status_code == 201, r.text
    props = r.json()["properties"]
    assert props["code"] == "41990100100100101"
    assert props["grid_code"] == G11
    assert props["households"] == 2  # the two households of B1
    assert props["band"] == "below"  # 2 < 50
    assert props["steward"]["name"] == "王芳"
    assert props["steward"]["phone"] == "137****2222"  # planners see staff names only
    listing = client.get(
        URL, params={"area": "419901001001"}, headers=token_for("dispatcher", "419901")
    )
    assert listing.status_code == 200, listing.text
    body = listing.json()
    assert body["band"] == [50, 80]
    [feature] = body["features"]
    assert feature["properties"]["steward"]["phone"] == "13700002222"
    csv = client.get(URL, params={"f": "csv"}, headers=planner)
    assert csv.status_code == 200 and "王芳" in csv.text and "41990100100100101" in csv.text


def test_outside_the_grid_is_refused_naming_the_micro_grid(client, county, planner):
    # Reaches ~92 m east of G11 over ~220 m: far more than a sliver.
    r = _create(client, planner, box(113.004, 34.0, 113.006, 34.002))
    assert r.status_code == 422, r.text
    assert "微网格 41990100100100101 超出所属网格 419901001001001 边界" in r.json()["detail"]


def test_a_sliver_outside_the_grid_is_cut_off(client, county, planner, db):
    # 2 m past G11's east edge (113.005) along 222 m: a 1:110 strip, a sliver by the one rule.
    r = _create(client, planner, box(113.0025, 34.0, 113.005 + 2 * 1.0835e-5, 34.002))
    assert r.status_code == 201, r.text
    east = db.scalar(text("SELECT ST_XMax(geom) FROM micro_grids WHERE code = '41990100100100101'"))
    assert east == pytest.approx(113.005, abs=1e-9)


def test_overlapping_another_micro_grid_is_refused(client, county, planner):
    assert _create(client, planner, M1).status_code == 201
    r = _create(client, planner, box(113.002, 34.0, 113.004, 34.006))
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert "微网格 41990100100100102 与同一网格内的微网格重叠：41990100100100101" in detail


def test_error_paths(client, county, planner, db, token_for):
    db.execute(text("UPDATE grids SET type = 'dedicated' WHERE code = :c"), {"c": G12})
    db.commit()
    dedicated = client.post(
        URL, json={"grid_code": G12, "name": "x", "geometry": geo(box(113.006, 34.0, 113.007, 34.001))},
        headers=planner,
    )  # fmt: skip
    assert dedicated.status_code == 422 and "不是综合网格" in dedicated.json()["detail"]
    unknown = client.post(
        URL,
        json={"grid_code": "419901001001009", "name": "x", "geometry": geo(M1)},
        headers=planner,
    )
    assert unknown.status_code == 404 and "419901001001009" in unknown.json()["detail"]
    other_town = token_for("planner", "419901002")
    assert _create(client, other_town, M1).status_code == 404
    assert _create(client, token_for("dispatcher", "419901"), M1).status_code == 403
    assert _create(client, {}, M1).status_code == 401
    line = {"type": "LineString", "coordinates": [[113.0, 34.0], [113.001, 34.001]]}
    bad = client.post(URL, json={"grid_code": G11, "name": "x", "geometry": line}, headers=planner)
    assert bad.status_code == 422 and "面" in bad.json()["detail"]
    junk = client.post(
        URL, json={"grid_code": G11, "name": "x", "geometry": {"type": "Polygon"}}, headers=planner
    )
    assert junk.status_code == 422 and "GeoJSON" in junk.json()["detail"]
    far = _create(client, planner, box(13.0, 34.0, 13.001, 34.001))
    assert far.status_code == 422 and "中国范围" in far.json()["detail"]
    nobody = _create(client, planner, M1, steward_staff_id=999999)
    assert nobody.status_code == 422 and "工作人员 999999 不存在" in nobody.json()["detail"]
    wrong_code = _create(client, planner, M1, code=G21 + "01")
    assert wrong_code.status_code == 422 and "应以所属网格编码" in wrong_code.json()["detail"]
    missing = client.patch(URL + "/41990100100100177", json={"name": "y"}, headers=planner)
    assert missing.status_code == 404 and "41990100100100177" in missing.json()["detail"]


def test_edit_steward_retire_and_serials_never_reused(client, county, planner):
    code = _create(client, planner, M1).json()["properties"]["code"]
    r = client.patch(
        f"{URL}/{code}", json={"steward_staff_id": county, "name": "阳光1单元"}, headers=planner
    )
    assert r.status_code == 200, r.text
    assert r.json()["properties"]["steward"]["name"] == "王芳"
    assert r.json()["properties"]["name"] == "阳光1单元"
    cleared = client.patch(f"{URL}/{code}", json={"steward_staff_id": None}, headers=planner)
    assert cleared.json()["properties"]["steward"] is None
    outside = client.patch(
        f"{URL}/{code}", json={"geometry": geo(box(113.0, 34.0, 113.008, 34.006))}, headers=planner
    )
    assert outside.status_code == 422 and f"微网格 {code} 超出所属网格" in outside.json()["detail"]
    assert client.delete(f"{URL}/{code}", headers=planner).status_code == 204
    assert client.get(URL, headers=planner).json()["features"] == []
    again = _create(client, planner, M1)
    assert again.json()["properties"]["code"] == "41990100100100102"


def test_locate_answers_the_micro_grid(client, county, planner):
    assert _create(client, planner, M1, steward_staff_id=county).status_code == 201
    inside = client.get("/api/v1/locate", params={"lng": 113.001, "lat": 34.001}).json()
    assert inside["grid"]["code"] == G11
    assert inside["micro_grid"] == {
        "code": "41990100100100101", "name": "1号微网格", "grid_code": G11, "steward": "王芳",
    }  # fmt: skip
    elsewhere = client.get("/api/v1/locate", params={"lng": 113.004, "lat": 34.008}).json()
    assert elsewhere["grid"]["code"] == G11 and elsewhere["micro_grid"] is None
    outside = client.get("/api/v1/locate", params={"lng": 113.5, "lat": 34.5}).json()
    assert outside["found"] is False and outside["micro_grid"] is None


def test_audit_finds_gap_households_in_none_band_and_micro_grid_outside_its_grid(
    client, county, planner, db, token_for
):
    assert _create(client, planner, M1).status_code == 201
    add_building(db, "B7", "419901001001", 113.004, 34.008, 3)  # in G11, in no micro-grid
    # G11 redrawn smaller since: M1 now sticks out of it (the write check cannot see this).
    grid = db.query(Grid).filter_by(code=G11, status="active").one()
    grid.geom = mp(box(113.0, 34.001, 113.005, 34.01))
    db.commit()
    r = client.post("/api/v1/audits?area=419901001001", headers=token_for("auditor", "419901"))
    assert r.status_code == 201, r.text
    found = {
        (f["kind"], tuple(f["objects"]))
        for f in r.json()["findings"]
        if f["kind"].startswith(("micro", "household_no"))
    }
    assert ("micro_outside_grid", ("41990100100100101", G11)) in found
    assert ("micro_band", ("41990100100100101",)) in found
    assert ("micro_gap", (G11, "41990100100100101")) in found
    assert any(k == "household_no_micro" and objs[1] == G11 for k, objs in found)


def test_grid_import_takes_micro_grids_by_code_length(client, county, planner):
    import json

    features = [
        {
            "type": "Feature",
            "properties": {"code": G11 + "01", "name": "导入1单元"},
            "geometry": geo(M1),
        },
        {  # reaches ~92 m out of G11: refused, named
            "type": "Feature",
            "properties": {"code": G11 + "02", "name": "越界"},
            "geometry": geo(box(113.004, 34.0, 113.006, 34.002)),
        },
        {  # a 16-digit code is neither a grid nor a micro-grid
            "type": "Feature",
            "properties": {"code": G11 + "9", "name": "错码"},
            "geometry": geo(box(113.0, 34.007, 113.001, 34.008)),
        },
    ]
    data = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    r = client.post(
        "/api/v1/imports/grids",
        files={"file": ("m.geojson", data)},
        data={"commit": "true"},
        headers=planner,
    )
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["inserted"] == 1
    reasons = {row["feature"]: row["reason"] for row in report["rejected"]}
    assert "微网格 41990100100100102 超出所属网格 419901001001001 边界" in reasons[2]
    assert "微网格为17位" in reasons[3]
    [feature] = client.get(URL, headers=planner).json()["features"]
    assert feature["properties"]["name"] == "导入1单元"
    assert feature["properties"]["households"] == 2


def test_ogc_collection_of_micro_grids(client, county, planner, token_for):
    assert _create(client, planner, M1, steward_staff_id=county).status_code == 201
    ogc = "/ogc/collections/micro-grids/items"
    r = client.get(ogc, headers=token_for("dispatcher", "419901"))
    assert r.status_code == 200, r.text
    [feature] = r.json()["features"]
    assert feature["properties"]["code"] == "41990100100100101"
    assert feature["properties"]["grid_code"] == G11
    assert "王芳" not in r.text  # no person on the OGC map
    assert client.get(ogc).status_code == 404  # the public has no such collection
    other = client.get(ogc, headers=token_for("dispatcher", "419901002"))
    assert other.status_code == 200 and other.json()["features"] == []


def _as_app(db, scope: str) -> int:  # type: ignore[no-untyped-def]
    with db.begin_nested():
        db.execute(
            text(
                "SELECT set_config('role', 'gridgov_app', true), set_config('gridgov.scope', :s, true)"
            ),
            {"s": scope},
        )
        n = db.execute(text("SELECT count(*) FROM micro_grids")).scalar_one()
        db.execute(text("RESET ROLE"))
    return int(n)


def test_row_level_security_keeps_micro_grids_in_scope(client, county, planner, db):
    assert _create(client, planner, M1).status_code == 201
    body = {"grid_code": G21, "name": "和平1", "geometry": geo(box(113.01, 34.0, 113.012, 34.002))}
    assert client.post(URL, json=body, headers=planner).status_code == 201
    assert _as_app(db, "419901001001") == 1
    assert _as_app(db, "419901001002") == 1
    assert _as_app(db, "419901001") == 2
    assert _as_app(db, "") == 0
    with pytest.raises(Exception, match="row-level security"), db.begin_nested():
        db.execute(
            text(
                "SELECT set_config('role', 'gridgov_app', true), set_config('gridgov.scope', :s, true)"
            ),
            {"s": "419901001002"},
        )
        db.execute(
            text(
                "INSERT INTO micro_grids (code, grid_code, name, geom) VALUES (:c, :g, 'x', "
                "ST_Multi(ST_MakeEnvelope(113.0, 34.0, 113.001, 34.001, 4490)))"
            ),
            {"c": G11 + "09", "g": G11},
        )


def test_writes_need_a_planner_or_admin_and_a_live_code(client, county, planner, token_for):
    code = _create(client, planner, M1).json()["properties"]["code"]
    dispatcher = token_for("dispatcher", "419901")
    assert client.patch(f"{URL}/{code}", json={"name": "y"}, headers=dispatcher).status_code == 403
    assert client.delete(f"{URL}/{code}", headers=dispatcher).status_code == 403
    assert (
        client.delete(f"{URL}/{code}", headers=token_for("planner", "419901002")).status_code == 404
    )
    assert client.delete(f"{URL}/{code}", headers=planner).status_code == 204
    gone = client.delete(f"{URL}/{code}", headers=planner)
    assert gone.status_code == 404 and code in gone.json()["detail"]
    bad = client.patch(f"{URL}/4199", json={"name": "y"}, headers=planner)
    assert bad.status_code in (404, 422)
    unknown_field = client.patch(f"{URL}/{G11}02", json={"colour": "red"}, headers=planner)
    assert unknown_field.status_code == 422


def test_steward_candidates_are_the_grids_building_staff(client, county, planner, db, token_for):
    from app.buildings.models import Building
    from app.staff.models import StaffAssignment

    b1 = db.query(Building).filter_by(code="B1").one()
    db.add(
        StaffAssignment(
            staff_id=county, grid_code=G11, role="building_leader", building_id=b1.id,
            start_date="2026-01-01",
        )
    )  # fmt: skip
    db.commit()
    r = client.get(f"{URL}/stewards", params={"grid": G11}, headers=planner)
    assert r.status_code == 200, r.text
    # 张伟 and 李娜 lead and work the grid: not building staff, so not offered.
    assert r.json()["data"] == [
        {"staff_id": county, "code": "S9", "name": "王芳", "role": "building_leader"}
    ]
    other = client.get(
        f"{URL}/stewards", params={"grid": G11}, headers=token_for("planner", "419901002")
    )
    assert other.status_code == 404
    assert client.get(f"{URL}/stewards", params={"grid": "12"}, headers=planner).status_code == 422
