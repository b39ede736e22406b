"""A saved, memory-mapped PolygonIndex answers exactly as GEOS does: on hand-made shapes (shared
edges and corners, a hole, a two-part grid) and on the demo county."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon, box

from gis.pointindex import PolygonIndex, assign_points

DATA = Path(__file__).resolve().parents[2] / "data" / "boundaries"
X, Y, U = 113.0, 34.0, 0.001
# 0: a square with a square hole; 1: the hole's filling; 2: two parts east of 0; 3: a triangle.
RING = box(X, Y, X + 3 * U, Y + 3 * U)
HOLE = box(X + U, Y + U, X + 2 * U, Y + 2 * U)
SHAPES = [
    Polygon(RING.exterior.coords, [HOLE.exterior.coords]),
    HOLE,
    MultiPolygon([box(X + 3 * U, Y, X + 4 * U, Y + U), box(X + 3 * U, Y + 2 * U, X + 4 * U, Y + 3 * U)]),
    Polygon([(X + 3 * U, Y + U), (X + 4 * U, Y + U), (X + 3 * U, Y + 2 * U)]),
]  # fmt: skip
POINTS = {
    "in the ring": (0.5, 0.5, 0),
    "in the hole": (1.5, 1.5, 1),
    "on the hole's edge (0 and 1 share it)": (1.0, 1.5, 0),
    "on the hole's corner": (2.0, 2.0, 0),
    "south part of 2": (3.5, 0.5, 2),
    "north part of 2": (3.5, 2.5, 2),
    "between the parts, in the triangle": (3.2, 1.2, 3),
    "between the parts, beside the triangle": (3.8, 1.8, -1),
    "on the triangle's slanted edge": (3.5, 1.5, 3),
    "on 0's east edge, next to the triangle": (3.0, 1.5, 0),
    "outside everything": (5.0, 1.0, -1),
}


@pytest.fixture(scope="module")
def mapped(tmp_path_factory: pytest.TempPathFactory) -> PolygonIndex:
    path = tmp_path_factory.mktemp("index") / "hand-made"
    PolygonIndex(SHAPES, cells_per_polygon=16).save(path)
    return PolygonIndex.open(path)


def test_hand_made_shapes_answer_as_written(mapped: PolygonIndex) -> None:
    x = np.array([X + p[0] * U for p in POINTS.values()])
    y = np.array([Y + p[1] * U for p in POINTS.values()])
    expected = [p[2] for p in POINTS.values()]
    assert mapped.locate(x, y).tolist() == expected
    assert [mapped.locate_one(a, b) for a, b in zip(x, y, strict=True)] == expected
    assert assign_points(SHAPES, x, y).tolist() == expected  # GEOS agrees with the hand


def test_a_mapped_index_is_read_only_and_keeps_the_shapes(mapped: PolygonIndex) -> None:
    assert mapped.path is not None and mapped.n == 4
    assert shapely.equals(mapped.geom(2), SHAPES[2])
    assert mapped.wkb(1) == shapely.to_wkb(SHAPES[1])
    with pytest.raises(ValueError):
        mapped._cell[0] = 5  # pages shared by every process must not be written


def test_an_index_of_another_layout_is_not_opened(tmp_path: Path) -> None:
    PolygonIndex(SHAPES).save(tmp_path / "i")
    (tmp_path / "i" / "meta.json").write_text('{"format": 2}')
    with pytest.raises(ValueError, match="another layout"):
        PolygonIndex.open(tmp_path / "i")


def test_the_demo_county_answers_as_geos_does(tmp_path: Path) -> None:
    grids = gpd.read_file(DATA / "demo_grids.gpkg", layer="grids").sort_values("code")
    shapes = list(grids.geometry.values)
    PolygonIndex(shapes).save(tmp_path / "demo")
    index = PolygonIndex.open(tmp_path / "demo")
    minx, miny, maxx, maxy = shapely.total_bounds(shapes)
    rng = np.random.default_rng(11)
    x = np.r_[rng.uniform(minx - 0.01, maxx + 0.01, 100_000), shapely.get_coordinates(shapes)[:, 0]]
    y = np.r_[rng.uniform(miny - 0.01, maxy + 0.01, 100_000), shapely.get_coordinates(shapes)[:, 1]]
    expected = assign_points(shapes, x, y)
    assert (index.locate(x, y) == expected).all()
    assert [index.locate_one(a, b) for a, b in zip(x[:3000], y[:3000], strict=True)] == expected[
        :3000
    ].tolist()
    assert (expected[:100_000] >= 0).mean() > 0.5  # most random points do land in a grid
