"""Roads (街路巷) and door numbers (门牌号) read and edited through the API
(docs/addresses.md#editing): read by every staff role, edited by the roles that own addresses
(Resource.ADDRESS in app/auth/policy.py), each inside their jurisdiction."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from app.addresses import service
from app.addresses.schemas import DoorIn, DoorOut, DoorPatch, RoadIn, RoadOut, RoadPatch
from app.auth.deps import SessionDep
from app.auth.policy import Action, Resource
from app.auth.scope import AreaScope, access, access_whole
from app.params import Id

router = APIRouter(prefix="/api/v1", tags=["addresses"])

ReadScope = Annotated[AreaScope, Depends(access(Resource.ADDRESS, Action.READ))]
CreateScope = Annotated[AreaScope, Depends(access_whole(Resource.ADDRESS, Action.CREATE))]
UpdateScope = Annotated[AreaScope, Depends(access_whole(Resource.ADDRESS, Action.UPDATE))]


@router.get("/roads", response_model=list[RoadOut])
def roads(session: SessionDep, scope: ReadScope) -> list[RoadOut]:
    """The roads, streets and lanes of the caller's county, with their line and door count."""
    return service.list_roads(session, scope)


@router.post("/roads", response_model=RoadOut, status_code=201)
def create_road(session: SessionDep, scope: CreateScope, data: RoadIn) -> RoadOut:
    """Register a road; a name the county already has is a 409."""
    return service.create_road(session, scope, data)


@router.patch("/roads/{road_id}", response_model=RoadOut)
def update_road(session: SessionDep, scope: UpdateScope, road_id: Id, data: RoadPatch) -> RoadOut:
    """Change a road; its interpolated door numbers follow a new line or numbering."""
    return service.update_road(session, scope, road_id, data)


@router.get("/door-numbers", response_model=list[DoorOut])
def doors(
    session: SessionDep,
    scope: ReadScope,
    road_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> list[DoorOut]:
    """Door numbers in the caller's area (or ``area``), optionally of one road."""
    return service.list_doors(session, scope, road_id)


@router.post("/door-numbers", response_model=DoorOut, status_code=201)
def create_door(session: SessionDep, scope: CreateScope, data: DoorIn) -> DoorOut:
    """Add a door number: at its surveyed point, or interpolated along its road."""
    return service.create_door(session, scope, data)


@router.patch("/door-numbers/{door_id}", response_model=DoorOut)
def update_door(session: SessionDep, scope: UpdateScope, door_id: Id, data: DoorPatch) -> DoorOut:
    """Move a door number (a surveyed point, or back to interpolation) or change its buildings."""
    return service.update_door(session, scope, door_id, data)


@router.delete("/door-numbers/{door_id}", status_code=204)
def delete_door(session: SessionDep, scope: UpdateScope, door_id: Id) -> Response:
    """Remove a door number; one a register house still points at is refused (409)."""
    service.delete_door(session, scope, door_id)
    return Response(status_code=204)
