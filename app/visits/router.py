"""Thin routes for visits: record one, today's due list, coverage."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from app.auth.deps import SessionDep
from app.auth.policy import Action, Resource
from app.auth.scope import AreaScope, access, access_whole
from app.formats import Format, csv_response, formats, json_response, page_response, responses
from app.visits import coverage as cov
from app.visits import service
from app.visits.schemas import CoveragePublic, CoverageRow, DueList, VisitCreate, VisitPublic

router = APIRouter(prefix="/api/v1/visits", tags=["visits 走访"])

Recorder = Annotated[AreaScope, Depends(access_whole(Resource.VISIT, Action.CREATE))]
Reader = Annotated[AreaScope, Depends(access_whole(Resource.VISIT))]
Coverage = Annotated[AreaScope, Depends(access(Resource.VISIT_COVERAGE))]


@router.post(
    "",
    response_model=VisitPublic,
    status_code=201,
    responses={200: {"description": "same Idempotency-Key by the same recorder: the visit stored"}},
)
def create_visit(
    request: Request,
    data: VisitCreate,
    session: SessionDep,
    scope: Recorder,
    idempotency_key: Annotated[str | None, Header(min_length=1, max_length=128)] = None,
) -> Response:
    """Record a visit (note and an optional photo as base64). Send an ``Idempotency-Key`` header
    (a phone makes one when it queues a check-in): sent again, the visit already stored is
    answered with 200 and nothing is recorded twice."""
    visit, created = service.create_visit(
        session,
        data=data,
        scope=scope,
        settings=request.app.state.settings.visits,
        idempotency_key=idempotency_key,
    )
    return Response(
        visit.model_dump_json(), status_code=201 if created else 200, media_type="application/json"
    )


@router.get("/due", response_model=DueList)
def due(
    session: SessionDep,
    scope: Reader,
    grid: Annotated[
        str | None,
        Query(pattern=r"^[0-9]{15}$", description="15-digit grid code; omitted: all of my grids"),
    ] = None,
) -> DueList:
    """Households due a visit today, most overdue first: one grid, or a worker's whole list."""
    if grid is None:
        return service.due_list_for_worker(session, scope=scope)
    return service.due_list(session, grid_code=grid, scope=scope)


COVERAGE = (Format.JSON, Format.CSV, Format.HTML)


@router.get("/coverage", response_model=CoveragePublic, responses=responses(*COVERAGE))
def coverage(
    fmt: Annotated[Format, Depends(formats(*COVERAGE))],
    request: Request,
    session: SessionDep,
    scope: Coverage,
    start: dt.date,
    end: dt.date,
    by: Literal["grid", "community", "township", "county"] = "grid",
) -> Response:
    """Coverage of ``area`` (default: the caller's jurisdiction) over [start, end), as JSON, as
    CSV (``f=csv``: one line per row of ``by``) or as the coverage map in its visits mode."""
    if fmt == Format.HTML:
        area = request.query_params.get("area")
        period = {"from": start.isoformat(), "to": end.isoformat()}
        return page_response("/maps/coverage", area=area, mode="visits", **period)
    found = cov.coverage(session, scope=scope, start=start, end=end, by=by)
    if fmt == Format.CSV:
        rows = (row.model_dump() for row in found.rows)
        name = f"coverage_{found.area}_{by}_{start}_{end}"
        return csv_response(rows, filename=name, columns=list(CoverageRow.model_fields))
    return json_response(found.model_dump(mode="json"))
