"""Open cases as one light GeoJSON layer for the console and the cases map.

The incidents API pages through full case records (50 at a time); a dispatcher's map needs every open
case in the jurisdiction at once but only a few fields each, so this reads the incidents table
directly with one indexed query and classifies each case by its deadline. Who may read cases and
where is the same rule as the API's (``Resource.INCIDENT`` and the caller's ``AreaScope``), and
row-level security holds it again in the database.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.auth.policy import Resource
from app.auth.scope import AreaScope, access
from app.db import SessionDep
from app.errors import NotFound
from app.incidents.statemachine import IN_PROGRESS_STATES

router = APIRouter(tags=["map layers"])

IncidentScope = Annotated[AreaScope, Depends(access(Resource.INCIDENT))]


# The whole FeatureCollection is built by PostgreSQL: 5,000 cases as one JSON text, no Python
# object per case (that path cost ~300 ms; this one a few tens of ms).
_CASES_SQL = """
    WITH c AS (
      SELECT i.id, i.case_no, i.state, i.category_code, cat.name AS category_name, i.urgent,
             i.grid_code, i.supervised, i.tier, i.deadline, i.reported_at, i.assignee,
             left(i.description, 60) AS summary, i.location,
             CASE WHEN i.deadline <= now() THEN 'overdue'
                  WHEN i.deadline - now() <= make_interval(secs => :soon_s) THEN 'due_soon'
                  ELSE 'on_time' END AS urgency
        FROM incidents i
        LEFT JOIN incident_categories cat ON cat.code = i.category_code
       WHERE {scope}
         AND i.state = ANY(:states)
         AND (CAST(:category AS text) IS NULL OR i.category_code LIKE :category || '%')
         AND (NOT :overdue OR i.deadline <= now())
       ORDER BY i.deadline
       LIMIT :limit
    )
    SELECT json_build_object(
             'type', 'FeatureCollection',
             'numberMatched', count(*),
             'features', coalesce(json_agg(json_build_object(
               'type', 'Feature', 'id', c.id,
               'geometry', json_build_object('type', 'Point', 'coordinates',
                   json_build_array(round(ST_X(c.location)::numeric, 6), round(ST_Y(c.location)::numeric, 6))),
               'properties', json_build_object(
                   'id', c.id, 'case_no', c.case_no, 'state', c.state,
                   'category_code', c.category_code, 'category_name', c.category_name,
                   'urgent', c.urgent, 'grid_code', c.grid_code, 'supervised', c.supervised,
                   'tier', c.tier, 'deadline', c.deadline, 'reported_at', c.reported_at,
                   'assignee', c.assignee, 'summary', c.summary, 'urgency', c.urgency,
                   'minutes_left', floor(EXTRACT(EPOCH FROM c.deadline - now()) / 60)::int)
             ) ORDER BY c.deadline), '[]'::json))::text
      FROM c
    """


def urgency(deadline: dt.datetime, now: dt.datetime, soon: dt.timedelta) -> str:
    """on_time | due_soon | overdue: the colour a dispatcher reads first (same rule as the SQL)."""
    if deadline <= now:
        return "overdue"
    return "due_soon" if deadline - now <= soon else "on_time"


def cases_geojson(
    session: Session,
    scope: AreaScope,
    *,
    states: list[str],
    category: str | None,
    overdue_only: bool,
    soon_hours: float,
    limit: int,
) -> str:
    """The open cases as GeoJSON text, sorted by deadline."""
    if session.execute(text("SELECT to_regclass('incidents')")).scalar() is None:
        raise NotFound("事件模块尚未部署（incidents 表不存在）")
    params = {
        **scope.params(),
        "states": states,
        "category": category,
        "overdue": overdue_only,
        "soon_s": soon_hours * 3600,
        "limit": limit,
    }
    sql = text(_CASES_SQL.format(scope=scope.sql("i.grid_code")))
    return str(session.execute(sql, params).scalar_one())


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
    body = cases_geojson(
        session,
        scope,
        states=state or list(IN_PROGRESS_STATES),
        category=category or None,
        overdue_only=overdue,
        soon_hours=soon_hours,
        limit=limit,
    )
    return Response(body, media_type="application/geo+json")
