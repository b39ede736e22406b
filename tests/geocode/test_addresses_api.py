"""Roads and door numbers edited through the API by the roles that keep the county's map, inside
their jurisdiction; geocoding follows the edit at once (tiny county: tests/factories.py)."""

from __future__ import annotations

import pytest

from tests.factories import C1, C2, COUNTY, tiny_county

ROAD = {
    "county_code": COUNTY,
    "name": "幸福路",
    "aliases": ["老街"],
    "first_number": 1,
    "last_number": 101,
    "line": [[113.001, 34.005], [113.019, 34.005]],  # west to east across both communities
}


@pytest.fixture
def county(db):  # type: ignore[no-untyped-def]
    tiny_county(db)
    db.commit()


def test_planner_adds_a_road_and_doors_and_the_geocoder_finds_them(
    client, county, token_for
) -> None:  # type: ignore[no-untyped-def]
    planner = token_for("planner", COUNTY)
    r = client.post("/api/v1/roads", json=ROAD, headers=planner)
    assert r.status_code == 201, r.text
    road = r.json()
    assert road["name"] == "幸福路" and road["doors"] == 0

    # No point: interpolated; 11 of 1..101 is a tenth of the way, in 幸福社区 (west half), north.
    r = client.post(
        "/api/v1/door-numbers",
        json={"road_id": road["id"], "number": "11", "building_codes": ["B1"]},
        headers=planner,
    )
    assert r.status_code == 201, r.text
    door = r.json()
    assert door["label"] == "幸福路11号" and door["located"] == "interpolated"
    assert door["community_code"] == C1 and door["lat"] > 34.005
    assert door["building_codes"] == ["B1"]

    # A surveyed point in 和平社区, written as a Chinese numeral with a suffix.
    r = client.post(
        "/api/v1/door-numbers",
        json={"road_id": road["id"], "number": "八十之1", "lng": 113.015, "lat": 34.0049},
        headers=planner,
    )
    assert r.status_code == 201, r.text
    assert r.json()["label"] == "幸福路80-1号" and r.json()["community_code"] == C2

    answer = client.get("/api/v1/geocode", params={"address": "老街11号"}).json()
    assert answer["match_level"] == "building" and answer["building"]["code"] == "B1"
    assert answer["door"]["label"] == "幸福路11号" and answer["certain"] is True

    listed = client.get("/api/v1/door-numbers", params={"road_id": road["id"]}, headers=planner)
    assert [d["label"] for d in listed.json()] == ["幸福路11号", "幸福路80-1号"]


def test_moving_the_road_moves_its_interpolated_doors_only(client, county, token_for) -> None:  # type: ignore[no-untyped-def]
    planner = token_for("planner", COUNTY)
    road = client.post("/api/v1/roads", json=ROAD, headers=planner).json()
    moved = client.post(
        "/api/v1/door-numbers", json={"road_id": road["id"], "number": "51"}, headers=planner
    ).json()
    fixed = client.post(
        "/api/v1/door-numbers",
        json={"road_id": road["id"], "number": "53", "lng": 113.0105, "lat": 34.0052},
        headers=planner,
    ).json()
    r = client.patch(
        f"/api/v1/roads/{road['id']}",
        json={"line": [[113.001, 34.006], [113.019, 34.006]]},
        headers=planner,
    )
    assert r.status_code == 200, r.text
    doors = {
        d["label"]: d
        for d in client.get(
            "/api/v1/door-numbers", params={"road_id": road["id"]}, headers=planner
        ).json()
    }
    assert doors["幸福路51号"]["lat"] > moved["lat"] + 0.0009
    assert doors["幸福路53号"]["lat"] == fixed["lat"]


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ({"name": "幸福路"}, 409, "已有道路"),
        ({"first_number": 50, "last_number": 10}, 422, "终止号大于起始号"),
        ({"line": [[113.001, 34.005], [113.001, 34.005]]}, 422, "line"),
        ({"county_code": "419902"}, 403, "不在您的辖区"),
    ],
)
def test_bad_roads_are_refused(client, county, token_for, change, status, words) -> None:  # type: ignore[no-untyped-def]
    planner = token_for("planner", COUNTY)
    client.post("/api/v1/roads", json=ROAD, headers=planner)
    r = client.post("/api/v1/roads", json={**ROAD, "name": "别的路", **change}, headers=planner)
    assert r.status_code == status, r.text
    assert words in r.text


