"""GET/POST /api/v1/locate on the tiny county (tests/factories.py): answers known by looking."""

import io

import pytest

from gis.crs import from_wgs84
from tests.factories import C1, C2, G11, G12, G21, tiny_county


@pytest.fixture
def county(db):
    tiny_county(db)
    db.commit()


@pytest.mark.parametrize(
    ("lng", "lat", "grid"),
    [(113.002, 34.005, G11), (113.007, 34.002, G12), (113.015, 34.009, G21)],
)
def test_point_routes_to_its_grid_and_hierarchy(client, county, lng, lat, grid):
    r = client.get("/api/v1/locate", params={"lng": lng, "lat": lat})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["found"] and body["grid"]["code"] == grid
    assert body["community"]["code"] == grid[:12]
    assert body["township"] == {"code": "419901001", "name": "城关街道"}
    assert body["county"] == {"code": "419901", "name": "示范县"}


def test_leader_and_workers_with_phone_masked_for_the_public(client, county, token_for):
    anon = client.get("/api/v1/locate", params={"lng": 113.002, "lat": 34.005}).json()
    assert anon["leader"] == {"name": "张伟", "phone": "138****5678", "employment": "full_time"}
    assert [w["name"] for w in anon["workers"]] == ["李娜"]
    dispatcher = client.get(
        "/api/v1/locate",
        params={"lng": 113.002, "lat": 34.005},
        headers=token_for("dispatcher", "419901"),
    ).json()
    assert dispatcher["leader"]["phone"] == "13812345678"
    # A dispatcher of another township sees the answer but not the phone.
    outsider = client.get(
        "/api/v1/locate",
        params={"lng": 113.002, "lat": 34.005},
        headers=token_for("dispatcher", "419901002"),
    ).json()
    assert outsider["leader"]["phone"] == "138****5678"
    planner = client.get(
        "/api/v1/locate",
        params={"lng": 113.002, "lat": 34.005},
        headers=token_for("planner", "419901"),
    ).json()
    assert planner["leader"]["phone"] == "138****5678"


def test_grid_without_leader_says_so(client, county):
    body = client.get("/api/v1/locate", params={"lng": 113.015, "lat": 34.005}).json()
    assert body["leader"] is None and "暂无网格长" in body["message"]


def test_point_outside_every_grid_gives_nearest_and_distance(client, county):
    # 0.001° south of the county edge at 34.0 ≈ 111 m
    body = client.get("/api/v1/locate", params={"lng": 113.002, "lat": 33.999}).json()
    assert body["found"] is False and body["grid"] is None
    assert body["nearest"]["grid"]["code"] == G11
    assert 105 < body["nearest"]["distance_m"] < 115


def test_point_near_a_grid_edge_is_flagged(client, county):
    # 113.00495 is ~4.6 m west of the G11/G12 edge at 113.005
    body = client.get("/api/v1/locate", params={"lng": 113.00495, "lat": 34.005}).json()
    assert body["grid"]["code"] == G11 and body["near_edge"] is True
    assert 4.0 < body["edge_distance_m"] < 5.2
    far = client.get("/api/v1/locate", params={"lng": 113.0025, "lat": 34.005}).json()
    assert far["near_edge"] is False and far["edge_distance_m"] is None


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_shifted_coordinates_are_converted_before_lookup(client, county, crs):
    # The true point is in G11, 100 m from the G12 edge; its GCJ-02/BD-09 reading lies hundreds of
    # metres away and, read as WGS84, would route to another grid or none.
    x, y = from_wgs84(113.004, 34.005, crs)
    naive = client.get("/api/v1/locate", params={"lng": float(x), "lat": float(y)}).json()
    assert naive.get("grid") is None or naive["grid"]["code"] != G11
    body = client.get(
        "/api/v1/locate", params={"lng": float(x), "lat": float(y), "crs": crs}
    ).json()
    assert body["grid"]["code"] == G11
    assert abs(body["point"]["lng"] - 113.004) < 1e-6 and body["point"]["input_crs"] == crs


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"lng": 200, "lat": 34}, "lng"),
        ({"lng": 113, "lat": -95}, "lat"),
        ({"lng": "nan", "lat": 34}, "lng"),
        ({"lng": "abc", "lat": 34}, "lng"),
        ({"lat": 34}, "lng"),
        ({"lng": 113, "lat": 34, "crs": "mars"}, "crs"),
    ],
)
def test_bad_coordinates_are_422_naming_the_field(client, county, params, field):
    r = client.get("/api/v1/locate", params=params)
    assert r.status_code == 422
    assert field in r.json()["detail"]


