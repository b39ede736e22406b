"""Visit points and household points (visited or not in a period) for the visits map, as GeoJSON.

What is read, and what a caller sees of it, is the visits service's (``visit_points``,
``household_points``: no names, phones or notes; the special-group flag only where the caller sees
special groups); who may read it is the policy table's (``Resource.VISIT``,
``Resource.HOUSEHOLD_POINT``), within the caller's ``AreaScope``. Each layer is one endpoint in
several formats (``app.formats``): GeoJSON (default), ``json``, CSV, and ``html``: the visits map.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from app.auth.deps import SessionDep
from app.auth.policy import Resource
from app.auth.scope import AreaScope, access
from app.formats import Format, features_response, formats, page_response, responses
from app.visits import service

router = APIRouter(tags=["map layers"])

VisitScope = Annotated[AreaScope, Depends(access(Resource.VISIT))]
HouseholdPointScope = Annotated[AreaScope, Depends(access(Resource.HOUSEHOLD_POINT))]
Limit = Annotated[int, Query(ge=1, le=100_000)]
SERVED = (Format.GEOJSON, Format.JSON, Format.CSV, Format.HTML)
LayerFormat = Annotated[Format, Depends(formats(*SERVED))]
VISITS_PAGE = "/maps/visits"


def _point(fid: int, lng: float, lat: float, props: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": fid,
        "geometry": {"type": "Point", "coordinates": [round(lng, 6), round(lat, 6)]},
        "properties": props,
    }


@dataclass(frozen=True)
class LayerQuery:
    """What both layers take: the period (``start`` to ``end``, both included), at most ``limit``
    points, the format, and the area asked for (for the page)."""

    fmt: Format
    start: dt.date
    end: dt.date
    limit: int
    area: str | None

    def page(self) -> Response:
        return page_response(VISITS_PAGE, area=self.area)


def layer_query(
    fmt: LayerFormat, request: Request, start: dt.date, end: dt.date, limit: Limit = 50_000
) -> LayerQuery:
    return LayerQuery(fmt, start, end, limit, request.query_params.get("area"))


LayerParams = Annotated[LayerQuery, Depends(layer_query)]


@router.get("/api/v1/layers/visits", responses=responses(*SERVED))
def visits_layer(q: LayerParams, session: SessionDep, scope: VisitScope) -> Response:
    """Visits with a location on the days ``start`` to ``end``, oldest first."""
    if q.fmt == Format.HTML:
        return q.page()
    points = service.visit_points(session, scope=scope, start=q.start, end=q.end, limit=q.limit)
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
    collection = {"type": "FeatureCollection", "features": features, "numberMatched": len(features)}
    return features_response(collection, q.fmt, filename=f"visits_{q.start}_{q.end}")


@router.get("/api/v1/layers/households", responses=responses(*SERVED))
def households_layer(
    q: LayerParams, request: Request, session: SessionDep, scope: HouseholdPointScope
) -> Response:
    """Household points with ``visited`` for the period; unvisited ones are what the map highlights."""
    if q.fmt == Format.HTML:
        return q.page()
    points = service.household_points(session, scope=scope, start=q.start, end=q.end, limit=q.limit)
    features = [
        _point(h.id, h.lng, h.lat, {"visited": h.visited, "special": h.special}) for h in points
    ]
    collection = {
        "type": "FeatureCollection",
        "features": features,
        "numberMatched": len(features),
        "visited": sum(1 for h in points if h.visited),
        # The share of households to visit within a year (settings.visits), shown with the period's figure.
        "coverage_target": request.app.state.settings.visits.coverage_target,
    }
    return features_response(collection, q.fmt, filename=f"households_{q.start}_{q.end}")
