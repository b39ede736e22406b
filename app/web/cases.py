"""Open cases as one light GeoJSON layer for the console and the cases map.

The incidents API pages through full case records (50 at a time); a dispatcher's map needs every open
case in the jurisdiction at once but only a few fields each, so this reads the incidents table
directly with one indexed query and classifies each case by its deadline.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.auth.deps import CurrentUser
from app.db import SessionDep
from app.errors import NotFound
from app.web.layers import CodeQuery, scope

router = APIRouter(tags=["map layers"])

OPEN_STATES = (
    "reported",
    "accepted",
    "registered",
    "dispatched",
    "handling",
    "handled",
    "verified",
)

_CASES_SQL = text(
    """
    SELECT i.id, i.case_no, i.state, i.category_code, c.name AS category_name, i.urgent,
           i.grid_code, i.supervised, i.tier, i.deadline, i.reported_at, i.assignee,
           left(i.description, 60) AS summary,
           ST_X(i.location) AS lng, ST_Y(i.location) AS lat
      FROM incidents i
      LEFT JOIN incident_categories c ON c.code = i.category_code
     WHERE i.grid_code LIKE :prefix
       AND i.state = ANY(:states)
       AND (CAST(:category AS text) IS NULL OR i.category_code LIKE :category || '%')
     ORDER BY i.deadline
     LIMIT :limit
    """
)


def urgency(deadline: dt.datetime, now: dt.datetime, soon: dt.timedelta) -> str:
    """on_time | due_soon | overdue: the colour a dispatcher reads first."""
    if deadline <= now:
        return "overdue"
    return "due_soon" if deadline - now <= soon else "on_time"


def case_features(
    session: Session,
    *,
    prefix: str,
    states: list[str],
    category: str | None,
    overdue_only: bool,
    soon_hours: float,
    limit: int,
) -> list[dict[str, Any]]:
    if session.execute(text("SELECT to_regclass('incidents')")).scalar() is None:
        raise NotFound("事件模块尚未部署（incidents 表不存在）")
    now = dt.datetime.now(dt.UTC)
    soon = dt.timedelta(hours=soon_hours)
    rows = session.execute(
        _CASES_SQL,
        {"prefix": prefix + "%", "states": states, "category": category, "limit": limit},
    )
    features = []
    for r in rows:
        u = urgency(r.deadline, now, soon)
        if overdue_only and u != "overdue":
            continue
        features.append(
            {
                "type": "Feature",
                "id": r.id,
                "geometry": {"type": "Point", "coordinates": [round(r.lng, 6), round(r.lat, 6)]},
                "properties": {
                    "id": r.id,
                    "case_no": r.case_no,
                    "state": r.state,
                    "category_code": r.category_code,
                    "category_name": r.category_name,
                    "urgent": r.urgent,
                    "grid_code": r.grid_code,
                    "supervised": r.supervised,
                    "tier": r.tier,
                    "deadline": r.deadline.isoformat(),
                    "reported_at": r.reported_at.isoformat(),
                    "assignee": r.assignee,
                    "summary": r.summary,
                    "urgency": u,
                    "minutes_left": int((r.deadline - now).total_seconds() // 60),
                },
            }
        )
    return features


@router.get("/api/v1/layers/cases")
def cases_layer(
    session: SessionDep,
    principal: CurrentUser,
    area: CodeQuery = None,
    state: Annotated[list[str] | None, Query(description="default: every open state")] = None,
    category: Annotated[str | None, Query(max_length=16)] = None,
    overdue: bool = False,
    soon_hours: Annotated[float, Query(gt=0, le=720)] = 24,
    limit: Annotated[int, Query(ge=1, le=20_000)] = 10_000,
) -> dict[str, Any]:
    """Open cases in an area as GeoJSON points, sorted by deadline, with an urgency class."""
    prefix = scope(principal, area)
    features = case_features(
        session,
        prefix=prefix,
        states=state or list(OPEN_STATES),
        category=category or None,
        overdue_only=overdue,
        soon_hours=soon_hours,
        limit=limit,
    )
    return {"type": "FeatureCollection", "features": features, "numberMatched": len(features)}
