"""Coverage audit on hand-drawn polygons whose findings are known by looking.

Shapes are drawn in local metres and placed in the Gauss-Krüger zone of 114°E near 34°N, then
stored as EPSG:4490 lon/lat as the database holds them; the audit projects them back, so areas
come out in square metres up to the round trip's rounding.
"""

from __future__ import annotations

import logging
import math

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from shapely.geometry import Point, Polygon, box

from gis.coverage import FINDING_COLUMNS, FINDING_KINDS, CoverageTolerances, audit_coverage

_TO_LL = pyproj.Transformer.from_crs(4547, 4490, always_xy=True)
_X0, _Y0 = 500_000.0, 3_762_000.0

C = "419901001001"
G1, G2, G3, G4 = (f"{C}00{i}" for i in range(1, 5))


def ll(geom):
    """Local metres -> EPSG:4490 lon/lat."""
    if geom is None:
        return None

    def move(xy: np.ndarray) -> np.ndarray:
        lon, lat = _TO_LL.transform(xy[:, 0] + _X0, xy[:, 1] + _Y0)
        return np.column_stack([lon, lat])

    return shapely.transform(geom, move)


def communities(*rows):
    return gpd.GeoDataFrame(
        {"code": [r[0] for r in rows]}, geometry=[ll(r[1]) for r in rows], crs=4490
    )


def grids(*rows, households=None, types=None, community=C):
    data = {"code": [r[0] for r in rows], "community_code": [community] * len(rows)}
    if households is not None:
        data["households"] = households
    if types is not None:
        data["type"] = types
    return gpd.GeoDataFrame(data, geometry=[ll(r[1]) for r in rows], crs=4490)


def points(column, *rows):
    return gpd.GeoDataFrame(
        {column: [r[0] for r in rows]}, geometry=[ll(r[1]) for r in rows], crs=4490
    )


def summary(found):
    return [(k, o) for k, o in zip(found["kind"], found["objects"], strict=True)]


# -- the one community with one of everything ------------------------------------------------

COMMUNITY = Polygon([(0, 0), (100, 0), (150, 50), (200, 0), (200, 200), (0, 200)])
# G1: bottom-left square, a 10 m hole (the gap) and a 10 m × 60 m bump out of the community.
G1_SHAPE = Polygon(
    [(0, 0), (100, 0), (100, 100), (0, 100), (0, 80), (-10, 80), (-10, 20), (0, 20)],
    holes=[[(60, 30), (70, 30), (70, 40), (60, 40)]],
)
# G2: top-left square with a 20 m × 10 m tab down into G1 (the overlap).
G2_SHAPE = Polygon(
    [(0, 100), (20, 100), (20, 90), (40, 90), (40, 100), (100, 100), (100, 200), (0, 200)]
)
# G3: top-right square plus the triangle down to (150, 50); its left edge leans 0.2 m off G2's
# from y=110 up, leaving a 9 m² wedge (the sliver).
G3_SHAPE = Polygon([(100, 100), (150, 50), (200, 100), (200, 200), (100.2, 200), (100, 110)])
# G4: a bow-tie whose two lobes are exactly the triangles left of and right of (150, 50).
G4_SHAPE = Polygon([(100, 0), (200, 100), (200, 0), (100, 100)])


@pytest.fixture
def messy():
    return audit_coverage(
        communities((C, COMMUNITY)),
        grids(
            (G1, G1_SHAPE),
            (G2, G2_SHAPE),
            (G3, G3_SHAPE),
            (G4, G4_SHAPE),
            households=[300, 600, 300, 300],
        ),
        households=points(
            "id",
            (1, Point(10, 10)),
            (2, Point(50, 150)),
            (3, Point(150, 150)),
            (4, Point(110, 50)),
            (5, Point(65, 35)),
        ),
        buildings=points(
            "code",
            ("B1", box(60, 95, 80, 110)),
            ("B2", box(150, 150, 160, 160)),
            ("B3", Point(30, 30)),
        ),
    )


