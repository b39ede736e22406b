"""/api/v1/units, /api/v1/routing-rules and the dispatch picker of a case: thin routes over
app/units/service.py. Read by the roles that dispatch, handle or oversee cases; edited by the
county admin (the policy's ``Resource.UNIT``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy import select

from app.auth.deps import SessionDep
from app.auth.policy import Action, Resource
from app.auth.scope import AreaScope, access, access_whole
from app.errors import InvalidInput, NotFound
from app.incidents.models import IncidentCategory
from app.incidents.service import get_incident
from app.locate.registry import today
from app.params import BigId, Id
from app.units import service
from app.units.models import RoutingRule, Unit, UnitMember
from app.units.schemas import (
    DispatchOption,
    DispatchOptions,
    MemberIn,
    MemberPublic,
    PersonOut,
    RuleIn,
    RulePublic,
    UnitCreate,
    UnitIn,
    UnitPublic,
)

router = APIRouter(prefix="/api/v1", tags=["units"])
Readers = Annotated[AreaScope, Depends(access(Resource.UNIT))]
Reader = Annotated[AreaScope, Depends(access_whole(Resource.UNIT))]
Admin = Annotated[AreaScope, Depends(access_whole(Resource.UNIT, Action.UPDATE))]
Case = Annotated[AreaScope, Depends(access_whole(Resource.INCIDENT))]


def _public(unit: Unit) -> UnitPublic:
    return UnitPublic(
        code=unit.code,
        name=unit.name,
        kind=unit.kind,  # type: ignore[arg-type]
        area_code=unit.area_code,
        parent_code=unit.parent_code,
        phone=unit.phone,
        active=unit.active,
        kind_label=service.kind_label(unit.kind),
    )


def _visible(session: SessionDep, scope: AreaScope, code: str) -> Unit:
    unit = service.get_unit(session, code)
    if not service.related(scope, unit.area_code):
        raise NotFound(f"承办单位 {code} 不存在")
    return unit


@router.get("/units", response_model=list[UnitPublic])
def list_units(
    session: SessionDep,
    scope: Readers,
    kind: Annotated[
        str | None, Query(pattern="^(grid|community|township|county|department|agency)$")
    ] = None,
) -> list[UnitPublic]:
    """Units inside the caller's area (or the ``area`` named) and those whose area holds it (a
    township's dispatcher sends cases to county departments)."""
    return [_public(u) for u in service.list_units(session, scope=scope, kind=kind)]


@router.get("/units/{code}", response_model=UnitPublic)
def get_unit(code: str, session: SessionDep, scope: Reader) -> UnitPublic:
    return _public(_visible(session, scope, code))


def _check_unit(session: SessionDep, scope: AreaScope, body: UnitIn, code: str) -> None:
    scope.require(body.area_code, missing=f"区域 {body.area_code} 不存在")
    if not service.area_exists(session, body.area_code):
        raise InvalidInput(f"area_code: 区域 {body.area_code} 不存在", field="area_code")
    if body.parent_code is not None:
        if body.parent_code == code:
            raise InvalidInput("parent_code: 上级单位不能是本单位", field="parent_code")
        parent = session.scalar(select(Unit).where(Unit.code == body.parent_code))
        if parent is None:
            raise InvalidInput(
                f"parent_code: 上级单位 {body.parent_code} 不存在", field="parent_code"
            )


@router.post("/units", response_model=UnitPublic, status_code=201)
def create_unit(body: UnitCreate, session: SessionDep, scope: Admin) -> UnitPublic:
    """Add a unit (county admins): a department, an agency, or a tier unit the registry lacks."""
    _check_unit(session, scope, body, body.code)
    if session.scalar(select(Unit).where(Unit.code == body.code)) is not None:
        raise InvalidInput(f"code: 承办单位编码 {body.code} 已存在", field="code")
    unit = Unit(**body.model_dump())
    session.add(unit)
    session.flush()
    return _public(unit)


@router.put("/units/{code}", response_model=UnitPublic)
def update_unit(code: str, body: UnitIn, session: SessionDep, scope: Admin) -> UnitPublic:
    """Edit a unit's name, kind, jurisdiction, parent, contact or whether it is active."""
    unit = _visible(session, scope, code)
    _check_unit(session, scope, body, code)
    for key, value in body.model_dump().items():
        setattr(unit, key, value)
    session.flush()
    return _public(unit)


def _member(m: UnitMember, names: dict[str, str]) -> MemberPublic:
    return MemberPublic(
        id=m.id,
        unit_code=m.unit_code,
        username=m.username,
        valid_from=m.valid_from,
        valid_to=m.valid_to,
        full_name=names.get(m.username),
    )


