"""Responsible units: who a case may go to, who serves a unit, where a case goes by default and
where escalation takes it (docs/domain.md#responsible-units). No HTTP here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, text
from sqlalchemy.orm import Session

from app.auth.models import User
from app.auth.policy import Principal, Role, within
from app.auth.scope import AreaScope
from app.errors import InvalidInput, NotFound
from app.incidents import statemachine as sm
from app.incidents.models import IncidentCategory
from app.staff.models import Staff, StaffAssignment
from app.units.models import (
    KIND_LABELS,
    KINDS,
    TIER_DIGITS,
    TIER_KINDS,
    RoutingRule,
    Unit,
    UnitMember,
)


@dataclass(frozen=True)
class Person:
    username: str
    name: str


@dataclass
class UnitOption:
    unit: Unit
    staff: list[Person] = field(default_factory=list)
    suggested: bool = False


def _valid_on(day: dt.date):  # type: ignore[no-untyped-def]
    return and_(
        UnitMember.valid_from <= day,
        or_(UnitMember.valid_to.is_(None), UnitMember.valid_to >= day),
    )


def standing(session: Session, principal: Principal, day: dt.date) -> sm.Standing:
    """The units ``principal`` serves on ``day`` (memberships, and the grid units of the grids a
    grid worker serves) and the grids they serve (for on-site checks)."""
    if principal.is_anonymous or principal.system:
        return sm.Standing()
    units = set(
        session.scalars(
            select(UnitMember.unit_code).where(
                UnitMember.username == principal.username, _valid_on(day)
            )
        )
    )
    grids = set(principal.served_grids)
    if grids:
        units.update(
            session.scalars(
                select(Unit.code).where(
                    Unit.kind == "grid", Unit.active, Unit.area_code.in_(sorted(grids))
                )
            )
        )
    if units and principal.role == Role.GRID_WORKER:
        grids.update(
            session.scalars(
                select(Unit.area_code).where(Unit.kind == "grid", Unit.code.in_(sorted(units)))
            )
        )
    return sm.Standing(units=frozenset(units), grids=frozenset(grids))


def unit_cases_clause(principal: Principal, day: dt.date) -> ColumnElement[bool]:
    """The cases of a unit's staff member: those with their units, and those assigned to them."""
    from app.incidents.models import Incident

    units = select(UnitMember.unit_code).where(
        UnitMember.username == principal.username, _valid_on(day)
    )
    return or_(Incident.unit_code.in_(units), Incident.assignee == principal.username)


def serves_case(unit: Unit, grid_code: str) -> bool:
    """A unit may take a case whose grid lies inside the unit's jurisdiction."""
    return unit.active and within(grid_code, unit.area_code)


def tier_unit(session: Session, tier: str, grid_code: str) -> Unit | None:
    """The active unit of ``tier`` (grid, community, township, county) for a case's grid."""
    return session.scalar(
        select(Unit).where(
            Unit.kind == tier, Unit.active, Unit.area_code == grid_code[: TIER_DIGITS[tier]]
        )
    )


def _category_chain(session: Session, category_code: str) -> list[str]:
    """The small class and its big class, most specific first."""
    parent = session.scalar(
        select(IncidentCategory.parent_code).where(IncidentCategory.code == category_code)
    )
    return [category_code, parent] if parent else [category_code]


def suggested_unit(session: Session, category_code: str, grid_code: str) -> Unit | None:
    """Where a case goes by default: the most specific routing rule for its category (small class
    before big class) and area (longer code first), else the unit of the category's default tier."""
    chain = _category_chain(session, category_code)
    areas = [grid_code[:n] for n in (15, 12, 9, 6)]
    rules = session.scalars(
        select(RoutingRule).where(
            RoutingRule.category_code.in_(chain), RoutingRule.area_code.in_(areas)
        )
    ).all()
    rules = sorted(rules, key=lambda r: (chain.index(r.category_code), -len(r.area_code)))
    for rule in rules:
        if rule.unit_code is not None:
            unit = session.scalar(select(Unit).where(Unit.code == rule.unit_code))
            if unit is not None and serves_case(unit, grid_code):
                return unit
        elif rule.tier is not None:
            unit = tier_unit(session, rule.tier, grid_code)
            if unit is not None:
                return unit
    tier = session.scalar(
        select(IncidentCategory.default_tier).where(IncidentCategory.code == category_code)
    )
    return tier_unit(session, tier, grid_code) if tier else None


