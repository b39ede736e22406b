"""A plan file edited in desktop GIS comes back with what desktop GIS writes: features whose shape
was deleted (null geometry) beside numeric attributes, and codes typed as numbers. Each such feature
is skipped with its number and reason; the rest become the draft."""

from __future__ import annotations

import json

from shapely.geometry import box, mapping

from tests.factories import C1, G11, tiny_county

P = "/api/v1/plans"


def test_null_geometry_beside_numeric_fields_is_a_skipped_feature(db, client, token_for) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    collection = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"code": None, "households": 12}, "geometry": None},
            {
                "type": "Feature",
                "properties": {"code": int(G11), "households": 40},
                "geometry": mapping(box(113.0, 34.0, 113.005, 34.01)),
            },
        ],
    }
    r = client.post(
        f"{P}/upload",
        files={"file": ("edited.geojson", json.dumps(collection))},
        data={"community_code": C1},
        headers=token_for("planner"),
    )
    assert r.status_code == 201, r.text
    plan = r.json()
    assert "第1条已跳过：缺少几何图形" in plan["notes"]
    assert [g["code"] for g in plan["grids"]] == [G11]  # the numeric code kept, as text


def test_a_file_of_only_null_geometries_is_refused_with_the_reasons(db, client, token_for) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    collection = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"households": 1.5}, "geometry": None},
            {"type": "Feature", "properties": {"households": 2.5}, "geometry": None},
        ],
    }
    r = client.post(
        f"{P}/upload",
        files={"file": ("empty.geojson", json.dumps(collection))},
        data={"community_code": C1},
        headers=token_for("planner"),
    )
    assert r.status_code == 422, r.text
    body = r.json()
    assert "没有可用的网格面" in json.dumps(body, ensure_ascii=False)
    assert "第2条已跳过：缺少几何图形" in json.dumps(body, ensure_ascii=False)
