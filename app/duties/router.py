"""Thin routes for duties: my duties (the phone's list), an arrival recorded, findings of an area."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Response

from app.audits.kinds import KIND_LABELS
from app.auth.deps import SessionDep
from app.auth.policy import Action, Resource
from app.auth.scope import AreaScope, access, access_whole
from app.duties import service
from app.duties.rules import load_book
from app.duties.schemas import ArrivalCreate, ArrivalPublic, DutyFinding, DutyFindings, MyDuties

router = APIRouter(prefix="/api/v1/duties", tags=["duties 履职"])

Reader = Annotated[AreaScope, Depends(access(Resource.DUTY))]
Mine = Annotated[AreaScope, Depends(access_whole(Resource.DUTY))]
Recorder = Annotated[AreaScope, Depends(access_whole(Resource.DUTY, Action.CREATE))]


@router.get("/mine", response_model=MyDuties)
def mine(session: SessionDep, scope: Mine) -> MyDuties:
    """What the caller owes now: arrivals (四必到) not yet made in the grids they serve, this
    month's field days against the minimum, households of their linked grids not yet visited."""
    return service.my_duties(session, scope, load_book(), dt.datetime.now(dt.UTC))


@router.post(
    "/arrivals",
    response_model=ArrivalPublic,
    status_code=201,
    responses={200: {"description": "the case's arrival was already recorded: that one"}},
)
def record_arrival(
    data: ArrivalCreate,
    session: SessionDep,
    scope: Recorder,
    idempotency_key: Annotated[str | None, Header(min_length=1, max_length=128)] = None,
) -> Response:
    """Record that the caller went to the place of a dispute, a death or a wedding reported in a
    grid they serve. One arrival answers a case: sent again (a phone's queue retrying, with its
    ``Idempotency-Key``), the arrival already stored is answered with 200."""
    arrival, created = service.record_arrival(session, scope=scope, data=data, book=load_book())
    return Response(
        arrival.model_dump_json(),
        status_code=201 if created else 200,
        media_type="application/json",
    )


@router.get("/findings", response_model=DutyFindings)
def findings(session: SessionDep, scope: Reader) -> DutyFindings:
    """Every unmet duty in the area (default: the caller's jurisdiction), as the audit reports
    them; not stored (POST /api/v1/audits stores a run with these and the coverage findings)."""
    began = dt.datetime.now(dt.UTC)
    rows = service.duty_findings(session, scope, began, load_book())
    return DutyFindings(
        area_code=scope.prefix,
        findings=[
            DutyFinding(
                kind=r["kind"],
                kind_label=KIND_LABELS.get(r["kind"]) or r["kind"],
                severity=r["severity"],
                objects=r["objects"],
                message=r["message"],
            )
            for r in rows
        ],
    )
