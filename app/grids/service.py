"""Reading grids: the active ones by code, names over every version, and the active grids of an
area with their community, current leader and households (each counted once, as routing does)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.auth.scope import AreaScope
from app.grids.models import Grid
from app.register.codes import LOAD_KINDS
from gis.pointindex import assign_points

# A comprehensive grid's households against the band (docs/domain.md, grids); a dedicated grid
# (school, hospital, park) has no households by design and is never "below" it. The labels are
# served by GET /api/v1/meta as bands.
BAND_LABELS = {
    "below": "低于标准",
    "within": "标准内",
    "above": "高于标准",
    "exempt": "专属网格（不计户数标准）",
}


# The kinds held to a household band, each against its level's band (Settings.household_bands:
# ``grid`` for a comprehensive grid, ``micro_grid`` for a micro-grid, 50–80 by default).
BANDED = ("comprehensive", "micro_grid")


def band_of(grid_type: str, households: int, band: tuple[int, int]) -> str:
    """``below``, ``within`` or ``above`` the household ``band`` (inclusive), or ``exempt``.
    ``grid_type`` is a grid's type, or ``micro_grid`` for a micro-grid (with its own band).

    >>> band_of("comprehensive", 250, (250, 500)), band_of("dedicated", 0, (250, 500))
    ('within', 'exempt')
    >>> band_of("micro_grid", 81, (50, 80))
    'above'
    """
    if grid_type not in BANDED:
        return "exempt"
    low, high = band
    return "below" if households < low else "above" if households > high else "within"


def active_names(session: Session, codes: Sequence[str]) -> dict[str, str]:
    """``{code: name}`` for the active grids among ``codes`` (unknown codes are left out)."""
    rows = session.execute(
        select(Grid.code, Grid.name).where(Grid.code.in_(codes), Grid.status == "active")
    )
    return {code: name for code, name in rows}


def grid_names(session: Session, scope: AreaScope) -> dict[str, str]:
    """``{code: name}`` for the grids in ``scope``, retired ones included (a period's cases may sit
    in a grid since replaced), each named by its latest version."""
    rows = session.execute(
        select(Grid.code, Grid.name)
        .where(scope.clause(Grid.code))
        .order_by(Grid.code, Grid.version.desc())
    )
    names: dict[str, str] = {}
    for code, name in rows:
        names.setdefault(code, name)
    return names


# Routing's edge rule (gis.pointindex.first_per_point: of the grids a point lies in or on, the one
# with the smallest code) said in SQL, for the queries that pick a grid's households in PostgreSQL
# rather than in memory. The same rule, applied to the areas of one level, puts a household on a
# community border in the community whose grid routing sends it to (a grid's code starts with its
# community's, and grids lie inside their community).
_CANDIDATES = {
    "grids": "grids o WHERE o.status = 'active'",
    "areas": "areas o WHERE o.valid_to IS NULL AND o.level = {owner}.level",
}


def grid_of_point_sql(point: str) -> str:
    """Text SQL: the code of the active grid routing sends ``point`` (a column expression) to, or
    NULL outside every grid."""
    return (
        "(SELECT gp.code FROM grids gp WHERE gp.status = 'active' "
        f"AND ST_Intersects(gp.geom, {point}) ORDER BY gp.code LIMIT 1)"
    )


def holds_point_sql(owner: str, point: str, *, among: str = "grids") -> str:
    """Text SQL: the row ``owner`` (an alias of ``grids`` or ``areas``) holds ``point`` under the
    edge rule: the point lies in or on it, and in or on no other candidate (active grids; current
    areas of the owner's level) with a smaller code. Every point is held by one row at most."""
    candidates = _CANDIDATES[among].format(owner=owner)
    return (
        f"ST_Intersects({owner}.geom, {point}) AND NOT EXISTS (SELECT 1 FROM {candidates} "
        f"AND o.code < {owner}.code AND ST_Intersects(o.geom, {point}))"
    )


_GRIDS_SQL = """
    SELECT g.code, g.name, g.type, g.community_code, c.name AS community_name,
           ST_AsGeoJSON(g.geom, 6) AS geojson,
           s.name AS leader_name, s.phone AS leader_phone
      FROM grids g
      LEFT JOIN areas c ON c.code = g.community_code AND c.valid_to IS NULL
      LEFT JOIN staff_assignments a
             ON a.grid_code = g.code AND a.role = 'leader'
            AND a.start_date <= :day AND (a.end_date IS NULL OR a.end_date >= :day)
      LEFT JOIN staff s ON s.id = a.staff_id
     WHERE g.status = 'active' AND {scope}
     ORDER BY g.code
    """


# The households a grids layer counts (those the session may read, inside the scope's grids' extent)
# and every active grid over that extent, neighbours outside the scope included: the edge rule
# picks among them as routing does.
_EXTENT = (
    "(SELECT ST_SetSRID(ST_Extent(g.geom)::geometry, 4490) FROM grids g "
    "WHERE g.status = 'active' AND {scope})"
)
# A grid's load is its households and its shops (商业门点: the seeds' "300户左右（含商业门点）"):
# the register's active organisations of the kinds in app/register/codes.py LOAD_KINDS.
_HOUSEHOLD_POINTS_SQL = (
    "SELECT ST_X(h.location), ST_Y(h.location) FROM households h WHERE h.location && {extent} "
    "UNION ALL SELECT ST_X(o.location), ST_Y(o.location) FROM organisations o "
    f"WHERE o.kind IN ({', '.join(repr(k) for k in LOAD_KINDS)}) AND o.status = 'active' "
    "AND o.location && {extent}"
)
_EXTENT_GRIDS_SQL = (
    "SELECT code, ST_AsBinary(geom) FROM grids WHERE status = 'active' AND geom && {extent} "
    "ORDER BY code"
)


def households_per_grid(session: Session, scope: AreaScope) -> Counter[str]:
    """Households per active grid code, each counted once, in the grid routing sends its point to
    (gis.pointindex.assign_points: on a shared edge, the smallest code), over the household rows
    the session may read; the register's shops count as households (a grid's load)."""
    extent = _EXTENT.format(scope=scope.sql("g.code"))
    points = session.execute(
        text(_HOUSEHOLD_POINTS_SQL.format(extent=extent)), scope.params()
    ).all()
    if not points:
        return Counter()
    grids = session.execute(text(_EXTENT_GRIDS_SQL.format(extent=extent)), scope.params()).all()
    xy = np.array(points, dtype=float)
    owner = assign_points([shapely.from_wkb(bytes(g[1])) for g in grids], xy[:, 0], xy[:, 1])
    return Counter(grids[i][0] for i in owner.tolist() if i >= 0)


def active_grids_with_leaders(
    session: Session, scope: AreaScope, day: dt.date
) -> list[dict[str, Any]]:
    """The active grids in ``scope`` by code: code, name, type, community (code and name), outline
    as GeoJSON text, the leader on ``day`` (name and phone, unmasked: the caller masks) and
    ``households`` (``households_per_grid``)."""
    households = households_per_grid(session, scope)
    rows = session.execute(
        text(_GRIDS_SQL.format(scope=scope.sql("g.code"))), {"day": day, **scope.params()}
    )
    return [row._asdict() | {"households": households[row.code]} for row in rows]
