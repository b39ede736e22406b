"""Thin routes for the building desk and for giving building leaders and unit stewards a login."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from app.auth.deps import SessionDep
from app.auth.policy import Action, Resource
from app.auth.scope import AreaScope, access, access_whole
from app.desk import service
from app.desk.schemas import Desk, EligibleList, LoginGrant, LoginGranted
from app.locate.registry import today

router = APIRouter(prefix="/api/v1/desk", tags=["desk 楼栋长"])

DeskReader = Annotated[AreaScope, Depends(access_whole(Resource.BUILDING_DESK))]
Admin = Annotated[AreaScope, Depends(access_whole(Resource.USER, Action.CREATE))]
AdminOfArea = Annotated[AreaScope, Depends(access(Resource.USER, Action.CREATE))]


@router.get("", response_model=Desk)
def my_desk(session: SessionDep, scope: DeskReader) -> Desk:
    """The building (or unit) the caller looks after and the cases open there."""
    return service.desk(session, scope, today())


@router.get("/logins", response_model=EligibleList)
def eligible(session: SessionDep, scope: AdminOfArea) -> EligibleList:
    """The building leaders and unit stewards assigned now in the area, and their logins."""
    return service.eligible(session, scope, today())


@router.post("/logins", response_model=LoginGranted, status_code=201)
def grant_login(
    request: Request, data: LoginGrant, session: SessionDep, scope: Admin
) -> LoginGranted:
    """Give a building leader or unit steward (a staff member with a current assignment) a login:
    the role and the grid come from the assignment, the desk shows only their building or unit."""
    return service.grant_login(
        session,
        scope=scope,
        data=data,
        today=today(),
        policy=request.app.state.settings.auth,
    )
