"""Visit points and household points (visited or not in a period) for the visits map.

Only what a map needs leaves the database: no names, phones or notes (DOMAIN.md §5); whether a
household is in a special group is a yes/no, and only for roles that already see such records.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.auth.policy import Field, Resource
from app.auth.scope import AreaScope, access
from app.db import SessionDep
from app.errors import InvalidInput, NotFound
from app.incidents.calendar import TZ
from app.web.layers import community_filter

router = APIRouter(tags=["map layers"])

VisitScope = Annotated[AreaScope, Depends(access(Resource.VISIT))]
HouseholdPointScope = Annotated[AreaScope, Depends(access(Resource.HOUSEHOLD_POINT))]

_VISITS_SQL = """
    SELECT v.id, v.grid_code, v.kind, v.visited_at, v.far_from_household,
           ST_X(v.location) AS lng, ST_Y(v.location) AS lat
      FROM visits v
     WHERE {scope} AND v.location IS NOT NULL
       AND v.visited_at >= :start AND v.visited_at < :end
     ORDER BY v.visited_at
     LIMIT :limit
    """

# Households in the area (by their building's community, a grid by its polygon), each with "visited
# in period". A special-group household also gets the grid it lies in (its community outside every
# grid), so that the flag is shown only where the caller sees special groups (a grid worker: in the
# grids they serve); the lookup runs for those few households only.
_HOUSEHOLDS_SQL = """
    SELECT h.id, cardinality(h.special_groups) > 0 AS special,
           CASE WHEN cardinality(h.special_groups) > 0 THEN coalesce(
                (SELECT g.code FROM grids g WHERE g.status = 'active'
                    AND ST_Intersects(g.geom, h.location) ORDER BY g.code LIMIT 1),
                b.community_code) END AS special_in,
           ST_X(h.location) AS lng, ST_Y(h.location) AS lat,
           EXISTS (SELECT 1 FROM visits v WHERE v.household_id = h.id
                    AND v.visited_at >= :start AND v.visited_at < :end) AS visited
      FROM households h JOIN buildings b ON b.id = h.building_id
     WHERE {scope}
     LIMIT :limit
    """


def _period(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    if end < start:
        raise InvalidInput("结束日期早于开始日期", field="end")
    return (
        dt.datetime.combine(start, dt.time(0), TZ),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), TZ),
    )


def _require_visits(session: Session) -> None:
    if session.execute(text("SELECT to_regclass('visits')")).scalar() is None:
        raise NotFound("走访模块尚未部署（visits 表不存在）")


def _point(fid: int, lng: float, lat: float, props: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": fid,
        "geometry": {"type": "Point", "coordinates": [round(lng, 6), round(lat, 6)]},
        "properties": props,
    }


@router.get("/api/v1/layers/visits")
def visits_layer(
    session: SessionDep,
    scope: VisitScope,
    start: dt.date,
    end: dt.date,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 50_000,
) -> dict[str, Any]:
    _require_visits(session)
    t0, t1 = _period(start, end)
    sql = text(_VISITS_SQL.format(scope=scope.sql("v.grid_code")))
    rows = session.execute(sql, {"start": t0, "end": t1, "limit": limit, **scope.params()})
    features = [
        _point(
            r.id,
            r.lng,
            r.lat,
            {
                "grid_code": r.grid_code,
                "kind": r.kind,
                "visited_at": r.visited_at.isoformat(),
                "far_from_household": r.far_from_household,
            },
        )
        for r in rows
    ]
    return {"type": "FeatureCollection", "features": features, "numberMatched": len(features)}


@router.get("/api/v1/layers/households")
def households_layer(
    session: SessionDep,
    scope: HouseholdPointScope,
    start: dt.date,
    end: dt.date,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 50_000,
) -> dict[str, Any]:
    """Household points with ``visited`` for the period; unvisited ones are what the map highlights."""
    _require_visits(session)
    t0, t1 = _period(start, end)
    sql = text(
        _HOUSEHOLDS_SQL.format(scope=community_filter(scope, "b.community_code", "h.location"))
    )
    params = {"start": t0, "end": t1, "limit": limit, **scope.params()}
    features = [
        _point(
            r.id,
            r.lng,
            r.lat,
            {
                "visited": r.visited,
                "special": r.special and scope.sees(Field.SPECIAL_GROUPS, r.special_in),
            },
        )
        for r in session.execute(sql, params)
    ]
    visited = sum(1 for f in features if f["properties"]["visited"])
    return {
        "type": "FeatureCollection",
        "features": features,
        "numberMatched": len(features),
        "visited": visited,
    }
