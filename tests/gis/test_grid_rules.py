"""The grid rules decided once (docs/domain.md, grids): which grid a point on a shared edge belongs
to, what a sliver is, how geometry is repaired, when two shapes are the same, and what level a code
names. Known answers on small hand-made geometries."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon, box

from gis.codes import BadAreaCode, level_of
from gis.coverage import audit_coverage
from gis.editing import snap_slivers
from gis.pointindex import PolygonIndex, assign_points, first_per_point
from gis.projection import same_shape
from gis.repair import polygonal, repair

# ------------------------------------------------------------------ households per grid: the edge rule
# Four 100 m squares meeting at (X + U, Y + U), listed in code order 001 SW, 002 SE, 003 NW, 004 NE.
X, Y, U = 113.0, 34.0, 0.001
SQUARES = [
    box(X + i * U, Y + j * U, X + (i + 1) * U, Y + (j + 1) * U) for j in (0, 1) for i in (0, 1)
]
POINTS = {
    "corner of all four": (1.0, 1.0, 0),
    "edge SW|SE": (1.0, 0.5, 0),
    "edge SW|NW": (0.5, 1.0, 0),
    "edge SE|NE": (1.5, 1.0, 1),
    "edge NW|NE": (1.0, 1.5, 2),
    "inside NE": (1.5, 1.5, 3),
    "outer edge of NE": (2.0, 1.5, 3),
    "outside": (3.0, 3.0, -1),
}


def test_a_point_on_a_shared_edge_or_corner_belongs_to_the_smallest_code() -> None:
    x = np.array([X + p[0] * U for p in POINTS.values()])
    y = np.array([Y + p[1] * U for p in POINTS.values()])
    expected = [p[2] for p in POINTS.values()]
    assert assign_points(SQUARES, x, y).tolist() == expected
    # Routing's index gives the same answer, point by point and vectorised.
    index = PolygonIndex(SQUARES)
    assert index.locate(x, y).tolist() == expected
    assert [index.locate_one(a, b) for a, b in zip(x, y, strict=True)] == expected


def test_first_per_point_keeps_the_lowest_polygon_whatever_the_pair_order() -> None:
    pts, polys = first_per_point(np.array([4, 2, 4, 2, 7]), np.array([3, 5, 1, 0, 2]))
    assert pts.tolist() == [2, 4, 7]
    assert polys.tolist() == [0, 1, 2]


def test_assign_points_with_no_polygons_or_no_points() -> None:
    assert assign_points([], np.array([0.5]), np.array([0.5])).tolist() == [-1]
    assert assign_points(SQUARES, np.array([]), np.array([])).tolist() == []
    assert assign_points(SQUARES, np.array([X + 0.5 * U]), np.array([Y + 0.5 * U])).tolist() == [0]


# --------------------------------------------------------------------------------------- sliver
# A community of two grids split at 113.001; the east grid leaves a square notch of ``side`` metres
# on the shared edge uncovered. Near 34°N one metre is about 1.0835e-5° of longitude and 9.017e-6°
# of latitude.
M_LON, M_LAT = 1.0835e-5, 9.017e-6
COMMUNITY = box(113.0, 34.0, 113.002, 34.001)


def _notched(side_m: float) -> tuple[Polygon, Polygon]:
    west = box(113.0, 34.0, 113.001, 34.001)
    notch = box(113.001, 34.0005, 113.001 + side_m * M_LON, 34.0005 + side_m * M_LAT)
    east = box(113.001, 34.0, 113.002, 34.001).difference(notch)
    return west, east


@pytest.mark.parametrize(
    ("side_m", "snapped", "finding"),
    [
        (3.0, True, "sliver"),  # ~9 m²: at most 10 m², a sliver
        (4.0, False, "gap"),  # ~16 m²: a real gap, the planner's to fill
    ],
)
def test_one_sliver_rule_for_plan_edits_and_the_audit(side_m, snapped, finding) -> None:  # type: ignore[no-untyped-def]
    west, east = _notched(side_m)
    out = snap_slivers({1: west, 2: east}, COMMUNITY)
    left = COMMUNITY.difference(shapely.union_all(list(out.values())))
    assert (left.area < 1e-15) is snapped
    found = audit_coverage(
        gpd.GeoDataFrame({"code": ["419901001001"]}, geometry=[COMMUNITY], crs=4490),
        gpd.GeoDataFrame(
            {
                "code": ["419901001001001", "419901001001002"],
                "community_code": ["419901001001"] * 2,
            },
            geometry=[west, east],
            crs=4490,
        ),
    )
    assert found["kind"].tolist() == [finding]
    assert found["area_m2"].iloc[0] == pytest.approx(side_m**2, rel=0.02)


# --------------------------------------------------------------------------------------- repair
def test_repair_keeps_both_lobes_of_a_bowtie() -> None:
    bowtie = Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    fixed = repair(bowtie)
    assert fixed.is_valid and fixed.geom_type == "MultiPolygon"
    assert fixed.area == pytest.approx(2.0)
    assert len(fixed.geoms) == 2


def test_repair_drops_a_spike_instead_of_returning_a_line() -> None:
    # A 2×2 square with a spike from (1, 2) up to (1, 3) and back: invalid, the spike has no area.
    spiky = Polygon([(0, 0), (2, 0), (2, 2), (1, 2), (1, 3), (1, 2), (0, 2)])
    assert not spiky.is_valid
    fixed = repair(spiky)
    assert fixed.geom_type == "Polygon" and fixed.is_valid
    assert fixed.area == pytest.approx(4.0)
    assert fixed.bounds == (0.0, 0.0, 2.0, 2.0)


def test_repair_leaves_a_valid_geometry_as_it_was_and_works_on_arrays() -> None:
    square = box(0, 0, 1, 1)
    assert repair(square).equals(square)
    bowtie = Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    areas = shapely.area(repair(np.array([square, bowtie], dtype=object)))
    assert areas.tolist() == pytest.approx([1.0, 2.0])


def test_import_repair_says_what_it_did() -> None:
    geom, note, reason = polygonal(Polygon([(0, 0), (2, 2), (2, 0), (0, 2)]))
    assert isinstance(geom, MultiPolygon) and geom.area == pytest.approx(2.0)
    assert (
        note is not None and note.startswith("几何无效（Self-intersection") and "已自动修复" in note
    )
    assert reason is None
    assert polygonal(shapely.LineString([(0, 0), (1, 1)])) == (
        None,
        None,
        "不是面状几何（LineString）",
    )


# ----------------------------------------------------------------------------------- same shape
GRID = box(113.0, 34.0, 113.01, 34.01)  # about 923 m × 1109 m


@pytest.mark.parametrize(
    ("other", "same"),
    [
        (GRID, True),
        (Polygon(list(GRID.exterior.coords)[2:-1] + list(GRID.exterior.coords)[:3]), True),
        (GRID.reverse(), True),  # drawn the other way round
        (
            Polygon(
                [(113.0, 34.0), (113.005, 34.0), (113.01, 34.0), (113.01, 34.01), (113.0, 34.01)]
            ),
            True,
        ),  # an extra vertex on the south edge
        (box(113.0, 34.0, 113.01 + 0.005 * M_LON, 34.01), True),  # east edge 5 mm off
        (box(113.0, 34.0, 113.01 + 0.02 * M_LON, 34.01), False),  # east edge 2 cm off
        (box(113.0, 34.0, 113.01, 34.01 + 0.02 * M_LAT), False),  # north edge 2 cm off
        (GRID.difference(box(113.004, 34.004, 113.006, 34.006)), False),  # a hole
        (MultiPolygon([GRID]), True),
        (box(113.0, 34.0, 113.01, 34.02), False),
    ],
)
def test_same_shape_is_measured_in_metres(other, same) -> None:  # type: ignore[no-untyped-def]
    assert same_shape(GRID, other) is same
    assert same_shape(other, GRID) is same


def test_same_shape_of_points_and_of_empty_geometries() -> None:
    p = shapely.Point(113.0, 34.0)
    assert same_shape(p, shapely.Point(113.0 + 0.005 * M_LON, 34.0))
    assert not same_shape(p, shapely.Point(113.0 + 0.02 * M_LON, 34.0))
    assert same_shape(Polygon(), Polygon())
    assert not same_shape(GRID, Polygon())
    assert not same_shape(GRID, GRID.exterior)  # a ring is not the area it encloses


# ------------------------------------------------------------------------------------ code level
@pytest.mark.parametrize(
    ("code", "level"),
    [
        ("419901", "county"),
        ("419901001", "township"),
        ("419901001001", "community"),
        ("419901001001001", "grid"),
    ],
)
def test_level_of_a_code_is_its_length(code, level) -> None:  # type: ignore[no-untyped-def]
    assert level_of(code) == level


@pytest.mark.parametrize(
    "code",
    ["", "41990", "4199010", "41990100", "4199010010", "41990100100", "4199010010010010", "41990a",
     "４１９９０１", "419901 ", "-41990"],
)  # fmt: skip
def test_level_of_refuses_anything_else(code) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BadAreaCode, match=r"格式有误（2、4、6、9、12或15位数字）"):
        level_of(code)
