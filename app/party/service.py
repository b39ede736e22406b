"""Party-building in the grid (docs/party.md): organisations and the grids they cover, members and
the buildings they lead, 双报到 registrations and service hours, and the figures of an area.
No HTTP here."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, or_, select, text
from sqlalchemy.orm import Session

from app.areas.service import current_area, current_names
from app.auth.models import User
from app.auth.policy import Field, Resource, mask_phone, personal_only, within
from app.auth.scope import AreaScope
from app.errors import Conflict, InvalidInput, NotFound
from app.grids.models import Grid
from app.locate.registry import today
from app.party.models import (
    ORG_KIND_LABELS,
    DualRegistration,
    PartyMember,
    PartyOrg,
    PartyOrgGrid,
    ServiceHours,
)
from app.party.schemas import DualIn, HoursIn, MemberIn, OrgIn
from app.register.models import Person
from app.staff.models import StaffAssignment
from app.units.models import Unit

# ----------------------------------------------------------------------------- organisations


def get_org(session: Session, scope: AreaScope, org_id: int) -> PartyOrg:
    org = session.get(PartyOrg, org_id)
    if org is None or not scope.covers(org.area_code):
        raise NotFound(f"党组织 {org_id} 不存在")
    return org


def org_grids(session: Session, org_ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {i: [] for i in org_ids}
    rows = session.execute(
        select(PartyOrgGrid.org_id, PartyOrgGrid.grid_code)
        .where(PartyOrgGrid.org_id.in_(org_ids))
        .order_by(PartyOrgGrid.grid_code)
    )
    for org_id, code in rows:
        out[org_id].append(code)
    return out


def list_orgs(session: Session, scope: AreaScope) -> list[dict[str, Any]]:
    orgs = list(
        session.scalars(
            select(PartyOrg)
            .where(scope.clause(PartyOrg.area_code))
            .order_by(PartyOrg.area_code, PartyOrg.id)
        )
    )
    return describe_orgs(session, orgs)


def describe_orgs(session: Session, orgs: list[PartyOrg]) -> list[dict[str, Any]]:
    ids = [o.id for o in orgs]
    grids = org_grids(session, ids)
    members = list(
        session.execute(
            select(PartyMember.org_id, PartyMember.staff_id).where(
                PartyMember.org_id.in_(ids), PartyMember.active
            )
        )
    )
    led = led_buildings(session, {s for _, s in members if s})
    counts: dict[int, tuple[int, set[int]]] = {}
    for org_id, staff_id in members:
        n, buildings = counts.get(org_id, (0, set()))
        buildings |= {b for b, _ in led.get(staff_id, [])} if staff_id else set()
        counts[org_id] = (n + 1, buildings)
    names = current_names(session, sorted({o.area_code for o in orgs}))
    return [
        {
            "id": o.id,
            "name": o.name,
            "kind": o.kind,
            "kind_label": ORG_KIND_LABELS[o.kind],
            "area_code": o.area_code,
            "area_name": names.get(o.area_code),
            "parent_id": o.parent_id,
            "secretary": o.secretary,
            "phone": o.phone,
            "grid_codes": grids[o.id],
            "members": counts.get(o.id, (0, set()))[0],
            "buildings_led": len(counts.get(o.id, (0, set()))[1]),
        }
        for o in orgs
    ]


def _check_org(session: Session, scope: AreaScope, body: OrgIn, org_id: int | None) -> None:
    scope.require(body.area_code, missing=f"区域 {body.area_code} 不存在")
    if current_area(session, body.area_code) is None:
        raise InvalidInput(f"area_code: 区域 {body.area_code} 不存在", field="area_code")
    if body.parent_id is not None:
        parent = session.get(PartyOrg, body.parent_id)
        if parent is None or not scope.covers(parent.area_code):
            raise InvalidInput(f"parent_id: 上级党组织 {body.parent_id} 不存在", field="parent_id")
        if parent.id == org_id or parent.kind != "branch":
            raise InvalidInput("parent_id: 党小组的上级应为另一个网格党支部", field="parent_id")
        if body.kind != "group":
            raise InvalidInput("parent_id: 只有党小组设上级党支部", field="parent_id")
    codes = body.grid_codes
    if len(set(codes)) != len(codes):
        raise InvalidInput("grid_codes: 网格编码有重复", field="grid_codes")
    active = set(
        session.scalars(select(Grid.code).where(Grid.code.in_(codes), Grid.status == "active"))
    )
    for code in codes:
        if code not in active or not scope.covers(code):
            raise InvalidInput(f"grid_codes: 网格 {code} 不存在或未启用", field="grid_codes")
        if not within(code, body.area_code):
            raise InvalidInput(
                f"grid_codes: 网格 {code} 不在该党组织所属区域 {body.area_code} 内",
                field="grid_codes",
            )
    taken = session.execute(
        select(PartyOrgGrid.grid_code, PartyOrg.name)
        .join(PartyOrg, PartyOrg.id == PartyOrgGrid.org_id)
        .where(PartyOrgGrid.grid_code.in_(codes), PartyOrgGrid.org_id != (org_id or 0))
    ).first()
    if taken is not None:
        raise Conflict(
            f"网格 {taken.grid_code} 已由党组织“{taken.name}”覆盖；一个网格只属于一个党组织，"
            "请先从原党组织中移出",
            grid_code=taken.grid_code,
        )


def save_org(session: Session, scope: AreaScope, body: OrgIn, org_id: int | None) -> PartyOrg:
    """Create (``org_id`` None) or replace an organisation and the grids it covers."""
    org = PartyOrg() if org_id is None else get_org(session, scope, org_id)
    _check_org(session, scope, body, org_id)
    for key in ("name", "kind", "area_code", "parent_id", "secretary", "phone"):
        setattr(org, key, getattr(body, key))
    if org_id is None:
        session.add(org)
        session.flush()
    else:
        session.execute(delete(PartyOrgGrid).where(PartyOrgGrid.org_id == org.id))
    session.add_all(PartyOrgGrid(org_id=org.id, grid_code=c) for c in body.grid_codes)
    session.flush()
    return org


def grid_orgs(session: Session, scope: AreaScope) -> list[dict[str, Any]]:
    """Each grid of the area that has an organisation, with it (the coverage map's layer)."""
    rows = session.execute(
        select(PartyOrgGrid.grid_code, PartyOrg.id, PartyOrg.name, PartyOrg.kind)
        .join(PartyOrg, PartyOrg.id == PartyOrgGrid.org_id)
        .where(scope.clause(PartyOrgGrid.grid_code))
        .order_by(PartyOrgGrid.grid_code)
    )
    return [
        {
            "grid_code": r.grid_code,
            "org_id": r.id,
            "org_name": r.name,
            "kind": r.kind,
            "kind_label": ORG_KIND_LABELS[r.kind],
        }
        for r in rows
    ]


# ----------------------------------------------------------------------------- members

# The staff assignments (app/staff/models.py STAFF_ROLES, not account roles) of the people who
# look after a building: its leader (楼栋长) and its unit stewards (单元管家).
BUILDING_STAFF = (
    "building_leader",
    "unit_steward",
)

# The buildings each staff member leads today (their current building-leader assignments).
_LED_SQL = """
SELECT sa.staff_id, b.id, coalesce(b.compound, '') || b.name AS name
  FROM staff_assignments sa JOIN buildings b ON b.id = sa.building_id
 WHERE sa.staff_id = ANY(:staff) AND sa.role = 'building_leader' AND sa.start_date <= :day
   AND (sa.end_date IS NULL OR sa.end_date >= :day)
 ORDER BY sa.staff_id, b.id
"""


def led_buildings(session: Session, staff_ids: set[int]) -> dict[int, list[tuple[int, str]]]:
    out: dict[int, list[tuple[int, str]]] = {}
    if not staff_ids:
        return out
    rows = session.execute(text(_LED_SQL), {"staff": sorted(staff_ids), "day": today()})
    for staff_id, building_id, name in rows:
        out.setdefault(staff_id, []).append((building_id, name))
    return out


def _member_out(
    m: PartyMember, led: dict[int, list[tuple[int, str]]], show_phone: bool
) -> dict[str, Any]:
    return {
        "id": m.id,
        "org_id": m.org_id,
        "name": m.name,
        "phone": m.phone if show_phone else mask_phone(m.phone),
        "person_id": m.person_id,
        "staff_id": m.staff_id,
        "buildings_led": [n for _, n in led.get(m.staff_id, [])] if m.staff_id else [],
        "active": m.active,
    }


def list_members(session: Session, scope: AreaScope, org: PartyOrg) -> list[dict[str, Any]]:
    rows = list(
        session.scalars(
            select(PartyMember).where(PartyMember.org_id == org.id).order_by(PartyMember.id)
        )
    )
    led = led_buildings(session, {m.staff_id for m in rows if m.staff_id})
    show = scope.sees(Field.PARTY_CONTACT, org.area_code)
    return [_member_out(m, led, show) for m in rows]


def _check_member(session: Session, org: PartyOrg, body: MemberIn, member_id: int | None) -> None:
    if body.person_id is not None and session.get(Person, body.person_id) is None:
        raise InvalidInput(f"person_id: 实有人口 {body.person_id} 不存在", field="person_id")
    if body.staff_id is None:
        return
    grids = session.scalars(
        select(StaffAssignment.grid_code).where(
            StaffAssignment.staff_id == body.staff_id,
            StaffAssignment.role.in_(BUILDING_STAFF),
            StaffAssignment.start_date <= today(),
            or_(StaffAssignment.end_date.is_(None), StaffAssignment.end_date >= today()),
        )
    ).all()
    if not any(within(g, org.area_code) for g in grids):
        raise InvalidInput(
            f"staff_id: 人员 {body.staff_id} 目前不是该党组织所属区域内的楼栋长或单元管家",
            field="staff_id",
        )
    other = session.scalar(
        select(PartyMember.name).where(
            PartyMember.staff_id == body.staff_id,
            PartyMember.active,
            PartyMember.id != (member_id or 0),
        )
    )
    if other is not None and body.active:
        raise Conflict(f"该楼栋长已登记为党员 {other}，不能重复登记", staff_id=body.staff_id)


def save_member(
    session: Session, scope: AreaScope, org: PartyOrg, body: MemberIn, member_id: int | None
) -> dict[str, Any]:
    if member_id is None:
        m = PartyMember(org_id=org.id)
    else:
        found = session.get(PartyMember, member_id)
        if found is None or found.org_id != org.id:
            raise NotFound(f"党组织 {org.id} 没有成员 {member_id}")
        m = found
    _check_member(session, org, body, member_id)
    for key, value in body.model_dump().items():
        setattr(m, key, value)
    session.add(m)
    session.flush()
    led = led_buildings(session, {m.staff_id} if m.staff_id else set())
    return _member_out(m, led, scope.sees(Field.PARTY_CONTACT, org.area_code))


# ----------------------------------------------------------------------------- 双报到


def _dual_filter(scope: AreaScope) -> Any:
    if personal_only(scope.principal, Resource.DUAL_SERVICE):
        return DualRegistration.username == scope.principal.username
    return scope.clause(DualRegistration.community_code)


def list_dual(session: Session, scope: AreaScope) -> list[dict[str, Any]]:
    """The registrations the caller may read: those of the communities in their area, or their own
    (a unit's member), each with the hours logged."""
    hours = (
        select(
            ServiceHours.registration_id,
            func.coalesce(func.sum(ServiceHours.hours), 0).label("hours"),
            func.count().label("entries"),
        )
        .group_by(ServiceHours.registration_id)
        .subquery()
    )
    rows = session.execute(
        select(DualRegistration, hours.c.hours, hours.c.entries)
        .outerjoin(hours, hours.c.registration_id == DualRegistration.id)
        .where(_dual_filter(scope))
        .order_by(DualRegistration.community_code, DualRegistration.id)
    ).all()
    return _dual_out(session, scope, [(r[0], r[1], r[2]) for r in rows])


def _dual_out(
    session: Session, scope: AreaScope, rows: list[tuple[DualRegistration, Any, Any]]
) -> list[dict[str, Any]]:
    communities = current_names(session, sorted({r.community_code for r, _, _ in rows}))
    units = {
        c: n
        for c, n in session.execute(
            select(Unit.code, Unit.name).where(
                Unit.code.in_(sorted({r.unit_code for r, _, _ in rows}))
            )
        )
    }
    out = []
    for r, hours, entries in rows:
        own = r.username is not None and r.username == scope.principal.username
        show = own or scope.sees(Field.PARTY_CONTACT, r.community_code)
        out.append(
            {
                "id": r.id,
                "community_code": r.community_code,
                "community_name": communities.get(r.community_code),
                "unit_code": r.unit_code,
                "unit_name": units.get(r.unit_code),
                "name": r.name,
                "phone": r.phone if show else mask_phone(r.phone),
                "username": r.username,
                "registered_on": r.registered_on,
                "active": r.active,
                "hours": Decimal(hours or 0),
                "entries": int(entries or 0),
            }
        )
    return out


def register_dual(session: Session, scope: AreaScope, body: DualIn) -> dict[str, Any]:
    """双报到: a member of a county unit registered with the community of their home. The same
    member twice (community, unit, name, phone) is a 409 offering the existing registration."""
    scope.require(body.community_code, missing=f"社区 {body.community_code} 不存在")
    area = current_area(session, body.community_code)
    if area is None or area["level"] != "community":
        raise InvalidInput(
            f"community_code: 社区/村 {body.community_code} 不存在", field="community_code"
        )
    if session.scalar(select(Unit.code).where(Unit.code == body.unit_code)) is None:
        raise InvalidInput(f"unit_code: 单位 {body.unit_code} 不存在", field="unit_code")
    if (
        body.username is not None
        and session.scalar(select(User.id).where(User.username == body.username)) is None
    ):
        raise InvalidInput(f"username: 账号 {body.username} 不存在", field="username")
    existing = session.scalar(
        select(DualRegistration).where(
            DualRegistration.community_code == body.community_code,
            DualRegistration.unit_code == body.unit_code,
            DualRegistration.name == body.name,
            DualRegistration.phone == body.phone,
        )
    )
    if existing is not None:
        raise Conflict(
            f"{body.name} 已于 {existing.registered_on.isoformat()} 向该社区报到（登记 {existing.id}），"
            "无需重复登记",
            existing_id=existing.id,
        )
    reg = DualRegistration(
        community_code=body.community_code,
        unit_code=body.unit_code,
        name=body.name,
        phone=body.phone,
        username=body.username,
        registered_on=body.registered_on or today(),
    )
    session.add(reg)
    session.flush()
    return _dual_out(session, scope, [(reg, 0, 0)])[0]


def get_dual(session: Session, scope: AreaScope, reg_id: int) -> DualRegistration:
    reg = session.scalar(
        select(DualRegistration).where(DualRegistration.id == reg_id, _dual_filter(scope))
    )
    if reg is None:
        raise NotFound(f"双报到登记 {reg_id} 不存在")
    return reg


def list_hours(session: Session, reg: DualRegistration) -> list[ServiceHours]:
    return list(
        session.scalars(
            select(ServiceHours)
            .where(ServiceHours.registration_id == reg.id)
            .order_by(ServiceHours.served_on.desc(), ServiceHours.id.desc())
        )
    )


def log_hours(
    session: Session, scope: AreaScope, reg: DualRegistration, body: HoursIn
) -> ServiceHours:
    if not reg.active:
        raise Conflict(f"{reg.name} 的双报到登记已停用，不能再记录服务时长")
    if body.served_on > today():
        raise InvalidInput("served_on: 服务日期不能晚于今天", field="served_on")
    if body.served_on < reg.registered_on:
        raise InvalidInput(
            f"served_on: 服务日期不能早于报到日期 {reg.registered_on.isoformat()}",
            field="served_on",
        )
    day_total = session.scalar(
        select(func.coalesce(func.sum(ServiceHours.hours), 0)).where(
            ServiceHours.registration_id == reg.id, ServiceHours.served_on == body.served_on
        )
    )
    if Decimal(day_total or 0) + body.hours > 24:
        raise InvalidInput(
            f"hours: {body.served_on.isoformat()} 已记录 {day_total} 小时，一天合计不能超过 24 小时",
            field="hours",
        )
    row = ServiceHours(
        registration_id=reg.id,
        served_on=body.served_on,
        hours=body.hours,
        activity=body.activity,
        recorded_by=scope.principal.username,
    )
    session.add(row)
    session.flush()
    return row


# ----------------------------------------------------------------------------- figures

_FIGURES_SQL = """
SELECT
  (SELECT count(*) FROM grids g WHERE g.status = 'active' AND {grid_scope}) AS grids,
  (SELECT count(*) FROM grids g WHERE g.status = 'active' AND {grid_scope}
      AND EXISTS (SELECT 1 FROM party_org_grids pg WHERE pg.grid_code = g.code)) AS grids_with_org,
  (SELECT count(*) FROM buildings b WHERE {building_scope}) AS buildings,
  (SELECT count(DISTINCT sa.building_id) FROM staff_assignments sa
      JOIN buildings b ON b.id = sa.building_id
      WHERE sa.role = 'building_leader' AND sa.start_date <= :day
        AND (sa.end_date IS NULL OR sa.end_date >= :day) AND {building_scope}) AS buildings_led,
  (SELECT count(DISTINCT sa.building_id) FROM staff_assignments sa
      JOIN buildings b ON b.id = sa.building_id
      JOIN party_members m ON m.staff_id = sa.staff_id AND m.active
      WHERE sa.role = 'building_leader' AND sa.start_date <= :day
        AND (sa.end_date IS NULL OR sa.end_date >= :day) AND {building_scope}) AS buildings_party_led,
  (SELECT count(*) FROM party_orgs o WHERE {org_scope}) AS orgs,
  (SELECT count(*) FROM party_members m JOIN party_orgs o ON o.id = m.org_id
      WHERE m.active AND {org_scope}) AS party_members
"""


def figures(session: Session, scope: AreaScope) -> dict[str, Any]:
    """Grids with a party organisation, buildings led by party members, organisations and members,
    and 双报到 members and hours per community, inside the area."""
    sql = _FIGURES_SQL.format(
        grid_scope=scope.sql("g.code"),
        building_scope=scope.sql("b.community_code"),
        org_scope=scope.sql("o.area_code"),
    )
    row = session.execute(text(sql), {**scope.params(), "day": today()}).one()
    dual = session.execute(
        select(
            DualRegistration.community_code,
            func.count(func.distinct(DualRegistration.id)),
            func.coalesce(func.sum(ServiceHours.hours), 0),
        )
        .outerjoin(ServiceHours, ServiceHours.registration_id == DualRegistration.id)
        .where(DualRegistration.active, scope.clause(DualRegistration.community_code))
        .group_by(DualRegistration.community_code)
        .order_by(DualRegistration.community_code)
    ).all()
    names = current_names(session, [c for c, _, _ in dual])
    by_community = [
        {
            "community_code": c,
            "community_name": names.get(c),
            "members": int(n),
            "hours": Decimal(h),
        }
        for c, n, h in dual
    ]
    return {
        "area_code": scope.prefix,
        **row._asdict(),
        "dual_members": sum(int(n) for _, n, _ in dual),
        "dual_hours": sum((Decimal(h) for _, _, h in dual), Decimal(0)),
        "by_community": by_community,
    }
