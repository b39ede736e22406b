"""Small hand-made geometries whose answers are known by looking.

The tiny county (all boxes in lon/lat near 113°E 34°N, about 92 m per 0.001° of longitude):

    county 419901 = township 419901001 = box(113.000, 34.000, 113.020, 34.010)
    community 419901001001 = west half  box(113.000, 34.000, 113.010, 34.010)
    community 419901001002 = east half  box(113.010, 34.000, 113.020, 34.010)
    grid ...001001 = west of 113.005 in community 1, grid ...001002 = east of it
    grid ...002001 = the whole of community 2
"""

from __future__ import annotations

from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, Point, box
from sqlalchemy.orm import Session

from app.areas.models import Area
from app.buildings.models import Building, Household
from app.grids.models import Grid
from app.staff.models import Staff, StaffAssignment

COUNTY, TOWNSHIP = "419901", "419901001"
C1, C2 = "419901001001", "419901001002"
G11, G12, G21 = C1 + "001", C1 + "002", C2 + "001"


def mp(geom):  # type: ignore[no-untyped-def]
    return from_shape(MultiPolygon([geom]), srid=4490)


def add_area(db: Session, code: str, name: str, level: str, kind: str, geom, parent=None) -> Area:  # type: ignore[no-untyped-def]
    area = Area(code=code, name=name, level=level, kind=kind, parent_code=parent, geom=mp(geom))
    db.add(area)
    db.flush()
    return area


def add_grid(
    db: Session,
    code: str,
    geom,
    *,
    status: str = "active",
    name: str | None = None,
    version: int = 1,
) -> Grid:  # type: ignore[no-untyped-def]
    grid = Grid(
        code=code,
        name=name or f"网格{code[-5:]}",
        type="comprehensive",
        community_code=code[:12],
        geom=mp(geom),
        status=status,
        valid_from="2026-01-01",
        version=version,
    )
    db.add(grid)
    db.flush()
    return grid


def add_building(
    db: Session, code: str, community: str, x: float, y: float, households: int
) -> Building:
    """A building at (x, y) with ``households`` household rows at its point: households per grid
    count household rows (docs/domain.md), not the count a building declares."""
    b = Building(
        code=code,
        name=f"{code}号楼",
        community_code=community,
        household_count=households,
        location=from_shape(Point(x, y), srid=4490),
    )
    db.add(b)
    db.flush()
    db.add_all(
        Household(building_id=b.id, unit="1", room=str(k + 1), location=b.location)
        for k in range(households)
    )
    db.flush()
    return b


def tiny_county(db: Session, *, with_staff: bool = True) -> None:
    add_area(db, COUNTY, "示范县", "county", "county", box(113.0, 34.0, 113.02, 34.01))
    add_area(
        db, TOWNSHIP, "城关街道", "township", "street", box(113.0, 34.0, 113.02, 34.01), COUNTY
    )
    add_area(
        db, C1, "幸福社区", "community", "residents", box(113.0, 34.0, 113.01, 34.01), TOWNSHIP
    )
    add_area(
        db, C2, "和平社区", "community", "residents", box(113.01, 34.0, 113.02, 34.01), TOWNSHIP
    )
    add_grid(db, G11, box(113.0, 34.0, 113.005, 34.01), name="幸福社区第1网格")
    add_grid(db, G12, box(113.005, 34.0, 113.01, 34.01), name="幸福社区第2网格")
    add_grid(db, G21, box(113.01, 34.0, 113.02, 34.01), name="和平社区第1网格")
    if with_staff:
        leader = Staff(code="S1", name="张伟", phone="13812345678", employment="full_time")
        worker = Staff(code="S2", name="李娜", phone="13900001111", employment="part_time")
        db.add_all([leader, worker])
        db.flush()
        db.add_all(
            [
                StaffAssignment(
                    staff_id=leader.id, grid_code=G11, role="leader", start_date="2026-01-01"
                ),
                StaffAssignment(
                    staff_id=worker.id, grid_code=G11, role="worker", start_date="2026-01-01"
                ),
                StaffAssignment(
                    staff_id=worker.id, grid_code=G12, role="worker", start_date="2026-01-01"
                ),
            ]
        )
    b = Building(
        code="B1",
        name="3号楼",
        compound="阳光花园",
        address="示范县城关街道幸福社区阳光花园3号楼",
        aliases=["阳光花园3栋"],
        community_code=C1,
        household_count=2,
        location=from_shape(Point(113.002, 34.005), srid=4490),
    )
    db.add(b)
    db.flush()
    db.add_all(
        [
            Household(building_id=b.id, unit="1", room="101", size=3, location=b.location),
            Household(
                building_id=b.id,
                unit="1",
                room="102",
                size=2,
                location=b.location,
                special_groups=["hardship"],
            ),
        ]
    )
    db.flush()
