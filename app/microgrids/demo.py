"""Demo micro-grids (微网格) in the demo county (synthetic, like the county itself): grid
419901001002001 is cut west to east into strips of about 65 households each (the micro-grid band is
50–80), the strips' edges half-way between neighbouring households, and the grid's building leaders
from demo_staff.csv steward the first of them. Each name says 合成. Idempotent, like every demo
step (app/demo.py)."""

from __future__ import annotations

import numpy as np
import shapely
from geoalchemy2.shape import to_shape
from shapely.geometry import box
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.grids.models import Grid
from app.grids.service import holds_point_sql
from app.microgrids.models import MicroGrid
from app.microgrids.service import import_micro_grid

GRID = "419901001002001"
PER_MICRO_GRID = 65


def demo_micro_grids_step(session: Session) -> str:
    if session.scalar(select(MicroGrid.id).where(MicroGrid.grid_code == GRID).limit(1)):
        return f"演示微网格：网格 {GRID} 已有微网格，未改动"
    grid = session.scalar(select(Grid).where(Grid.code == GRID, Grid.status == "active"))
    if grid is None:
        return f"演示微网格：网格 {GRID} 不存在，未建"
    xs = np.sort(
        np.array(
            session.execute(
                text(
                    "SELECT ST_X(h.location) FROM households h, grids g WHERE g.code = :c "
                    f"AND g.status = 'active' AND {holds_point_sql('g', 'h.location')}"
                ),
                {"c": GRID},
            ).scalars().all(),
            dtype=float,
        )
    )  # fmt: skip
    shape = to_shape(grid.geom)
    minx, miny, maxx, maxy = shape.bounds
    # Households stand in buildings (many at one point): cut between buildings, never through one.
    spots, per_spot = np.unique(xs, return_counts=True)
    total = np.cumsum(per_spot)
    k = min(max(2, round(len(xs) / PER_MICRO_GRID)), len(spots))
    cuts, last = [minx], -1
    for part in range(1, k):
        at = int(np.searchsorted(total, part * len(xs) / k))
        if last < at < len(spots) - 1:
            cuts.append(float((spots[at] + spots[at + 1]) / 2))
            last = at
    cuts.append(maxx)
    stewards = session.execute(
        text(
            # building leaders and unit stewards: the assignments tied to a building
            "SELECT staff_id FROM staff_assignments WHERE grid_code = :c "
            "AND building_id IS NOT NULL ORDER BY staff_id"
        ),
        {"c": GRID},
    ).scalars().all()  # fmt: skip
    made = 0
    for j in range(len(cuts) - 1):
        piece = shapely.intersection(shape, box(cuts[j], miny, cuts[j + 1], maxy))
        code = f"{GRID}{j + 1:02d}"
        import_micro_grid(session, code=code, name=f"第{j + 1}微网格（合成）", geom=piece)
        if j < len(stewards):
            session.execute(
                text("UPDATE micro_grids SET steward_staff_id = :s WHERE code = :c"),
                {"s": stewards[j], "c": code},
            )
        made += 1
    return f"演示微网格：网格 {GRID} 划分为 {made} 个微网格（合成），{min(len(stewards), made)} 个配管家"