def units_for_case(session: Session, grid_code: str) -> list[Unit]:
    """Active units whose jurisdiction holds the grid, by tier then kind then code."""
    prefixes = [grid_code[:n] for n in (15, 12, 9, 6)]
    rows = session.scalars(select(Unit).where(Unit.active, Unit.area_code.in_(prefixes))).all()
    return sorted(rows, key=lambda u: (KINDS.index(u.kind), -len(u.area_code), u.code))


def unit_staff(session: Session, units: Iterable[Unit], day: dt.date) -> dict[str, list[Person]]:
    """Each unit's staff valid on ``day``: active accounts that are members, and for a grid unit
    the grid workers whose staff record serves the grid (leader or worker) on that day."""
    units = list(units)
    out: dict[str, dict[str, Person]] = {u.code: {} for u in units}
    if not units:
        return {}
    rows = session.execute(
        select(UnitMember.unit_code, User.username, User.full_name)
        .join(User, User.username == UnitMember.username)
        .where(UnitMember.unit_code.in_(list(out)), User.is_active, _valid_on(day))
        .order_by(User.username)
    )
    for code, username, name in rows:
        out[code][username] = Person(username, name or username)
    grid_units = {u.area_code: u.code for u in units if u.kind == "grid"}
    if grid_units:
        workers = session.execute(
            select(StaffAssignment.grid_code, User.username, User.full_name, Staff.name)
            .join(User, User.staff_id == StaffAssignment.staff_id)
            .join(Staff, Staff.id == StaffAssignment.staff_id)
            .where(
                StaffAssignment.grid_code.in_(list(grid_units)),
                StaffAssignment.role.in_(("leader", "worker")),
                StaffAssignment.start_date <= day,
                or_(StaffAssignment.end_date.is_(None), StaffAssignment.end_date >= day),
                User.is_active,
                User.role == Role.GRID_WORKER,
            )
            .order_by(User.username)
        )
        for grid, username, full_name, staff_name in workers:
            out[grid_units[grid]][username] = Person(username, full_name or staff_name)
    return {code: sorted(p.values(), key=lambda p: p.username) for code, p in out.items()}


def dispatch_options(
    session: Session, *, category_code: str, grid_code: str, day: dt.date
) -> list[UnitOption]:
    """The picker of a dispatch: the suggested unit first, then every unit valid for the case's
    area, each with its staff valid today."""
    units = units_for_case(session, grid_code)
    suggested = suggested_unit(session, category_code, grid_code)
    if suggested is not None:
        units = [suggested, *(u for u in units if u.code != suggested.code)]
    staff = unit_staff(session, units, day)
    return [
        UnitOption(u, staff.get(u.code, []), suggested is not None and u.code == suggested.code)
        for u in units
    ]


def check_target(
    session: Session, *, grid_code: str, unit_code: str, assignee: str | None, day: dt.date
) -> Unit:
    """The unit (and person) a case is sent to, or a 422 naming what is wrong with them."""
    unit = session.scalar(select(Unit).where(Unit.code == unit_code))
    if unit is None:
        raise InvalidInput(f"unit: 承办单位 {unit_code} 不存在", field="unit")
    if not unit.active:
        raise InvalidInput(f"unit: 承办单位“{unit.name}”（{unit_code}）已停用", field="unit")
    if not serves_case(unit, grid_code):
        raise InvalidInput(
            f"unit: 承办单位“{unit.name}”（{unit_code}）的辖区不包含本案所在网格 {grid_code}",
            field="unit",
        )
    if assignee is not None:
        staff = unit_staff(session, [unit], day).get(unit.code, [])
        if assignee not in {p.username for p in staff}:
            raise InvalidInput(
                f"assignee: {assignee} 不是“{unit.name}”（{unit_code}）当前在岗的人员",
                field="assignee",
            )
    return unit


def next_tier_unit(
    session: Session, unit_code: str | None, tier: int, grid_code: str
) -> Unit | None:
    """Where escalation takes a case: the unit of the next tier for its area."""
    if tier + 1 >= len(TIER_KINDS):
        return None
    return tier_unit(session, TIER_KINDS[tier + 1], grid_code)


# ---- the directory and the routing table, for the API --------------------------------------------


def related(scope: AreaScope, area_code: str) -> bool:
    """A unit (or rule) concerns the caller when its area lies inside their scope or holds it: a
    township dispatcher sends cases to county departments (the row-level security says the same)."""
    return scope.covers(area_code) or within(scope.prefix, area_code)