def test_messy_community_yields_exactly_the_planted_findings(messy):
    assert summary(messy) == [
        ("invalid_geometry", [G4]),
        ("gap", [C, G1]),
        ("overlap", [G1, G2]),
        ("sliver", [C, G2, G3]),
        ("crosses_community", [G1, C]),
        ("household_outside", ["5", C]),
        ("building_split", ["B1", G2, G1]),
        ("household_band", [G2]),
    ]
    areas = dict(zip(messy["kind"], messy["area_m2"], strict=True))
    assert areas["gap"] == pytest.approx(100, abs=0.01)
    assert areas["overlap"] == pytest.approx(200, abs=0.01)
    assert areas["sliver"] == pytest.approx(9, abs=0.01)
    assert areas["crosses_community"] == pytest.approx(600, abs=0.01)
    assert areas["building_split"] == pytest.approx(100, abs=0.01)
    for kind in ("invalid_geometry", "household_outside", "household_band"):
        assert math.isnan(areas[kind])


def test_messy_findings_say_where_and_how_bad(messy):
    by_kind = messy.set_index("kind")
    assert list(messy.columns) == list(FINDING_COLUMNS)
    assert messy.crs.to_epsg() == 4490
    assert set(messy["kind"]) <= set(FINDING_KINDS)
    assert dict(zip(messy["kind"], messy["severity"], strict=True)) == {
        "invalid_geometry": "error",
        "gap": "error",
        "overlap": "error",
        "sliver": "error",
        "crosses_community": "error",
        "household_outside": "error",
        "building_split": "warning",
        "household_band": "warning",
    }
    # The bow-tie crosses itself at (150, 50).
    assert by_kind.loc["invalid_geometry", "geometry"].distance(ll(Point(150, 50))) < 1e-7
    # The outside part of G1 is drawn, not G1 itself.
    outside = by_kind.loc["crosses_community", "geometry"]
    assert shapely.hausdorff_distance(outside, ll(box(-10, 20, 0, 80))) < 1e-9
    assert by_kind.loc["gap", "geometry"].buffer(1e-7).contains(ll(box(61, 31, 69, 39)))


def test_messages_are_chinese_and_name_the_objects(messy):
    text = dict(zip(messy["kind"], messy["message"], strict=True))
    assert text["overlap"] == f"网格 {G1} 与 {G2} 重叠 200.0 平方米"
    assert text["gap"] == f"社区 {C} 内有 100.0 平方米未被任何网格覆盖（相邻网格：{G1}）"
    assert text["crosses_community"] == f"网格 {G1} 超出所属社区 {C} 的边界 600.0 平方米"
    assert text["household_band"] == f"网格 {G2} 有 600 户，多于规定的 250–500 户"
    assert text["household_outside"] == f"户 5 位于社区 {C}，但不在任何网格内"
    assert text["invalid_geometry"].startswith(f"网格 {G4} 的几何图形无效：边界自相交")
    assert text["sliver"] == (
        f"社区 {C} 内有一条 9.0 平方米的细缝未被任何网格覆盖（相邻网格：{G2}、{G3}），"
        "疑似边界未对齐"
    )
    assert text["building_split"] == (
        f"楼栋 B1 的占地被分在 2 个网格：网格 {G2} 占 66.7%，网格 {G1} 占 33.3%"
        "（主网格之外 100.0 平方米）"
    )
    for message, objects in zip(messy["message"], messy["objects"], strict=True):
        assert objects[0] in message


# -- a clean coverage ---------------------------------------------------------------------------


def test_clean_coverage_has_no_findings():
    found = audit_coverage(
        communities((C, box(0, 0, 200, 200))),
        grids(
            (G1, box(0, 0, 100, 100)),
            (G2, box(100, 0, 200, 100)),
            (G3, box(0, 100, 100, 200)),
            (G4, box(100, 100, 200, 200)),
            households=[300, 250, 500, 420],
        ),
        households=points("id", *[(i, Point(10 + 50 * i, 50)) for i in range(4)]),
        buildings=points("code", ("B1", box(10, 10, 90, 90)), ("B2", Point(150, 150))),
    )
    assert len(found) == 0
    assert list(found.columns) == list(FINDING_COLUMNS)
    assert found.crs.to_epsg() == 4490


# -- overlaps, gaps and slivers -----------------------------------------------------------------


