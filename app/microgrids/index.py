"""The active micro-grids in memory for locate (docs/architecture.md#the-locate-registry): loaded
with each whole snapshot of the locate registry (a micro-grid change loads a new one), asked only
for points that fell in a grid."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.pointindex import PolygonIndex

_SQL = text(
    """
    SELECT m.code, m.name, m.grid_code, s.name AS steward, ST_AsBinary(m.geom) AS wkb
      FROM micro_grids m LEFT JOIN staff s ON s.id = m.steward_staff_id
     WHERE m.status = 'active'
     ORDER BY m.code
    """
)


@dataclass(frozen=True)
class MicroIndex:
    answers: list[dict[str, Any]]  # per micro-grid: code, name, grid_code, steward (a name)
    index: PolygonIndex

    def at(self, x: float, y: float) -> dict[str, Any] | None:
        """The micro-grid holding a point (on a shared edge, the smallest code), or None."""
        i = self.index.locate_one(x, y)
        return self.answers[i] if i >= 0 else None


def load_micro_index(session: Session) -> MicroIndex | None:
    """The active micro-grids, or None when there are none (locate then skips the lookup)."""
    rows = session.execute(_SQL).all()
    if not rows:
        return None
    answers = [
        {"code": r.code, "name": r.name, "grid_code": r.grid_code, "steward": r.steward}
        for r in rows
    ]
    return MicroIndex(answers, PolygonIndex([shapely.from_wkb(bytes(r.wkb)) for r in rows]))