@router.get("/units/{code}/members", response_model=list[MemberPublic])
def list_members(code: str, session: SessionDep, scope: Reader) -> list[MemberPublic]:
    _visible(session, scope, code)
    rows = service.members(session, code)
    names = service.full_names(session, {m.username for m in rows})
    return [_member(m, names) for m in rows]


@router.post("/units/{code}/members", response_model=MemberPublic, status_code=201)
def add_member(code: str, body: MemberIn, session: SessionDep, scope: Admin) -> MemberPublic:
    """Add an account to a unit from ``valid_from`` (to ``valid_to``, inclusive)."""
    unit = _visible(session, scope, code)
    m = service.add_member(session, unit, body.username, body.valid_from, body.valid_to)
    return _member(m, service.full_names(session, {m.username}))


@router.put("/units/{code}/members/{member_id}", response_model=MemberPublic)
def update_member(
    code: str, member_id: Id, body: MemberIn, session: SessionDep, scope: Admin
) -> MemberPublic:
    """Change a membership's dates (end it with ``valid_to``)."""
    _visible(session, scope, code)
    m = session.scalar(
        select(UnitMember).where(UnitMember.id == member_id, UnitMember.unit_code == code)
    )
    if m is None or m.username != body.username:
        raise NotFound(f"承办单位 {code} 没有这条成员记录")
    m.valid_from, m.valid_to = body.valid_from, body.valid_to
    session.flush()
    return _member(m, service.full_names(session, {m.username}))


def _rule(r: RoutingRule, categories: dict[str, str], units: dict[str, str]) -> RulePublic:
    return RulePublic(
        id=r.id,
        category_code=r.category_code,
        area_code=r.area_code,
        unit_code=r.unit_code,
        tier=r.tier,  # type: ignore[arg-type]
        note=r.note,
        category_name=categories.get(r.category_code),
        unit_name=units.get(r.unit_code) if r.unit_code else None,
    )


def _names(session: SessionDep) -> tuple[dict[str, str], dict[str, str]]:
    cats = {c: n for c, n in session.execute(select(IncidentCategory.code, IncidentCategory.name))}
    units = {c: n for c, n in session.execute(select(Unit.code, Unit.name))}
    return cats, units


@router.get("/routing-rules", response_model=list[RulePublic])
def list_rules(session: SessionDep, scope: Readers) -> list[RulePublic]:
    """The routing table: category × area → the default unit (or tier) of a dispatch."""
    cats, units = _names(session)
    return [_rule(r, cats, units) for r in service.list_rules(session, scope=scope)]


@router.put("/routing-rules", response_model=RulePublic)
def put_rule(body: RuleIn, session: SessionDep, scope: Admin) -> RulePublic:
    """Set the rule of a category and area (created, or replaced if one exists)."""
    scope.require(body.area_code, missing=f"区域 {body.area_code} 不存在")
    rule = service.put_rule(session, body)
    cats, units = _names(session)
    return _rule(rule, cats, units)


@router.delete("/routing-rules/{rule_id}", status_code=204)
def delete_rule(rule_id: Id, session: SessionDep, scope: Admin) -> Response:
    rule = session.get(RoutingRule, rule_id)
    if rule is None or not scope.covers(rule.area_code):
        raise NotFound(f"分派规则 {rule_id} 不存在")
    session.delete(rule)
    session.flush()
    return Response(status_code=204)


@router.get("/incidents/{incident_id}/dispatch-options", response_model=DispatchOptions)
def dispatch_options(incident_id: BigId, session: SessionDep, scope: Case) -> DispatchOptions:
    """The dispatch picker: the routing table's unit first, then every unit valid for the case's
    area, each with the staff valid today. Sending a case elsewhere is refused (422)."""
    incident = get_incident(session, incident_id, scope=scope)
    options = service.dispatch_options(
        session, category_code=incident.category_code, grid_code=incident.grid_code, day=today()
    )
    suggested = next((o.unit.code for o in options if o.suggested), None)
    return DispatchOptions(
        incident_id=incident.id,
        suggested=suggested,
        units=[
            DispatchOption(
                code=o.unit.code,
                name=o.unit.name,
                kind=o.unit.kind,
                kind_label=service.kind_label(o.unit.kind),
                area_code=o.unit.area_code,
                phone=o.unit.phone,
                suggested=o.suggested,
                staff=[PersonOut(username=p.username, name=p.name) for p in o.staff],
            )
            for o in options
        ],
    )
