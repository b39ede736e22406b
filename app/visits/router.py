"""Thin routes for visits: record one, today's due list, coverage."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request

from app.auth.deps import CurrentUser, require_roles
from app.auth.policy import Principal
from app.db import SessionDep
from app.visits import coverage as cov
from app.visits import service
from app.visits.schemas import CoveragePublic, DueList, VisitCreate, VisitPublic

router = APIRouter(prefix="/api/v1/visits", tags=["visits 走访"])

Reader = Annotated[
    Principal,
    Depends(require_roles("county_admin", "dispatcher", "grid_worker", "auditor", "planner")),
]


@router.post("", response_model=VisitPublic, status_code=201)
def create_visit(
    request: Request, data: VisitCreate, session: SessionDep, principal: CurrentUser
) -> VisitPublic:
    return service.create_visit(
        session, data=data, principal=principal, settings=request.app.state.settings.visits
    )


@router.get("/due", response_model=DueList)
def due(
    session: SessionDep,
    principal: Reader,
    grid: Annotated[
        str | None,
        Query(pattern=r"^[0-9]{15}$", description="15-digit grid code; omitted: all of my grids"),
    ] = None,
) -> DueList:
    """Households due a visit today, most overdue first: one grid, or a worker's whole list."""
    if grid is None:
        return service.due_list_for_worker(session, principal=principal)
    return service.due_list(session, grid_code=grid, principal=principal)


@router.get("/coverage", response_model=CoveragePublic)
def coverage(
    session: SessionDep,
    principal: Reader,
    area: str,
    start: dt.date,
    end: dt.date,
    by: Literal["grid", "community", "township", "county"] = "grid",
) -> CoveragePublic:
    info = cov.resolve_area(session, area)
    cov.check_area_access(principal, info)
    return cov.coverage(session, area=info, start=start, end=end, by=by)
