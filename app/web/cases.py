"""Open cases as one light GeoJSON layer for the console and the cases map.

The incidents API pages through full case records (50 at a time); a dispatcher's map needs every open
case in the area at once but only a few fields each: ``app.incidents.service.cases_geojson`` builds
that in PostgreSQL, with the same filters as the API's list (``case_filters``: the caller's
``AreaScope``, states, category) and each case classed by its deadline. Who may read cases is the
API's rule too (``Resource.INCIDENT``), and row-level security holds the area again in the database.
One endpoint in several formats (``app.formats``): GeoJSON (default), ``json``, CSV, and ``html``:
the cases map.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from app.auth.deps import SessionDep
from app.auth.policy import Resource
from app.auth.scope import AreaScope, access
from app.formats import MEDIA_TYPES, Format, features_response, formats, page_response, responses
from app.incidents import service
from app.incidents.statemachine import IN_PROGRESS_STATES

router = APIRouter(tags=["map layers"])

IncidentScope = Annotated[AreaScope, Depends(access(Resource.INCIDENT))]
SERVED = (Format.GEOJSON, Format.JSON, Format.CSV, Format.HTML)


@router.get("/api/v1/layers/cases", responses=responses(*SERVED))
def cases_layer(
    fmt: Annotated[Format, Depends(formats(*SERVED))],
    request: Request,
    session: SessionDep,
    scope: IncidentScope,
    state: Annotated[list[str] | None, Query(description="default: every open state")] = None,
    category: Annotated[str | None, Query(max_length=16)] = None,
    overdue: bool = False,
    soon_hours: Annotated[float, Query(gt=0, le=720)] = 24,
    limit: Annotated[int, Query(ge=1, le=20_000)] = 10_000,
) -> Response:
    """Open cases in an area as GeoJSON points, sorted by deadline, with an urgency class."""
    if fmt == Format.HTML:
        return page_response("/maps/cases", area=request.query_params.get("area"))
    body = service.cases_geojson(
        session,
        scope=scope,
        states=state or list(IN_PROGRESS_STATES),
        category=category or None,
        overdue_only=overdue,
        soon=dt.timedelta(hours=soon_hours),
        limit=limit,
    )
    if fmt == Format.CSV:
        return features_response(json.loads(body), fmt, filename="cases")
    return Response(body, media_type=MEDIA_TYPES[fmt])  # built in PostgreSQL, sent as it is
