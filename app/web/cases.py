"""Open cases as one light GeoJSON layer for the console and the cases map.

The incidents API pages through full case records (50 at a time); a dispatcher's map needs every open
case in the area at once but only a few fields each: ``app.incidents.service.cases_geojson`` builds
that in PostgreSQL, with the same filters as the API's list (``case_filters``: the caller's
``AreaScope``, states, category) and each case classed by its deadline. Who may read cases is the
API's rule too (``Resource.INCIDENT``), and row-level security holds the area again in the database.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from app.auth.deps import SessionDep
from app.auth.policy import Resource
from app.auth.scope import AreaScope, access
from app.incidents import service
from app.incidents.statemachine import IN_PROGRESS_STATES

router = APIRouter(tags=["map layers"])

IncidentScope = Annotated[AreaScope, Depends(access(Resource.INCIDENT))]


@router.get("/api/v1/layers/cases")
def cases_layer(
    session: SessionDep,
    scope: IncidentScope,
    state: Annotated[list[str] | None, Query(description="default: every open state")] = None,
    category: Annotated[str | None, Query(max_length=16)] = None,
    overdue: bool = False,
    soon_hours: Annotated[float, Query(gt=0, le=720)] = 24,
    limit: Annotated[int, Query(ge=1, le=20_000)] = 10_000,
) -> Response:
    """Open cases in an area as GeoJSON points, sorted by deadline, with an urgency class."""
    body = service.cases_geojson(
        session,
        scope=scope,
        states=state or list(IN_PROGRESS_STATES),
        category=category or None,
        overdue_only=overdue,
        soon=dt.timedelta(hours=soon_hours),
        limit=limit,
    )
    return Response(body, media_type="application/geo+json")
