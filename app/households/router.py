from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from app.audittrail.middleware import client_address
from app.auth.deps import require_roles
from app.auth.policy import HOUSEHOLD_READERS, Principal
from app.db import SessionDep
from app.households import service
from app.households.schemas import AccessLogPublic, HouseholdPublic, HouseholdsPublic

router = APIRouter(prefix="/api/v1", tags=["households 住户"])

Reader = Annotated[Principal, Depends(require_roles(*HOUSEHOLD_READERS))]
Overseer = Annotated[Principal, Depends(require_roles("county_admin", "auditor"))]


@router.get("/households", response_model=HouseholdsPublic)
def households(
    request: Request,
    session: SessionDep,
    principal: Reader,
    grid: Annotated[str, Query(pattern=r"^[0-9]{15}$", description="15-digit grid code")],
    special_only: bool = False,
) -> HouseholdsPublic:
    """Households of a grid. Names and phones are masked unless the role works with residents;
    special groups are shown only to roles that need them; each sensitive record read is logged."""
    return service.list_households(
        session,
        principal=principal,
        grid_code=grid,
        special_only=special_only,
        purpose=f"GET {request.url.path}?grid={grid}",
        address=client_address(request.scope),
    )


@router.get("/households/{household_id}", response_model=HouseholdPublic)
def household(
    request: Request, session: SessionDep, principal: Reader, household_id: int
) -> HouseholdPublic:
    return service.get_household(
        session,
        principal=principal,
        household_id=household_id,
        purpose=f"GET {request.url.path}",
        address=client_address(request.scope),
    )


@router.get("/access-log", response_model=AccessLogPublic)
def access_log(
    session: SessionDep,
    principal: Overseer,
    household: int | None = None,
    username: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AccessLogPublic:
    """Who read which sensitive household record, when, and through what (数据应用追溯)."""
    return service.read_access_log(
        session, principal=principal, household_id=household, username=username, limit=limit
    )
