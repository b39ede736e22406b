"""/api/v1/party: party organisations in the grid, their members, the grids they cover, 双报到 and
service hours, and the figures of an area (docs/party.md). Thin routes over app/party/service.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from app.auth.deps import SessionDep
from app.auth.policy import Action, Resource
from app.auth.scope import AreaScope, access, access_whole
from app.params import Id
from app.party import service
from app.party.models import PartyOrg
from app.party.schemas import (
    DualIn,
    DualOut,
    Figures,
    HoursIn,
    HoursOut,
    MemberIn,
    MemberOut,
    OrgGrid,
    OrgIn,
    OrgOut,
)

router = APIRouter(prefix="/api/v1/party", tags=["party"])
Readers = Annotated[AreaScope, Depends(access(Resource.PARTY))]
Reader = Annotated[AreaScope, Depends(access_whole(Resource.PARTY))]
Keeper = Annotated[AreaScope, Depends(access_whole(Resource.PARTY, Action.UPDATE))]
DualReaders = Annotated[AreaScope, Depends(access(Resource.DUAL_SERVICE))]
DualReader = Annotated[AreaScope, Depends(access_whole(Resource.DUAL_SERVICE))]
Registrar = Annotated[AreaScope, Depends(access_whole(Resource.DUAL_SERVICE, Action.CREATE))]
HoursLogger = Annotated[AreaScope, Depends(access_whole(Resource.DUAL_SERVICE, Action.UPDATE))]


def _org(session: SessionDep, org_id: int) -> OrgOut:
    org = session.get(PartyOrg, org_id)
    assert org is not None
    return OrgOut.model_validate(service.describe_orgs(session, [org])[0])


@router.get("/orgs", response_model=list[OrgOut])
def list_orgs(session: SessionDep, scope: Readers) -> list[OrgOut]:
    """Party organisations of the area, each with the grids it covers, its active members and the
    buildings its members lead."""
    return [OrgOut.model_validate(o) for o in service.list_orgs(session, scope)]


@router.post("/orgs", response_model=OrgOut, status_code=201)
def create_org(body: OrgIn, session: SessionDep, scope: Keeper) -> OrgOut:
    """A 网格党支部 or 党小组 of a community (or township), with the grids it covers; a grid covered
    by another organisation is a 409 naming it."""
    org = service.save_org(session, scope, body, None)
    return _org(session, org.id)


@router.put("/orgs/{org_id}", response_model=OrgOut)
def update_org(org_id: Id, body: OrgIn, session: SessionDep, scope: Keeper) -> OrgOut:
    """Replace an organisation's details and the grids it covers."""
    org = service.save_org(session, scope, body, org_id)
    return _org(session, org.id)


@router.get("/orgs/{org_id}/members", response_model=list[MemberOut])
def list_members(org_id: Id, session: SessionDep, scope: Reader) -> list[MemberOut]:
    org = service.get_org(session, scope, org_id)
    return [MemberOut.model_validate(m) for m in service.list_members(session, scope, org)]


@router.post("/orgs/{org_id}/members", response_model=MemberOut, status_code=201)
def add_member(org_id: Id, body: MemberIn, session: SessionDep, scope: Keeper) -> MemberOut:
    """A member of the organisation; ``building_id`` makes them that building's 党员楼栋长."""
    org = service.get_org(session, scope, org_id)
    return MemberOut.model_validate(service.save_member(session, scope, org, body, None))


@router.put("/orgs/{org_id}/members/{member_id}", response_model=MemberOut)
def update_member(
    org_id: Id, member_id: Id, body: MemberIn, session: SessionDep, scope: Keeper
) -> MemberOut:
    org = service.get_org(session, scope, org_id)
    return MemberOut.model_validate(service.save_member(session, scope, org, body, member_id))


@router.get("/grids", response_model=list[OrgGrid])
def grids(session: SessionDep, scope: Readers) -> list[OrgGrid]:
    """The grids of the area that have a party organisation (the coverage map's layer)."""
    return [OrgGrid.model_validate(g) for g in service.grid_orgs(session, scope)]


@router.get("/figures", response_model=Figures)
def figures(session: SessionDep, scope: Readers) -> Figures:
    """The dashboard's party-building figures: grids with a party organisation, buildings led by
    party members, 双报到 members and hours per community."""
    return Figures.model_validate(service.figures(session, scope))


@router.get("/dual", response_model=list[DualOut])
def list_dual(session: SessionDep, scope: DualReaders) -> list[DualOut]:
    """双报到 registrations: a community's, or (for a unit's member) one's own."""
    return [DualOut.model_validate(d) for d in service.list_dual(session, scope)]


@router.post("/dual", response_model=DualOut, status_code=201)
def register(body: DualIn, session: SessionDep, scope: Registrar) -> DualOut:
    """Register an in-service party member of a county unit with the community of their home."""
    return DualOut.model_validate(service.register_dual(session, scope, body))


@router.get("/dual/{reg_id}/hours", response_model=list[HoursOut])
def list_hours(reg_id: Id, session: SessionDep, scope: DualReader) -> list[HoursOut]:
    reg = service.get_dual(session, scope, reg_id)
    return [
        HoursOut.model_validate(h, from_attributes=True) for h in service.list_hours(session, reg)
    ]


@router.post("/dual/{reg_id}/hours", response_model=HoursOut, status_code=201)
def log_hours(reg_id: Id, body: HoursIn, session: SessionDep, scope: HoursLogger) -> HoursOut:
    """Service hours of a registered member (by the member, or by the community for them)."""
    reg = service.get_dual(session, scope, reg_id)
    row = service.log_hours(session, scope, reg, body)
    return HoursOut.model_validate(row, from_attributes=True)
