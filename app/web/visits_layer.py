"""Visit points and household points (visited or not in a period) for the visits map.

Only what a map needs leaves the database: no names, phones or notes (DOMAIN.md §5); whether a
household is in a special group is a yes/no, and only for roles that already see such records.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.auth.deps import CurrentUser
from app.db import SessionDep
from app.errors import InvalidInput, NotFound
from app.incidents.calendar import TZ
from app.web.layers import CodeQuery, scope

router = APIRouter(tags=["map layers"])

_SEES_SPECIAL = frozenset({"county_admin", "auditor", "grid_worker"})

_VISITS_SQL = text(
    """
    SELECT v.id, v.grid_code, v.kind, v.visited_at, v.far_from_household,
           ST_X(v.location) AS lng, ST_Y(v.location) AS lat
      FROM visits v
     WHERE v.grid_code LIKE :prefix AND v.location IS NOT NULL
       AND v.visited_at >= :start AND v.visited_at < :end
     ORDER BY v.visited_at
     LIMIT :limit
    """
)

# Households in the area (community by code, a grid by its polygon), each with "visited in period".
_HOUSEHOLDS_SQL = text(
    """
    SELECT h.id, cardinality(h.special_groups) > 0 AS special,
           ST_X(h.location) AS lng, ST_Y(h.location) AS lat,
           EXISTS (SELECT 1 FROM visits v WHERE v.household_id = h.id
                    AND v.visited_at >= :start AND v.visited_at < :end) AS visited
      FROM households h JOIN buildings b ON b.id = h.building_id
     WHERE b.community_code LIKE :community
       AND (CAST(:grid AS text) IS NULL OR EXISTS (
             SELECT 1 FROM grids g WHERE g.code = :grid AND g.status = 'active'
                AND ST_Intersects(g.geom, h.location)))
     LIMIT :limit
    """
)


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
    principal: CurrentUser,
    start: dt.date,
    end: dt.date,
    area: CodeQuery = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 50_000,
) -> dict[str, Any]:
    prefix = scope(principal, area)
    _require_visits(session)
    t0, t1 = _period(start, end)
    rows = session.execute(
        _VISITS_SQL, {"prefix": prefix + "%", "start": t0, "end": t1, "limit": limit}
    )
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
    principal: CurrentUser,
    start: dt.date,
    end: dt.date,
    area: CodeQuery = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 50_000,
) -> dict[str, Any]:
    """Household points with ``visited`` for the period; unvisited ones are what the map highlights."""
    prefix = scope(principal, area)
    _require_visits(session)
    t0, t1 = _period(start, end)
    params = {
        "community": prefix[:12] + "%",
        "grid": prefix if len(prefix) == 15 else None,
        "start": t0,
        "end": t1,
        "limit": limit,
    }
    sees_special = principal.role in _SEES_SPECIAL
    features = [
        _point(r.id, r.lng, r.lat, {"visited": r.visited, "special": sees_special and r.special})
        for r in session.execute(_HOUSEHOLDS_SQL, params)
    ]
    visited = sum(1 for f in features if f["properties"]["visited"])
    return {
        "type": "FeatureCollection",
        "features": features,
        "numberMatched": len(features),
        "visited": visited,
    }
