"""Visit points and household points (visited or not in a period) for the visits map, as GeoJSON.

What is read, and what a caller sees of it, is the visits service's (``visit_points``,
``household_points``: no names, phones or notes; the special-group flag only where the caller sees
special groups); who may read it is the policy table's (``Resource.VISIT``,
``Resource.HOUSEHOLD_POINT``), within the caller's ``AreaScope``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from app.auth.deps import SessionDep
from app.auth.policy import Resource
from app.auth.scope import AreaScope, access
from app.visits import service

router = APIRouter(tags=["map layers"])

VisitScope = Annotated[AreaScope, Depends(access(Resource.VISIT))]
HouseholdPointScope = Annotated[AreaScope, Depends(access(Resource.HOUSEHOLD_POINT))]
Limit = Annotated[int, Query(ge=1, le=100_000)]


def _point(fid: int, lng: float, lat: float, props: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": fid,
        "geometry": {"type": "Point", "coordinates": [round(lng, 6), round(lat, 6)]},
        "properties": props,
    }


@router.get("/api/v1/layers/visits")
def visits_layer(
    session: SessionDep, scope: VisitScope, start: dt.date, end: dt.date, limit: Limit = 50_000
) -> dict[str, Any]:
    """Visits with a location on the days ``start`` to ``end``, oldest first."""
    points = service.visit_points(session, scope=scope, start=start, end=end, limit=limit)
    features = [
        _point(
            v.id,
            v.lng,
            v.lat,
            {
                "grid_code": v.grid_code,
                "kind": v.kind,
                "visited_at": v.visited_at.isoformat(),
                "far_from_household": v.far_from_household,
            },
        )
        for v in points
    ]
    return {"type": "FeatureCollection", "features": features, "numberMatched": len(features)}


@router.get("/api/v1/layers/households")
def households_layer(
    session: SessionDep,
    scope: HouseholdPointScope,
    start: dt.date,
    end: dt.date,
    limit: Limit = 50_000,
) -> dict[str, Any]:
    """Household points with ``visited`` for the period; unvisited ones are what the map highlights."""
    points = service.household_points(session, scope=scope, start=start, end=end, limit=limit)
    features = [
        _point(h.id, h.lng, h.lat, {"visited": h.visited, "special": h.special}) for h in points
    ]
    return {
        "type": "FeatureCollection",
        "features": features,
        "numberMatched": len(features),
        "visited": sum(1 for h in points if h.visited),
    }
