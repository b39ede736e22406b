"""Roads and door numbers imported through the one import core: every bad row a rejection with its
number and reason; a door without a point placed along its road; 人民路15号 geocoded to its door."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from app.imports.service import run_import
from tests.geocode.conftest import load_places

ROADS = """{"type": "FeatureCollection", "features": [
 {"type": "Feature", "properties": {"name": "试验路", "county_code": "419901", "first_number": 1,
  "last_number": 101}, "geometry": {"type": "LineString", "coordinates": [[113.58, 34.51], [113.59, 34.51]]}},
 {"type": "Feature", "properties": {"name": "", "county_code": "419901"}, "geometry": null},
 {"type": "Feature", "properties": {"name": "外县路", "county_code": "999999"}, "geometry": null},
 {"type": "Feature", "properties": {"name": "倒号路", "county_code": "419901", "first_number": 50,
  "last_number": 10}, "geometry": null},
 {"type": "Feature", "properties": {"name": "试验路", "county_code": "419901"}, "geometry": null}
]}"""

DOORS = """road,number,suffix,lng,lat,building_codes
试验路,51,,,,
试验路,52,,113.585,34.5099,
无名路,3,,113.585,34.51,
试验路,第三,,113.585,34.51,
试验路,51,,,,
试验路,7,,113.585,34.51,4199019999999999
"""


def test_bad_rows_are_rejected_with_number_and_reason(db, tmp_path: Path) -> None:
    load_places(db)
    roads = tmp_path / "roads.geojson"
    roads.write_text(ROADS, encoding="utf-8")
    report = run_import(db, kind="roads", path=roads, commit=True)
    assert report.inserted == 1
    reasons = {note.feature: note.reason for note in report.rejected}
    assert set(reasons) == {2, 3, 4, 5}
    assert "缺少道路名称" in reasons[2]
    assert "999999" in reasons[3]
    assert "终止号大于起始号" in reasons[4]
    assert "重复" in reasons[5]

    doors = tmp_path / "doors.csv"
    doors.write_text(DOORS, encoding="utf-8")
    report = run_import(db, kind="door_numbers", path=doors, commit=True)
    assert report.inserted == 2
    reasons = {note.feature: note.reason for note in report.rejected}
    assert set(reasons) == {3, 4, 5, 6}
    assert "不存在" in reasons[3] and "无名路" in reasons[3]
    assert "门牌号" in reasons[4]
    assert "重复" in reasons[5]
    assert "4199019999999999" in reasons[6]

    # 51 of 1..101 is half way along the road, odd numbers north of it (walking east: left)
    lng, lat, located = db.execute(
        text(
            "SELECT ST_X(d.location), ST_Y(d.location), d.located FROM door_numbers d "
            "JOIN roads r ON r.id = d.road_id WHERE r.name = '试验路' AND d.number = 51"
        )
    ).one()
    assert located == "interpolated"
    assert abs(lng - 113.585) < 0.0002 and 34.5100 < lat < 34.5103


def test_renmin_road_15_answers_the_door(db, client) -> None:  # type: ignore[no-untyped-def]
    load_places(db)
    db.commit()
    r = client.get("/api/v1/geocode", params={"address": "人民路15号"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["match_level"] == "door" and body["certain"] is True
    assert body["door"]["label"] == "人民路15号" and body["door"]["located"] == "interpolated"
    assert body["building"] is None
    assert body["location"]["found"] is True


def test_community_answer_has_its_grids_and_no_location(db, client) -> None:  # type: ignore[no-untyped-def]
    load_places(db)
    db.commit()
    r = client.get("/api/v1/geocode", params={"address": "城关街道幸福社区"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["match_level"] == "community" and body["building"] is None
    assert body["area"]["code"] == "419901001004" and len(body["area"]["grids"]) == 8
    assert body["location"] is None
