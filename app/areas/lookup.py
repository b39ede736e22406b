"""Which areas hold a point, at every level (province, prefecture, county, township, community):
on any date from the table (``GET /api/v1/areas/at``), and for today from memory (locate's
answer, through ``gis.areaindex.AreaIndex`` on the registry snapshot)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.areaindex import AreaEntry, AreaIndex
from gis.codes import AREA_LEVELS

_CURRENT_SQL = text(
    "SELECT code, name, level, ST_AsBinary(geom) AS wkb FROM areas WHERE valid_to IS NULL"
    " ORDER BY code"
)

# Every level's area holding the point on the day; on a shared boundary the smaller code.
_AT_SQL = text(
    """
    SELECT DISTINCT ON (level) level, code, name
      FROM areas
     WHERE valid_from <= :day AND (valid_to IS NULL OR valid_to > :day)
       AND ST_Intersects(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4490))
     ORDER BY level, code
    """
)


def load_area_index(session: Session) -> AreaIndex:
    """Today's areas, all levels, for answers from memory."""
    rows = session.execute(_CURRENT_SQL).all()
    return AreaIndex(
        [AreaEntry(r.code, r.name, r.level) for r in rows],
        [shapely.from_wkb(bytes(r.wkb)) for r in rows],
    )


def ref(entry: AreaEntry | None) -> dict[str, str] | None:
    return {"code": entry.code, "name": entry.name} if entry is not None else None


def areas_at(session: Session, *, x: float, y: float, day: dt.date) -> dict[str, Any]:
    """``{level: {code, name} | None}`` for every level, for a CGCS2000 point on ``day``."""
    found: dict[str, Any] = dict.fromkeys(AREA_LEVELS)
    for row in session.execute(_AT_SQL, {"x": x, "y": y, "day": day}):
        found[row.level] = {"code": row.code, "name": row.name}
    return found