def test_bad_doors_are_refused(client, county, token_for) -> None:  # type: ignore[no-untyped-def]
    planner = token_for("planner", COUNTY)
    road = client.post("/api/v1/roads", json=ROAD, headers=planner).json()
    body = {"road_id": road["id"], "number": "15"}
    assert client.post("/api/v1/door-numbers", json=body, headers=planner).status_code == 201
    again = client.post("/api/v1/door-numbers", json=body, headers=planner)
    assert again.status_code == 409 and "已存在" in again.json()["detail"]
    bad = client.post("/api/v1/door-numbers", json={**body, "number": "第十五"}, headers=planner)
    assert bad.status_code == 422 and "门牌号" in bad.json()["detail"]
    nobuilding = client.post(
        "/api/v1/door-numbers",
        json={**body, "number": "17", "building_codes": ["NOPE"]},
        headers=planner,
    )
    assert nobuilding.status_code == 422 and "NOPE" in nobuilding.json()["detail"]
    outside = client.post(
        "/api/v1/door-numbers",
        json={**body, "number": "19", "lng": 113.5, "lat": 34.5},
        headers=planner,
    )
    assert outside.status_code == 422 and "不在任何社区" in outside.json()["detail"]


def test_only_the_map_keepers_edit_and_only_inside_their_area(client, county, token_for) -> None:  # type: ignore[no-untyped-def]
    planner = token_for("planner", COUNTY)
    road = client.post("/api/v1/roads", json=ROAD, headers=planner).json()
    dispatcher = token_for("dispatcher", COUNTY)
    r = client.post("/api/v1/roads", json={**ROAD, "name": "调度路"}, headers=dispatcher)
    assert r.status_code == 403
    assert client.get("/api/v1/roads", headers=dispatcher).status_code == 200
    # A planner of 和平社区 may not put a door in 幸福社区, nor see it.
    east = token_for("planner", C2)
    r = client.post(
        "/api/v1/door-numbers", json={"road_id": road["id"], "number": "11"}, headers=east
    )
    assert r.status_code == 403 and "辖区" in r.json()["detail"]
    west_door = client.post(
        "/api/v1/door-numbers", json={"road_id": road["id"], "number": "11"}, headers=planner
    ).json()
    assert client.delete(f"/api/v1/door-numbers/{west_door['id']}", headers=east).status_code == 404
    assert client.get("/api/v1/door-numbers", headers=east).json() == []
    r = client.delete(f"/api/v1/door-numbers/{west_door['id']}", headers=planner)
    assert r.status_code == 204


def test_the_database_alone_keeps_door_numbers_in_their_community(
    app_factory, county, token_for
) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    planner = token_for("planner", COUNTY)
    east = token_for("planner", C2)
    with TestClient(app_factory(access_app_filters=False)) as bare:
        road = bare.post("/api/v1/roads", json=ROAD, headers=planner).json()
        west = bare.post(
            "/api/v1/door-numbers", json={"road_id": road["id"], "number": "11"}, headers=planner
        ).json()
        # Row-level security refuses the east planner's door in 幸福社区: never a 500, never written.
        r = bare.post(
            "/api/v1/door-numbers", json={"road_id": road["id"], "number": "13"}, headers=east
        )
        assert r.status_code in (403, 404, 409, 422), r.text
        r = bare.delete(f"/api/v1/door-numbers/{west['id']}", headers=east)
        assert r.status_code == 404, r.text
        r = bare.patch(
            f"/api/v1/door-numbers/{west['id']}",
            json={"lng": 113.003, "lat": 34.0051},
            headers=east,
        )
        assert r.status_code in (403, 404), r.text
        listed = bare.get("/api/v1/door-numbers", params={"road_id": road["id"]}, headers=planner)
        assert [d["label"] for d in listed.json()] == ["幸福路11号"]
