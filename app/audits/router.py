"""Thin routes: run an audit over an area (POST: it stores the run), list past runs and read a
stored one (GET: never runs anything); JSON, GeoJSON, CSV or HTML, chosen by ``f=`` or the
``Accept`` header (app/formats.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from app.audits import export
from app.audits.schemas import AuditPublic, AuditRuns
from app.audits.service import get_audit, latest_run_id, list_runs, report_base, run_audit
from app.auth.deps import SessionDep
from app.auth.policy import Action, Resource
from app.auth.scope import AreaScope, access, access_whole
from app.formats import Format, formats, responses
from app.params import Id
from gis.coverage import CoverageTolerances

router = APIRouter(prefix="/api/v1/audits", tags=["audits 覆盖审计"])

# Running an audit stores it (CREATE); reading a stored run is READ (app/auth/policy.py).
Runner = Annotated[AreaScope, Depends(access(Resource.AUDIT, Action.CREATE))]
Reader = Annotated[AreaScope, Depends(access_whole(Resource.AUDIT))]
AreaReader = Annotated[AreaScope, Depends(access(Resource.AUDIT, Action.READ))]
SERVED = (Format.JSON, Format.GEOJSON, Format.CSV, Format.HTML)
AuditFormat = Annotated[Format, Depends(formats(*SERVED))]


def _respond(audit: AuditPublic, f: Format, session: SessionDep, scope: AreaScope) -> Response:
    if f == "geojson":
        return JSONResponse(export.to_geojson(audit), media_type="application/geo+json")
    if f == "csv":
        return Response(
            export.to_csv(audit),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="audit_{audit.id}.csv"'},
        )
    if f == "html":
        from app.audits.report import render_html

        # A download, opened from disk: its inline scripts (offline map) never run in our origin,
        # whose policy allows no inline script (app/http/headers.py).
        return HTMLResponse(
            render_html(audit, report_base(session, scope, audit.area_code)),
            headers={"Content-Disposition": f'attachment; filename="audit_{audit.id}.html"'},
        )
    # Serialised by pydantic in one pass: a run of 10,000 findings through model_dump + json.dumps
    # took most of a second (docs/audits.md#measured).
    return Response(audit.model_dump_json(), media_type="application/json")


@router.post("", response_model=AuditPublic, status_code=201, responses=responses(*SERVED))
def audit_area(
    f: AuditFormat,
    request: Request,
    session: SessionDep,
    scope: Runner,
) -> Response:
    """Run (and store) an audit of ``area`` (county, township, community or grid code; default:
    the caller's jurisdiction); the answer compares it with the previous run."""
    settings = request.app.state.settings
    audit = run_audit(
        session,
        scope=scope,
        tolerances=CoverageTolerances(
            band=settings.household_band, micro_band=settings.household_bands["micro_grid"]
        ),
        coverage_target=settings.visits.coverage_target,
    )
    response = _respond(audit, f, session, scope)
    response.status_code = 201
    response.headers["Location"] = f"/api/v1/audits/{audit.id}"
    return response


@router.get("", response_model=AuditRuns, responses=responses(*SERVED))
def past_audits(f: AuditFormat, session: SessionDep, scope: AreaReader) -> Response:
    """Past runs of ``area`` and the areas under it, newest first, each with its counts per kind
    and what changed since the run before it. Reads only: running is ``POST``. Asked for as
    GeoJSON, CSV or HTML, the answer is the area's latest stored run in that format."""
    if f == "json":
        return JSONResponse(list_runs(session, scope=scope).model_dump(mode="json"))
    run_id = latest_run_id(session, scope=scope)
    return _respond(get_audit(session, run_id=run_id, scope=scope), f, session, scope)


@router.get("/{run_id}", response_model=AuditPublic, responses=responses(*SERVED))
def read_audit(f: AuditFormat, run_id: Id, session: SessionDep, scope: Reader) -> Response:
    return _respond(get_audit(session, run_id=run_id, scope=scope), f, session, scope)
