"""Tests for gis.partition: small hand-drawn communities whose right answer is visible by eye.

Layouts are drawn in metres and placed near 114.0E 34.75N by a local affine map (metres per degree
at that latitude), so that edges that coincide in the drawing coincide exactly in lon/lat too; the
functions themselves measure in the Gauss-Krüger zone, where these layouts are true to ~0.1 %.
Tiling is checked in the storage coordinates on purpose: it is a topological equality
(union == community, overlaps == 0), not a measurement.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon, box

from gis.partition import PartitionResult, partition_community, repartition

GK = 4547  # CGCS2000 / 3-degree Gauss-Kruger CM 114E
LON0, LAT0 = 114.0, 34.75
M_PER_DEG_LON = 111_320.0 * np.cos(np.radians(LAT0))
M_PER_DEG_LAT = 110_950.0


def ll(geoms):
    """Metric layout (origin at LON0, LAT0) -> GeoSeries in EPSG:4490."""
    moved = [
        shapely.affinity.affine_transform(
            g, [1 / M_PER_DEG_LON, 0, 0, 1 / M_PER_DEG_LAT, LON0, LAT0]
        )
        for g in geoms
    ]
    return gpd.GeoSeries(moved, crs=4490)


def buildings(specs, footprints=True, size=(30, 14)):
    """specs: (id, x, y, households); footprints are size[0] x size[1] m rectangles around (x, y)."""
    w, h = size
    geoms = [
        box(x - w / 2, y - h / 2, x + w / 2, y + h / 2) if footprints else Point(x, y)
        for _, x, y, _ in specs
    ]
    return gpd.GeoDataFrame(
        {"id": [s[0] for s in specs], "households": [s[3] for s in specs]},
        geometry=ll(geoms).values,
        crs=4490,
    )


def community(geom):
    return ll([geom]).iloc[0]


def assert_exact_tiling(grids: gpd.GeoDataFrame, area) -> None:
    geoms = grids.geometry.values
    rel = 1e-9 * area.area
    union = shapely.union_all(geoms)
    assert abs(union.area - area.area) < rel
    assert abs(sum(g.area for g in geoms) - area.area) < rel
    assert union.symmetric_difference(area).area < rel
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="intersects")
    pairs = a < b
    overlap = shapely.area(shapely.intersection(geoms[a[pairs]], geoms[b[pairs]]))
    assert np.all(overlap < rel)
    assert shapely.coverage_is_valid(geoms)


def assert_contiguous(grids: gpd.GeoDataFrame) -> None:
    assert set(grids.geom_type) == {"Polygon"}


def grid_of(result: PartitionResult, building_id) -> int:
    rows = [i for i, ids in enumerate(result.grids["building_ids"]) if building_id in ids]
    assert len(rows) == 1, f"building {building_id} is in {len(rows)} grids"
    return rows[0]


def kinds(result: PartitionResult) -> list[str]:
    return [i.kind for i in result.issues]


RECT = box(0, 0, 200, 100)
TWO_BY_TWO = [(1, 50, 25, 150), (2, 150, 25, 150), (3, 50, 75, 150), (4, 150, 75, 150)]


@pytest.mark.parametrize("footprints", [True, False])
def test_two_by_two_gives_two_grids_of_300_split_the_short_way(footprints):
    area = community(RECT)
    result = partition_community(area, buildings(TWO_BY_TWO, footprints))
    g = result.grids
    assert result.feasible and result.issues == []
    assert g.crs.to_epsg() == 4490
    assert g["households"].tolist() == [300, 300]
    assert g["index"].tolist() == [0, 1]
    assert set(g["kind"]) == {"comprehensive"}
    # The cut across the short side (100 m) beats the long one (200 m); index 0 is the western grid.
    assert sorted(g["building_ids"].iloc[0]) == [1, 3]
    assert sorted(g["building_ids"].iloc[1]) == [2, 4]
    assert_exact_tiling(g, area)
    assert_contiguous(g)
    assert np.all(
        (g["compactness"] > 0.5) & (g["compactness"] <= 1.0)
    )  # two 100 x 100 m squares: π/4


def test_a_road_along_the_long_side_turns_the_cut():
    area = community(RECT)
    road = ll([LineString([(-20, 50), (220, 50)])])
    result = partition_community(area, buildings(TWO_BY_TWO), barriers=road)
    assert result.feasible and result.issues == []
    assert sorted(sorted(ids) for ids in result.grids["building_ids"]) == [[1, 2], [3, 4]]
    north = community(box(0, 50, 200, 100))
    for geom in result.grids.geometry:  # each grid entirely on one side of the road
        share = geom.intersection(north).area / geom.area
        assert share < 1e-9 or share > 1 - 1e-9
    assert_exact_tiling(result.grids, area)


def test_barrier_crossed_only_when_one_side_cannot_stand_alone():
    area = community(RECT)
    road = ll([LineString([(100, -20), (100, 120)])])
    specs = [(1, 50, 50, 300), (2, 150, 30, 100), (3, 150, 70, 100)]  # east of the road: 200 < 250
    result = partition_community(area, buildings(specs), barriers=road)
    assert result.grids["households"].tolist() == [500]
    assert "barrier_crossed" in kinds(result)
    assert result.feasible  # crossing is reported, but the band is met


def test_long_footprints_are_never_split():
    area = community(box(0, 0, 300, 120))
    specs = [
        (1, 60, 30, 100),
        (2, 60, 90, 100),
        (3, 150, 60, 100),
        (4, 240, 30, 100),
        (5, 240, 90, 100),
        (6, 150, 8, 100),
    ]
    bld = buildings(specs, size=(110, 12))  # slabs longer than the gaps between them
    result = partition_community(area, bld)
    assert_exact_tiling(result.grids, area)
    for b_id, fp in zip(bld["id"], bld.geometry, strict=True):
        g = result.grids.geometry.iloc[grid_of(result, b_id)]
        assert fp.difference(g).area < 1e-9 * fp.area
    assert sorted(result.grids["households"]) == [300, 300]


def test_oversize_building_is_its_own_grid_and_reported():
    area = community(box(0, 0, 300, 100))
    specs = [
        (9, 50, 50, 700),
        (1, 150, 25, 150),
        (2, 150, 75, 150),
        (3, 250, 25, 150),
        (4, 250, 75, 150),
    ]
    result = partition_community(area, buildings(specs))
    g = result.grids
    big = grid_of(result, 9)
    assert g["building_ids"].iloc[big] == [9] and g["households"].iloc[big] == 700
    issue = next(i for i in result.issues if i.kind == "oversize_building")
    assert issue.building_ids == (9,) and issue.grid_index == big and "700" in issue.message_zh
    assert not result.feasible
    others = g.drop(index=big)
    assert others["households"].between(250, 500).all()
    assert_exact_tiling(g, area)
    assert_contiguous(g)


@pytest.mark.parametrize("footprints", [True, False])
def test_too_few_households_is_reported_not_looped(footprints):
    area = community(RECT)
    result = partition_community(area, buildings([(1, 50, 50, 60), (2, 150, 50, 40)], footprints))
    assert result.grids["households"].tolist() == [100]
    assert not result.feasible
    issue = next(i for i in result.issues if i.kind == "band_infeasible")
    assert issue.grid_index == 0 and "100" in issue.message_zh and "250" in issue.message_zh
    assert_exact_tiling(result.grids, area)


def test_band_unreachable_by_whole_buildings_says_so():
    # 260 + 260 households with band (250, 300): one grid is too big, two cannot share 260+260 evenly?
    # They can (260 each). Use 3 x 200 = 600 with band (250, 300): 2 grids need 300/300 -> 200+200=400.
    area = community(box(0, 0, 300, 100))
    specs = [(1, 50, 50, 200), (2, 150, 50, 200), (3, 250, 50, 200)]
    result = partition_community(area, buildings(specs), target=280, band=(250, 300))
    assert not result.feasible
    assert "band_infeasible" in kinds(result)
    assert result.grids["households"].sum() == 600
    assert_exact_tiling(result.grids, area)


def test_dedicated_polygon_is_carved_out_with_its_buildings():
    area = community(box(0, 0, 300, 100))
    school = ll([box(200, 0, 300, 100)])
    specs = [*TWO_BY_TWO, (5, 250, 50, 40)]
    result = partition_community(
        area, buildings(specs), dedicated=gpd.GeoDataFrame(geometry=school)
    )
    g = result.grids
    assert g["kind"].tolist() == ["comprehensive", "comprehensive", "dedicated"]
    d = g.iloc[2]
    assert d["building_ids"] == [5] and d["households"] == 40
    expected = school.iloc[0]
    assert d.geometry.symmetric_difference(expected).area < 1e-9 * expected.area
    assert g["households"].iloc[:2].tolist() == [300, 300]
    assert result.feasible
    assert_exact_tiling(g, area)


def test_dedicated_owns_a_footprint_mostly_inside_it_and_keeps_it_whole():
    area = community(box(0, 0, 300, 100))
    school = ll([box(200, 0, 300, 100)])
    bld = buildings([*TWO_BY_TWO, (5, 205, 50, 40)])  # 30 m wide: 20 m inside the school, 10 m out
    result = partition_community(area, bld, dedicated=gpd.GeoDataFrame(geometry=school))
    d = result.grids.iloc[grid_of(result, 5)]
    assert d["kind"] == "dedicated"
    fp = bld.geometry.iloc[4]
    assert fp.difference(d.geometry).area < 1e-9 * fp.area
    assert_exact_tiling(result.grids, area)


def test_land_cut_off_by_a_dedicated_grid_without_households_joins_it():
    area = community(box(0, 0, 300, 100))
    park = ll([box(200, 0, 290, 100)])  # leaves a 10 m strip with no building east of the park
    result = partition_community(
        area, buildings(TWO_BY_TWO), dedicated=gpd.GeoDataFrame(geometry=park)
    )
    g = result.grids
    assert len(g) == 3
    dedicated = g[g["kind"] == "dedicated"].geometry.iloc[0]
    assert abs(dedicated.area - community(box(200, 0, 300, 100)).area) < 1e-9 * dedicated.area
    assert_exact_tiling(g, area)


def test_multipolygon_community_never_joins_its_parts():
    area = community(shapely.MultiPolygon([box(0, 0, 200, 100), box(300, 0, 500, 100)]))
    specs = [*TWO_BY_TWO, (5, 350, 50, 280), (6, 450, 50, 20)]
    result = partition_community(area, buildings(specs))
    assert sorted(result.grids["households"]) == [300, 300, 300]
    assert_contiguous(result.grids)
    assert_exact_tiling(result.grids, area)


def test_buildings_outside_the_community_are_reported():
    area = community(RECT)
    result = partition_community(area, buildings([*TWO_BY_TWO, (7, 400, 50, 80)]))
    issue = next(i for i in result.issues if i.kind == "building_outside")
    assert issue.building_ids == (7,)
    assert all(7 not in ids for ids in result.grids["building_ids"])
    assert result.grids["households"].sum() == 600


def test_every_building_in_exactly_one_grid_on_a_bigger_layout():
    rng = np.random.default_rng(7)
    xs, ys = np.meshgrid(np.arange(25, 600, 50), np.arange(25, 400, 50))
    specs = [
        (i, x, y, int(h))
        for i, (x, y, h) in enumerate(
            zip(xs.ravel(), ys.ravel(), rng.integers(20, 120, xs.size), strict=True)
        )
    ]
    area = community(box(0, 0, 600, 400))
    road = ll([LineString([(-10, 210), (610, 190)]), LineString([(300, -10), (310, 410)])])
    result = partition_community(area, buildings(specs, size=(20, 10)), barriers=road)
    g = result.grids
    seen = sorted(b for ids in g["building_ids"] for b in ids)
    assert seen == list(range(len(specs)))
    assert g["households"].between(250, 500).all() and result.feasible
    assert g["index"].tolist() == list(range(len(g)))
    assert_exact_tiling(g, area)
    assert_contiguous(g)


ROAD_Y50 = [LineString([(-20, 50), (220, 50)])]


@pytest.mark.parametrize(
    ("specs", "footprints", "roads", "households"),
    [
        pytest.param(
            [(1, 50, 50, 150), (2, 50, 50, 150), (3, 150, 50, 300)],
            False,
            [],
            [300, 300],
            id="two points at one spot",
        ),
        pytest.param(
            [(1, 50, 30, 150), (2, 150, 30, 150), (3, 100, 50, 300)],
            True,
            ROAD_Y50,
            [300, 300],
            id="footprint across a road",
        ),
        pytest.param(
            [(1, 50, 25, 150), (2, 150, 25, 150), (3, 50, 75, 150), (4, 150, 50, 150)],
            False,
            ROAD_Y50,
            [300, 300],
            id="point on a road",
        ),
        pytest.param(
            [(1, 195, 50, 150), (2, 100, 50, 150), (3, 10, 80, 300)],
            True,
            [],
            [300, 300],
            id="footprint across the boundary",
        ),
        pytest.param(
            TWO_BY_TWO,
            True,
            [LineString([(100, 20), (100, 80)])],
            [300, 300],
            id="road ending inside",
        ),
    ],
)
def test_awkward_inputs_still_tile_exactly_with_whole_buildings(
    specs, footprints, roads, households
):
    area = community(RECT)
    bld = buildings(specs, footprints)
    result = partition_community(area, bld, barriers=ll(roads) if roads else None)
    assert sorted(result.grids["households"]) == households
    assert result.feasible
    assert_exact_tiling(result.grids, area)
    assert_contiguous(result.grids)
    if footprints:
        for b_id, fp in zip(bld["id"], bld.geometry, strict=True):
            g = result.grids.geometry.iloc[grid_of(result, b_id)]
            assert fp.intersection(area).difference(g).area < 1e-9 * fp.area


def test_no_buildings_at_all_gives_one_empty_grid_reported():
    empty = gpd.GeoDataFrame(
        {"id": [], "households": []}, geometry=gpd.GeoSeries([], crs=4490), crs=4490
    )
    area = community(RECT)
    result = partition_community(area, empty)
    assert result.grids["households"].tolist() == [0]
    assert kinds(result) == ["empty_area"] and not result.feasible
    assert_exact_tiling(result.grids, area)


@pytest.mark.parametrize(
    ("what", "change"),
    [
        ("buildings in web mercator", lambda kw: kw.update(buildings=kw["buildings"].to_crs(3857))),
        (
            "buildings without crs",
            lambda kw: kw.update(buildings=kw["buildings"].set_crs(None, allow_override=True)),
        ),
        (
            "barriers in metres",
            lambda kw: kw.update(barriers=ll([LineString([(0, 50), (200, 50)])]).to_crs(GK)),
        ),
        (
            "dedicated in metres",
            lambda kw: kw.update(
                dedicated=gpd.GeoDataFrame(geometry=ll([box(0, 0, 9, 9)]).to_crs(GK))
            ),
        ),
        ("community declared metric", lambda kw: kw.update(crs=GK)),
    ],
)
def test_crs_mismatch_raises(what, change):
    kwargs = {"buildings": buildings(TWO_BY_TWO)}
    change(kwargs)
    with pytest.raises(ValueError, match="坐标系"):
        partition_community(community(RECT), **kwargs)


def test_wgs84_is_accepted_as_cgcs2000():
    bld = buildings(TWO_BY_TWO).set_crs(4326, allow_override=True)
    result = partition_community(community(RECT), bld, crs=4326)
    assert result.grids.crs.to_epsg() == 4490 and result.feasible


@pytest.mark.parametrize(
    ("frame", "kwargs", "match"),
    [
        (lambda b: b.drop(columns="households"), {}, "households"),
        (lambda b: b.assign(households=[150, -1, 150, 150]), {}, "非负"),
        (lambda b: b.assign(households=[150, np.nan, 150, 150]), {}, "非负"),
        (lambda b: b.assign(id=[1, 1, 2, 3]), {}, "重复"),
        (lambda b: b, {"band": (310, 500)}, "区间"),
        (lambda b: b, {"band": (250, 280)}, "区间"),
    ],
)
def test_bad_inputs_raise(frame, kwargs, match):
    with pytest.raises(ValueError, match=match):
        partition_community(community(RECT), frame(buildings(TWO_BY_TWO)), **kwargs)


# ----------------------------------------------------------------------------- incremental mode

STRIP = box(0, 0, 800, 100)
ROW = [(i, 50 + 100 * i, 50, 150) for i in range(8)]  # 4 grids of 2 x 150 along a strip


def _initial_grids():
    area = community(STRIP)
    first = partition_community(area, buildings(ROW))
    assert first.grids["households"].tolist() == [300, 300, 300, 300]
    grids = first.grids[["geometry"]].assign(id=["g0", "g1", "g2", "g3"])
    return area, grids


def test_repartition_leaves_in_band_grids_untouched():
    area, grids = _initial_grids()
    grown = buildings([*ROW[:7], (7, 750, 50, 450)])  # a new estate: the eastern grid now has 600
    result = repartition(grids, grown, community=area)
    g = result.grids
    kept = g[g["source_id"].notna()]
    assert sorted(kept["source_id"]) == ["g0", "g1"]  # g3 is out of band, g2 its neighbour
    for _, row in kept.iterrows():
        original = grids.loc[grids["id"] == row["source_id"]].geometry.iloc[0]
        assert row.geometry is original  # not re-projected, not re-noded: the same object
    new = g[g["source_id"].isna()]
    assert sorted(new["households"]) == [450, 450]
    assert g["households"].between(250, 500).all() and result.feasible
    assert_exact_tiling(g, area)  # new grids fill exactly the land of g2 and g3
    assert_contiguous(g)


def test_repartition_with_nothing_out_of_band_changes_nothing():
    area, grids = _initial_grids()
    result = repartition(grids, buildings(ROW), community=area)
    assert result.grids["source_id"].tolist() == ["g0", "g1", "g2", "g3"]
    assert result.issues == [] and result.feasible


def test_repartition_accepts_grids_stored_as_one_part_multipolygons():
    area, grids = _initial_grids()
    stored = grids.assign(geometry=[shapely.MultiPolygon([g]) for g in grids.geometry])
    result = repartition(stored, buildings(ROW), community=area)
    assert result.issues == [] and result.feasible
    by_id = dict(zip(stored["id"], stored.geometry, strict=True))
    assert all(
        g is by_id[i] for i, g in zip(result.grids["source_id"], result.grids.geometry, strict=True)
    )


def test_repartition_fills_a_gap_no_grid_covers():
    area, grids = _initial_grids()
    result = repartition(grids.iloc[:3], buildings(ROW), community=area)  # g3 was deleted
    g = result.grids
    assert sorted(g["source_id"].dropna()) == ["g0", "g1"]
    assert sorted(g["households"]) == [300, 300, 300, 300]
    assert_exact_tiling(g, area)


def test_repartition_never_touches_a_lone_oversize_building():
    area, grids = _initial_grids()
    specs = [*ROW[:6], (6, 650, 50, 600), (7, 750, 50, 0)]
    result = repartition(grids, buildings(specs), community=area)
    assert result.grids["source_id"].tolist() == ["g0", "g1", "g2", "g3"]
    assert kinds(result) == ["oversize_building"]
    assert not result.feasible


def test_repartition_crs_mismatch_raises():
    area, grids = _initial_grids()
    with pytest.raises(ValueError, match="坐标系"):
        repartition(grids.to_crs(GK), buildings(ROW), community=area)
    with pytest.raises(ValueError, match="坐标系"):
        repartition(grids, buildings(ROW).to_crs(3857), community=area)


def test_invalid_community_is_repaired_and_reported():
    bowtie = Polygon([(0, 0), (200, 100), (200, 0), (0, 100)])  # self-intersecting
    area = community(bowtie)
    specs = [(1, 20, 50, 150), (2, 180, 50, 150)]
    result = partition_community(area, buildings(specs, footprints=False))
    assert "geometry_repaired" in kinds(result)
    assert result.grids["households"].sum() == 300