def _related_clause(scope: AreaScope, column: Any) -> ColumnElement[bool]:
    holders = [scope.prefix[:n] for n in (6, 9, 12) if len(scope.prefix) > n]
    return or_(scope.clause(column), column.in_(holders))


def list_units(session: Session, *, scope: AreaScope, kind: str | None) -> list[Unit]:
    stmt = select(Unit).where(_related_clause(scope, Unit.area_code))
    if kind:
        stmt = stmt.where(Unit.kind == kind)
    rows = session.scalars(stmt).all()
    return sorted(rows, key=lambda u: (u.area_code, KINDS.index(u.kind), u.code))


def get_unit(session: Session, code: str) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise NotFound(f"承办单位 {code} 不存在")
    return unit


def members(session: Session, code: str) -> list[UnitMember]:
    return list(
        session.scalars(
            select(UnitMember)
            .where(UnitMember.unit_code == code)
            .order_by(UnitMember.username, UnitMember.valid_from)
        )
    )


def full_names(session: Session, usernames: set[str]) -> dict[str, str]:
    if not usernames:
        return {}
    rows = session.execute(
        select(User.username, User.full_name).where(User.username.in_(sorted(usernames)))
    )
    return {u: n for u, n in rows if n}


def add_member(
    session: Session, unit: Unit, username: str, valid_from: dt.date, valid_to: dt.date | None
) -> UnitMember:
    """A membership for an existing account; a second one for the same dates is refused."""
    if session.scalar(select(User.id).where(User.username == username)) is None:
        raise InvalidInput(f"username: 账号 {username} 不存在", field="username")
    dup = session.scalar(
        select(UnitMember.id).where(
            UnitMember.unit_code == unit.code,
            UnitMember.username == username,
            UnitMember.valid_from == valid_from,
        )
    )
    if dup is not None:
        raise InvalidInput(
            f"username: {username} 已是“{unit.name}”自 {valid_from} 起的成员", field="username"
        )
    m = UnitMember(unit_code=unit.code, username=username, valid_from=valid_from, valid_to=valid_to)
    session.add(m)
    session.flush()
    return m


def list_rules(session: Session, *, scope: AreaScope) -> list[RoutingRule]:
    return list(
        session.scalars(
            select(RoutingRule)
            .where(_related_clause(scope, RoutingRule.area_code))
            .order_by(RoutingRule.category_code, RoutingRule.area_code)
        )
    )


def put_rule(session: Session, body: Any) -> RoutingRule:
    """Create or replace the rule of (category, area); the unit must serve that area."""
    if (
        session.scalar(
            select(IncidentCategory.id).where(IncidentCategory.code == body.category_code)
        )
        is None
    ):
        raise InvalidInput(
            f"category_code: 事件类别 {body.category_code} 不存在", field="category_code"
        )
    if not area_exists(session, body.area_code):
        raise InvalidInput(f"area_code: 区域 {body.area_code} 不存在", field="area_code")
    if body.unit_code is not None:
        unit = session.scalar(select(Unit).where(Unit.code == body.unit_code))
        if unit is None:
            raise InvalidInput(f"unit_code: 承办单位 {body.unit_code} 不存在", field="unit_code")
        if not (within(body.area_code, unit.area_code) and unit.active):
            raise InvalidInput(
                f"unit_code: 承办单位“{unit.name}”（{unit.code}）的辖区不包含区域 {body.area_code}",
                field="unit_code",
            )
    rule = session.scalar(
        select(RoutingRule).where(
            RoutingRule.category_code == body.category_code,
            RoutingRule.area_code == body.area_code,
        )
    )
    if rule is None:
        rule = RoutingRule(category_code=body.category_code, area_code=body.area_code)
        session.add(rule)
    rule.unit_code, rule.tier, rule.note = body.unit_code, body.tier, body.note
    session.flush()
    return rule


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind)


def area_exists(session: Session, code: str) -> bool:
    """A current area (6, 9 or 12 digits) or an active grid (15) with this code."""
    if len(code) == 15:
        sql = "SELECT EXISTS (SELECT 1 FROM grids WHERE code = :c AND status = 'active')"
    else:
        sql = "SELECT EXISTS (SELECT 1 FROM areas WHERE code = :c AND valid_to IS NULL)"
    return bool(session.scalar(text(sql), {"c": code}))
