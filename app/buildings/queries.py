"""SQL pieces over buildings and the households in them, shared by the map layers and the visits map.

Buildings carry their community's code, not a grid's: a building (and each household, through its
building) lies in an ``AreaScope`` by that code, and in a grid-sized scope by its point lying in
that active grid.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.auth.scope import AreaScope

GRID_CODE_LENGTH = 15


def community_filter(scope: AreaScope, community_code: str, point: str) -> str:
    """Text SQL (bind ``**scope.params()``): the row with ``community_code`` and ``point`` (column
    expressions) lies in ``scope``."""
    if len(scope.prefix) == GRID_CODE_LENGTH and not scope.everything:
        return (
            "EXISTS (SELECT 1 FROM grids sg WHERE sg.status = 'active' AND "
            f"{scope.sql('sg.code')} AND ST_Intersects(sg.geom, {point}))"
        )
    return scope.sql(community_code)


_POINTS_SQL = """
    SELECT b.id, b.code, b.name, b.compound, b.household_count,
           ST_X(b.location) AS lng, ST_Y(b.location) AS lat
      FROM buildings b
     WHERE {scope}
     ORDER BY b.code
     LIMIT :limit
    """


def building_points(session: Session, scope: AreaScope, limit: int) -> list[dict[str, Any]]:
    """The buildings in ``scope`` (at most ``limit``, by code) as points (``lng``, ``lat``) with
    their code, name, compound and household count."""
    sql = text(_POINTS_SQL.format(scope=community_filter(scope, "b.community_code", "b.location")))
    return [row._asdict() for row in session.execute(sql, {"limit": limit, **scope.params()})]
