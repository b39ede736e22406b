from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from app.audittrail.middleware import client_address
from app.auth.deps import SessionDep
from app.auth.policy import Resource
from app.auth.scope import AreaScope, access_whole
from app.formats import Format, csv_response, formats, json_response, responses
from app.households import service
from app.households.schemas import AccessLogPublic, HouseholdPublic, HouseholdsPublic
from app.params import Id, IdQuery

router = APIRouter(prefix="/api/v1", tags=["households 住户"])

Reader = Annotated[AreaScope, Depends(access_whole(Resource.HOUSEHOLD))]
Overseer = Annotated[AreaScope, Depends(access_whole(Resource.ACCESS_LOG))]


ListFormat = Annotated[Format, Depends(formats(Format.JSON, Format.CSV))]


@router.get(
    "/households",
    response_model=HouseholdsPublic,
    responses=responses(Format.JSON, Format.CSV),
)
def households(
    fmt: ListFormat,
    request: Request,
    session: SessionDep,
    scope: Reader,
    grid: Annotated[str, Query(pattern=r"^[0-9]{15}$", description="15-digit grid code")],
    special_only: bool = False,
) -> Response:
    """Households of a grid (those routing sends there), as JSON or CSV (``f=csv``). Names and
    phones are masked unless the role works with residents; special groups are shown only to roles
    that need them; each sensitive record read is logged, whatever the format."""
    found = service.list_households(
        session,
        scope=scope,
        grid_code=grid,
        special_only=special_only,
        purpose=f"GET {request.url.path}?grid={grid}" + (f"&f={fmt}" if fmt != Format.JSON else ""),
        address=client_address(request.scope),
    )
    if fmt == Format.CSV:
        rows = (h.model_dump() for h in found.data)
        columns = list(HouseholdPublic.model_fields)
        return csv_response(rows, filename=f"households_{grid}", columns=columns)
    return json_response(found.model_dump(mode="json"))


@router.get("/households/{household_id}", response_model=HouseholdPublic)
def household(
    request: Request, session: SessionDep, scope: Reader, household_id: Id
) -> HouseholdPublic:
    return service.get_household(
        session,
        scope=scope,
        household_id=household_id,
        purpose=f"GET {request.url.path}",
        address=client_address(request.scope),
    )


@router.get("/access-log", response_model=AccessLogPublic)
def access_log(
    session: SessionDep,
    scope: Overseer,
    household: IdQuery = None,
    username: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AccessLogPublic:
    """Who read which sensitive household record, when, and through what (数据应用追溯)."""
    return service.read_access_log(
        session, scope=scope, household_id=household, username=username, limit=limit
    )
