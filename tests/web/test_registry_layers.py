"""The registry layers the pages draw and label with: child areas for drill-down, building points,
and the names of the units a KPI table is grouped by (retired grids included), on the tiny county
(tests/factories.py: 城关街道 → 幸福社区 with grids …001001 and …001002, 和平社区 with …002001;
building B1, 3号楼 in 阳光花园, 2 households, in grid …001001)."""

from __future__ import annotations

import pytest
from shapely.geometry import box

from tests.factories import C1, C2, G11, G12, G21, TOWNSHIP, add_grid

RETIRED = C1 + "009"


@pytest.fixture
def county(web_data):  # type: ignore[no-untyped-def]
    """The tiny county, committed once for tests/web (conftest.py)."""


def _get(client, headers, path, **params):  # type: ignore[no-untyped-def]
    r = client.get(path, params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_child_areas_carry_their_grids_and_households(client, county, token_for):
    admin = token_for("county_admin")
    fc = _get(client, admin, "/api/v1/layers/areas", parent=TOWNSHIP)
    assert fc["parent"] == TOWNSHIP
    assert [
        (f["id"], f["properties"]["name"], f["properties"]["grids"], f["properties"]["households"])
        for f in fc["features"]
    ] == [(C1, "幸福社区", 2, 2), (C2, "和平社区", 1, 0)]
    assert fc["features"][0]["geometry"]["type"] == "MultiPolygon"
    with_self = _get(client, admin, "/api/v1/layers/areas", parent=TOWNSHIP, include_self="true")
    assert [f["id"] for f in with_self["features"]] == [TOWNSHIP, C1, C2]
    assert with_self["features"][0]["properties"]["grids"] == 3


def test_building_points_by_community_and_by_grid(client, county, token_for):
    admin = token_for("county_admin")
    (b1,) = _get(client, admin, "/api/v1/layers/buildings", area=C1)["features"]
    assert b1["geometry"] == {"type": "Point", "coordinates": [113.002, 34.005]}
    assert b1["properties"] | {"id": 0} == {
        "id": 0,
        "code": "B1",
        "name": "3号楼",
        "compound": "阳光花园",
        "households": 2,
    }
    assert [
        f["properties"]["code"]
        for f in _get(client, admin, "/api/v1/layers/buildings", area=G11)["features"]
    ] == ["B1"]
    assert _get(client, admin, "/api/v1/layers/buildings", area=G12)["features"] == []
    assert _get(client, admin, "/api/v1/layers/buildings", area=C2)["features"] == []


def test_unit_names_per_level_retired_grids_included(client, db, county, token_for):
    add_grid(db, RETIRED, box(113.0, 34.0, 113.001, 34.001), status="retired", name="旧网格")
    admin = token_for("county_admin")

    def names(level: str, **params: str) -> dict[str, str]:
        return dict(_get(client, admin, "/api/v1/layers/names", level=level, **params)["names"])

    assert names("township") == {TOWNSHIP: "城关街道"}
    assert names("community") == {C1: "幸福社区", C2: "和平社区"}
    assert names("grid") == {
        G11: "幸福社区第1网格",
        G12: "幸福社区第2网格",
        RETIRED: "旧网格",
        G21: "和平社区第1网格",
    }
    assert names("grid", area=C2) == {G21: "和平社区第1网格"}
    # Categories are the same everywhere: an area does not narrow them.
    assert names("category", area=C2)["0101"] == "邻里纠纷"
