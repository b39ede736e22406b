"""A hand-drawn community whose audit findings are known by looking (metres, placed near 114°E).

    community C = county = township = box(0, 0, 300, 100)
    G1 = box(0, 0, 100, 100) with a 10 m × 10 m hole at (40..50, 40..50)   → the gap (100 m²)
    G2 = box(100, 0, 200, 100) plus a 10 m tab into G1 at (90..100, 50..60) → the overlap (100 m²)
    G3 = box(200, 0, 300, 100) whose west edge leans 0.15 m off G2's       → the sliver (7.5 m²)
    B1 in G1 with households 1 and 2; household 3 of B1 stands in the hole  → household outside
    B2 footprint box(194, 40, 204, 50) across G2 and G3                       → building split
    G3's leader left last year                                               → leaderless grid
    household 4 (hardship, B3 in G2) last visited 60 days ago                → overdue special group

The database refuses overlapping active grids (trigger), but audits must find what legacy data
holds, so G2 is inserted with triggers off for this fixture (session_replication_role = replica).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyproj
import pytest
import shapely
from geoalchemy2.shape import from_shape
from shapely.geometry import Point, Polygon, box
from sqlalchemy import text

from app.buildings.models import Building, Household
from app.staff.models import Staff, StaffAssignment
from tests.factories import add_area, add_grid

_TO_LL = pyproj.Transformer.from_crs(4547, 4490, always_xy=True)
X0, Y0 = 500_000.0, 3_762_000.0
COUNTY, TOWNSHIP, C = "419901", "419901001", "419901001001"
G1, G2, G3 = (f"{C}00{i}" for i in range(1, 4))
NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


def ll(geom):
    def move(xy: np.ndarray) -> np.ndarray:
        lon, lat = _TO_LL.transform(xy[:, 0] + X0, xy[:, 1] + Y0)
        return np.column_stack([lon, lat])

    return shapely.transform(geom, move)


def pt(x: float, y: float):
    return from_shape(ll(Point(x, y)), srid=4490)


G1_SHAPE = Polygon(
    [(0, 0), (100, 0), (100, 100), (0, 100)], holes=[[(40, 40), (50, 40), (50, 50), (40, 50)]]
)
G2_SHAPE = Polygon(
    [(100, 0), (200, 0), (200, 100), (100, 100), (100, 60), (90, 60), (90, 50), (100, 50)]
)
G3_SHAPE = Polygon([(200, 0), (300, 0), (300, 100), (200.15, 100)])


def _visit(db, worker: int, household: int, days_ago: int, grid: str) -> None:
    db.execute(
        text(
            "INSERT INTO visits (worker_id, household_id, grid_code, visited_at, kind, recorded_by) "
            "VALUES (:w, :h, :g, :t, 'routine', 'test')"
        ),
        {"w": worker, "h": household, "g": grid, "t": NOW - dt.timedelta(days=days_ago)},
    )


@pytest.fixture
def messy(db):
    whole = ll(box(0, 0, 300, 100))
    add_area(db, COUNTY, "示范县", "county", "county", whole)
    add_area(db, TOWNSHIP, "城关街道", "township", "street", whole, COUNTY)
    add_area(db, C, "幸福社区", "community", "residents", whole, TOWNSHIP)
    add_grid(db, G1, ll(G1_SHAPE))
    db.execute(text("SET LOCAL session_replication_role = replica"))
    add_grid(db, G2, ll(G2_SHAPE))
    db.execute(text("SET LOCAL session_replication_role = origin"))
    add_grid(db, G3, ll(G3_SHAPE))

    leader = Staff(code="L1", name="王强", phone="13800000001")
    other = Staff(code="L2", name="赵敏", phone="13800000002")
    gone = Staff(code="L3", name="孙杰", phone="13800000003")
    db.add_all([leader, other, gone])
    db.flush()
    db.add_all(
        [
            StaffAssignment(
                staff_id=leader.id, grid_code=G1, role="leader", start_date="2026-01-01"
            ),
            StaffAssignment(
                staff_id=other.id, grid_code=G2, role="leader", start_date="2026-01-01"
            ),
            StaffAssignment(
                staff_id=gone.id,
                grid_code=G3,
                role="leader",
                start_date="2024-01-01",
                end_date="2025-12-31",
            ),
        ]
    )
    b1 = Building(
        code="B1",
        name="1号楼",
        community_code=C,
        location=pt(25, 25),
        footprint=from_shape(ll(box(20, 20, 30, 30)), srid=4490),
    )
    b2 = Building(
        code="B2",
        name="2号楼",
        community_code=C,
        location=pt(196, 45),
        footprint=from_shape(ll(box(194, 40, 204, 50)), srid=4490),
    )
    b3 = Building(code="B3", name="3号楼", community_code=C, location=pt(150, 50))
    db.add_all([b1, b2, b3])
    db.flush()
    homes = [
        Household(building_id=b1.id, unit="1", room="101", location=pt(25, 25)),
        Household(building_id=b1.id, unit="1", room="102", location=pt(26, 26)),
        Household(building_id=b1.id, unit="1", room="103", location=pt(45, 45)),  # in the hole
        Household(
            building_id=b3.id,
            unit="1",
            room="101",
            location=pt(150, 50),
            special_groups=["hardship"],
        ),
        Household(building_id=b2.id, unit="1", room="101", location=pt(196, 45)),
    ]
    db.add_all(homes)
    db.flush()
    ids = [h.id for h in homes]
    for hid, grid in zip(ids, [G1, G1, G1, G2, G2], strict=True):
        _visit(db, leader.id, hid, 10, grid)
    # The hardship household was seen 60 days ago and again (routine) long before.
    db.execute(
        text("UPDATE visits SET visited_at = :t WHERE household_id = :h"),
        {"t": NOW - dt.timedelta(days=60), "h": ids[3]},
    )
    db.flush()
    return {"ids": ids, "leader": leader.id}