def test_batch_json_answers_row_by_row(client, county):
    points = [
        {"id": "a", "lng": 113.002, "lat": 34.005},
        {"id": "b", "lng": 113.015, "lat": 34.005},
        {"id": "c", "lng": 113.002, "lat": 33.999},
        {"id": "d", "lng": None, "lat": 34.0},
    ]
    r = client.post("/api/v1/locate", json=points)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["count"] == 4 and body["located"] == 2
    rows = {row["id"]: row for row in body["rows"]}
    assert rows["a"]["grid_code"] == G11 and rows["a"]["leader_name"] == "张伟"
    assert rows["b"]["grid_code"] == G21 and rows["b"]["community_code"] == C2
    assert rows["c"]["grid_code"] is None and rows["c"]["nearest_grid_code"] == G11
    assert 105 < rows["c"]["nearest_distance_m"] < 115
    assert rows["d"]["error"] and rows["d"]["grid_code"] is None


def test_batch_csv_upload_in_gcj02_answers_csv(client, county):
    x, y = from_wgs84([113.002, 113.007], [34.005, 34.002], "gcj02")
    csv = f"id,lng,lat\np1,{x[0]},{y[0]}\np2,{x[1]},{y[1]}\n"
    r = client.post("/api/v1/locate?crs=gcj02&f=csv", files={"file": ("pts.csv", csv, "text/csv")})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    import pandas as pd

    out = pd.read_csv(io.StringIO(r.text), dtype=str)
    assert out["grid_code"].tolist() == [G11, G12]
    assert out["community_code"].tolist() == [C1, C1]


def test_batch_without_coordinate_columns_is_422(client, county):
    r = client.post(
        "/api/v1/locate", content="name,addr\nx,y\n", headers={"content-type": "text/csv"}
    )
    assert r.status_code == 422 and "经纬度" in r.json()["detail"]


@pytest.mark.parametrize("content_type", ["application/json", "text/csv", ""])
def test_an_empty_batch_body_is_422_saying_what_to_send(client, county, content_type):
    r = client.post("/api/v1/locate", content=b" \n", headers={"content-type": content_type})
    assert r.status_code == 422
    assert r.json()["detail"] == "请求体为空：请提交点数组 JSON 或带 id、lng、lat 列的 CSV 文件"


def test_batch_over_the_limit_is_413(app_factory, county):
    from fastapi.testclient import TestClient

    with TestClient(app_factory(locate_batch_max=2)) as c:
        r = c.post("/api/v1/locate", json=[{"lng": 113.0, "lat": 34.0}] * 3)
    assert r.status_code == 413


def test_registry_reloads_after_a_grid_changes(client, county, db):
    from sqlalchemy import text

    assert (
        client.get("/api/v1/locate", params={"lng": 113.015, "lat": 34.005}).json()["grid"]["code"]
        == G21
    )
    db.execute(
        text("UPDATE grids SET status = 'retired', valid_to = CURRENT_DATE WHERE code = :c"),
        {"c": G21},
    )
    db.commit()
    body = client.get("/api/v1/locate", params={"lng": 113.015, "lat": 34.005}).json()
    assert body["found"] is False