# Reaches into [0, 100]² at two places: [90, 100] x [0, 40] and [90, 100] x [60, 100].
_C_SHAPE = Polygon(
    [(90, 0), (190, 0), (190, 100), (90, 100), (90, 60), (150, 60), (150, 40), (90, 40)]
)


@pytest.mark.parametrize(
    ("a", "b", "area"),
    [
        (box(0, 0, 100, 100), box(90, 0, 190, 100), 1000.0),  # partial
        (box(0, 0, 100, 100), box(20, 20, 40, 40), 400.0),  # one inside the other
        (box(0, 0, 100, 100), box(0, 0, 100, 100), 10000.0),  # duplicate
        (box(0, 0, 100, 100), _C_SHAPE, 800.0),  # two separate pieces, one finding
    ],
)
def test_overlap_is_found_for_every_arrangement(a, b, area):
    found = audit_coverage(communities((C, a.union(b))), grids((G1, a), (G2, b)))
    assert summary(found) == [("overlap", [G1, G2])]
    assert found["area_m2"].iloc[0] == pytest.approx(area, rel=1e-6)
    pieces = 2 if b is _C_SHAPE else 1
    assert shapely.get_num_geometries(found.geometry.iloc[0]) == pieces


@pytest.mark.parametrize(
    ("shift", "expected"),
    [
        (0.005, []),  # 0.5 m² of overlap: below the 1 m² noise floor
        (0.05, [("sliver", [G1, G2])]),  # 5 m²: a sliver
        (1.0, [("overlap", [G1, G2])]),  # 100 m², thinness 0.031 > the 0.02 set here
    ],
)
def test_overlap_noise_sliver_and_real(shift, expected):
    tol = CoverageTolerances(sliver_max_thinness=0.02)
    found = audit_coverage(
        communities((C, box(0, 0, 200, 100))),
        grids((G1, box(0, 0, 100, 100)), (G2, box(100 - shift, 0, 200, 100))),
        tolerances=tol,
    )
    assert summary(found) == expected


def test_thin_strip_of_gap_is_a_sliver_by_shape():
    # A 1 m × 100 m strip: 100 m² is far above the area limit, but its thinness is 0.031.
    found = audit_coverage(
        communities((C, box(0, 0, 100, 192))),
        grids((G1, box(0, 0, 100, 95)), (G2, box(0, 96, 100, 192))),
    )
    assert summary(found) == [("sliver", [C, G1, G2])]
    assert found["area_m2"].iloc[0] == pytest.approx(100, rel=1e-6)
    # Twice as wide, thinness 0.060: an ordinary gap.
    wider = audit_coverage(
        communities((C, box(0, 0, 100, 192))),
        grids((G1, box(0, 0, 100, 95)), (G2, box(0, 97, 100, 192))),
    )
    assert summary(wider) == [("gap", [C, G1, G2])]


def test_gap_survives_a_failing_coverage_union(monkeypatch):
    def refuse(*args, **kwargs):
        raise shapely.errors.GEOSException("TopologyException: incorrectly noded")

    monkeypatch.setattr(shapely, "coverage_union_all", refuse)
    found = audit_coverage(
        communities((C, box(0, 0, 200, 100))),
        grids((G1, box(0, 0, 100, 100)), (G2, box(100, 0, 190, 100))),
    )
    assert summary(found) == [("gap", [C, G2])]
    assert found["area_m2"].iloc[0] == pytest.approx(1000, rel=1e-6)


def test_thin_grid_is_a_sliver_warning():
    found = audit_coverage(
        communities((C, box(0, 0, 100, 101))),
        grids((G1, box(0, 0, 100, 100)), (G2, box(0, 100, 100, 101))),
    )
    assert summary(found) == [("sliver", [G2])]
    assert found["severity"].iloc[0] == "warning"


def test_community_without_grids_is_one_gap():
    found = audit_coverage(communities((C, box(0, 0, 100, 100))), grids())
    assert summary(found) == [("gap", [C])]
    assert found["area_m2"].iloc[0] == pytest.approx(10000, rel=1e-6)


def test_micro_grids_are_not_part_of_the_coverage():
    found = audit_coverage(
        communities((C, box(0, 0, 100, 100))),
        grids(
            (G1, box(0, 0, 100, 100)), (G2, box(10, 10, 30, 30)), types=["comprehensive", "micro"]
        ),
    )
    assert len(found) == 0


