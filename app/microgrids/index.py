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
    """The active micro-grids' answers in code order, one point index over them all, and the
    grids that have any: a point in a grid without micro-grids costs one set lookup."""

    answers: list[dict[str, Any]]
    index: PolygonIndex
    grids: frozenset[str]

    def at(self, x: float, y: float, grid_code: str) -> dict[str, Any] | None:
        """The micro-grid of ``grid_code`` holding a point (in or on it; on a shared edge the
        smallest code, routing's edge rule), or None."""
        if grid_code not in self.grids:
            return None
        i = self.index.locate_one(x, y)
        if i < 0 or self.answers[i]["grid_code"] != grid_code:
            return None
        return self.answers[i]


def load_micro_index(session: Session) -> MicroIndex | None:
    """The active micro-grids, or None when there are none (locate then skips the lookup)."""
    rows = session.execute(_SQL).all()
    if not rows:
        return None
    answers = [
        {"code": r.code, "name": r.name, "grid_code": r.grid_code, "steward": r.steward}
        for r in rows
    ]
    index = PolygonIndex([shapely.from_wkb(bytes(r.wkb)) for r in rows])
    return MicroIndex(answers, index, frozenset(r.grid_code for r in rows))
