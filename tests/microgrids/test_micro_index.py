"""Locate's micro-grid lookup (app/microgrids/index.py) on hand-made squares: the micro-grid of the
grid the point was routed to, the smaller code on a shared edge, nothing for another grid's."""

from __future__ import annotations

from shapely.geometry import box

from app.microgrids.index import MicroIndex
from gis.pointindex import PolygonIndex

G, H = "419901001001001", "419901001001002"
A = {"code": G + "01", "name": "A", "grid_code": G, "steward": "王芳"}
B = {"code": G + "02", "name": "B", "grid_code": G, "steward": None}
C = {"code": H + "01", "name": "C", "grid_code": H, "steward": None}
X, Y, U = 113.0, 34.0, 0.001  # squares of about 92 m × 111 m
SHAPES = [box(X + i * U, Y, X + (i + 1) * U, Y + U) for i in range(3)]  # A | B | C, code order


def at(i: float, grid: str):  # type: ignore[no-untyped-def]
    return INDEX.at(X + i * U, Y + U / 2, grid)


INDEX = MicroIndex([A, B, C], PolygonIndex(SHAPES), frozenset({G, H}))


def test_the_micro_grid_of_the_routed_grid() -> None:
    assert at(0.5, G) == A
    assert at(1.5, G) == B
    assert at(1.0, G) == A  # the shared edge: the smaller code
    assert at(2.5, H) == C


def test_nothing_outside_the_grids_micro_grids() -> None:
    assert at(2.5, G) is None  # in C, but C belongs to another grid
    assert at(0.5, "419901001001003") is None  # a grid without micro-grids
    assert at(5.0, G) is None