# -- crossings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("overhang", "reported"), [(0.05, False), (1.0, True)])
def test_crossing_respects_tolerance(overhang, reported):
    found = audit_coverage(
        communities((C, box(0, 0, 100, 100))),
        grids((G1, box(0, 0, 100 + overhang, 100))),
    )
    assert summary(found) == ([("crosses_community", [G1, C])] if reported else [])


def test_grid_of_unknown_community_is_reported():
    found = audit_coverage(
        communities((C, box(0, 0, 100, 100))),
        grids((G1, box(0, 0, 100, 100)), community="419901001999"),
    )
    assert ("crosses_community", [G1, "419901001999"]) in summary(found)


# -- invalid geometry ---------------------------------------------------------------------------


def test_invalid_community_is_reported_and_repaired():
    bow_tie = Polygon([(0, 0), (100, 100), (100, 0), (0, 100)])
    lobes = [Polygon([(0, 0), (50, 50), (0, 100)]), Polygon([(100, 0), (50, 50), (100, 100)])]
    found = audit_coverage(communities((C, bow_tie)), grids((G1, lobes[0]), (G2, lobes[1])))
    assert summary(found) == [("invalid_geometry", [C])]
    assert found["message"].iloc[0].startswith(f"社区 {C} 的几何图形无效")


@pytest.mark.parametrize(
    ("geometry", "wording"),
    [(None, "没有几何图形"), (shapely.LineString([(0, 0), (100, 100)]), "不是面")],
)
def test_unusable_grid_geometry_does_not_stop_the_audit(geometry, wording):
    found = audit_coverage(
        communities((C, box(0, 0, 100, 100))),
        grids((G1, box(0, 0, 100, 100)), (G2, geometry)),
    )
    assert summary(found) == [("invalid_geometry", [G2])]
    assert wording in found["message"].iloc[0]


# -- households and buildings -------------------------------------------------------------------


def test_band_from_points_only_for_comprehensive_grids():
    tol = CoverageTolerances(band=(2, 3))
    layout = [(G1, box(0, 0, 100, 100)), (G2, box(100, 0, 200, 100)), (G3, box(200, 0, 300, 100))]
    homes = [(1, Point(50, 50))] + [(i, Point(150, 10 * i)) for i in (2, 3)]
    homes += [(i, Point(250, 10 * i)) for i in (4, 5, 6, 7)]
    found = audit_coverage(
        communities((C, box(0, 0, 300, 100))),
        grids(*layout),
        households=points("id", *homes),
        tolerances=tol,
    )
    assert summary(found) == [("household_band", [G1]), ("household_band", [G3])]
    assert found["message"].tolist() == [
        f"网格 {G1} 有 1 户，少于规定的 2–3 户",
        f"网格 {G3} 有 4 户，多于规定的 2–3 户",
    ]
    dedicated = audit_coverage(
        communities((C, box(0, 0, 300, 100))),
        grids(*layout, types=["comprehensive", "comprehensive", "dedicated"]),
        households=points("id", *homes),
        tolerances=tol,
    )
    assert summary(dedicated) == [("household_band", [G1])]


def test_household_without_location_is_reported_without_geometry():
    found = audit_coverage(
        communities((C, box(0, 0, 100, 100))),
        grids((G1, box(0, 0, 100, 100)), households=[300]),
        households=points("id", (1, Point(50, 50)), (2, None)),
    )
    assert summary(found) == [("household_outside", ["2"])]
    assert found.geometry.iloc[0] is None


def test_buildings_outside_by_representative_point():
    found = audit_coverage(
        communities((C, box(0, 0, 200, 100))),
        grids((G1, box(0, 0, 100, 100))),
        buildings=points(
            "code",
            ("B1", box(110, 10, 130, 30)),  # in the community's uncovered half
            ("B2", box(95, 40, 125, 60)),  # mostly uncovered, but G1 holds 1/6 of it
            ("B3", Point(500, 500)),  # outside everything
            ("B4", box(10, 10, 20, 20)),  # fine
        ),
    )
    outside = [(k, o) for k, o in summary(found) if k == "building_outside"]
    assert outside == [
        ("building_outside", ["B1", C]),
        ("building_outside", ["B2", C]),
        ("building_outside", ["B3"]),
    ]


@pytest.mark.parametrize(("y0", "split"), [(97, False), (99.5, False), (90, True)])
def test_building_split_share_tolerance(y0, split):
    # A 10 m × 100 m footprint across the G1/G2 line at y=100; G1 holds (100 - y0) % of it.
    footprint = box(40, y0, 50, y0 + 100)
    found = audit_coverage(
        communities((C, box(0, 0, 100, 200))),
        grids((G1, box(0, 0, 100, 100)), (G2, box(0, 100, 100, 200))),
        buildings=points("code", ("B1", footprint)),
    )
    if split:
        assert summary(found) == [("building_split", ["B1", G2, G1])]
        # rel 1e-4: these boxes are straight in metres, so their lon/lat edges (what is stored, and
        # measured densified) bow by a few parts in 1e5 against the metric truth.
        assert found["area_m2"].iloc[0] == pytest.approx(10 * (100 - y0), rel=1e-4)
    else:
        assert len(found) == 0


# -- input errors and tolerances ----------------------------------------------------------------


def _one_square():
    return communities((C, box(0, 0, 100, 100))), grids((G1, box(0, 0, 100, 100)))


@pytest.mark.parametrize("which", ["grids", "households", "buildings"])
def test_crs_mismatch_raises(which):
    comm, grid = _one_square()
    extra = points("id" if which == "households" else "code", (1, Point(50, 50)))
    kwargs = {"households": None, "buildings": None}
    if which == "grids":
        grid = grid.to_crs(4326)
    else:
        kwargs[which] = extra.to_crs(4326)
    with pytest.raises(ValueError, match="CRS mismatch"):
        audit_coverage(comm, grid, **kwargs)


def test_missing_crs_and_projected_crs_raise():
    comm, grid = _one_square()
    with pytest.raises(ValueError, match="no CRS"):
        audit_coverage(comm.set_crs(None, allow_override=True), grid)
    with pytest.raises(ValueError):
        audit_coverage(comm.to_crs(3857), grid.to_crs(3857))


def test_missing_column_raises():
    comm, grid = _one_square()
    with pytest.raises(ValueError, match="community_code"):
        audit_coverage(comm, grid.drop(columns="community_code"))


def test_lonlat_4326_inputs_give_4326_findings():
    comm, grid = _one_square()
    found = audit_coverage(comm.to_crs(4326), grid.iloc[:0].to_crs(4326))
    assert found.crs.to_epsg() == 4326 and summary(found) == [("gap", [C])]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"overlap_min_m2": -1},
        {"gap_min_m2": float("nan")},
        {"sliver_max_thinness": 1.5},
        {"split_min_share": 1.0},
        {"band": (500, 250)},
        {"band": (-1, 10)},
    ],
)
def test_bad_tolerances_raise(kwargs):
    with pytest.raises(ValueError):
        CoverageTolerances(**kwargs)


def test_each_step_logs_its_time(caplog):
    comm, grid = _one_square()
    with caplog.at_level(logging.DEBUG, logger="gis.coverage"):
        audit_coverage(comm, grid)
    steps = {r.step for r in caplog.records if hasattr(r, "step")}
    assert {"gap", "overlap", "crosses_community", "household_band"} <= steps


def test_shared_edge_with_a_vertex_on_one_side_only_is_not_a_sliver():
    """Two grids drawn in lon/lat share a 1.1 km edge; only one has a vertex in its middle. The
    stored edges coincide, so there is nothing to report (projecting vertices alone once made a
    false ~10 m² lens here)."""
    west = Polygon(
        [(113.0, 34.0), (113.005, 34.0), (113.005, 34.005), (113.005, 34.01), (113.0, 34.01)]
    )
    east = box(113.005, 34.0, 113.01, 34.01)
    found = audit_coverage(
        gpd.GeoDataFrame({"code": [C]}, geometry=[box(113.0, 34.0, 113.01, 34.01)], crs=4490),
        gpd.GeoDataFrame(
            {"code": [G1, G2], "community_code": [C, C]}, geometry=[west, east], crs=4490
        ),
    )
    assert len(found) == 0, found[["kind", "area_m2"]].to_dict("records")
