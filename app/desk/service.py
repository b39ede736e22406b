"""The building desk (楼栋长、单元管家): the building or unit a person looks after, the cases open
there, and the county giving them a login limited to it (docs/duties.md#building-leaders).

Their jurisdiction is their grid (a 15-digit code, so the database's row-level security holds them
to it); inside the grid the desk shows only their own buildings: the assignment says which.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.auth.models import User
from app.auth.passwords import check_password, password_problem
from app.auth.policy import Action, Resource, Role, role_label
from app.auth.scope import AreaScope
from app.auth.security import hash_password
from app.desk.schemas import (
    Desk,
    DeskCase,
    Eligible,
    EligibleList,
    LoginGrant,
    LoginGranted,
    Post,
)
from app.errors import Conflict, Forbidden, InvalidInput, NotFound

# The staff role of an assignment and the login role it gives (the same names on purpose).
LOGIN_ROLE = {r.value: r for r in (Role.BUILDING_LEADER, Role.UNIT_STEWARD)}
# A case "at" a building: its point within this many metres of the building's point or outline.
NEAR_M = 30.0
_DONE = ["closed", "evaluated", "rejected", "voided"]


def posts(session: Session, staff_id: int, today: dt.date) -> Sequence[Any]:
    """The caller's current building-leader and unit-steward assignments with their buildings."""
    return session.execute(
        text(
            "SELECT a.role, a.grid_code, a.unit, b.id AS building_id, b.name, b.compound, "
            "  ST_X(b.location) AS lng, ST_Y(b.location) AS lat "
            "FROM staff_assignments a JOIN buildings b ON b.id = a.building_id "
            "WHERE a.staff_id = :s AND a.role = ANY(:roles) AND a.start_date <= :d "
            "AND (a.end_date IS NULL OR a.end_date >= :d) ORDER BY b.id, a.unit"
        ),
        {"s": staff_id, "roles": sorted(LOGIN_ROLE), "d": today},
    ).all()


def my_posts(session: Session, scope: AreaScope, today: dt.date) -> list[Any]:
    """The one rule for "my building (or unit)": the caller's current assignments of the role
    their login stands for, inside the login's grid."""
    principal = scope.principal
    held = posts(session, principal.staff_id, today) if principal.staff_id else []
    return [p for p in held if LOGIN_ROLE[p.role] == principal.role and scope.covers(p.grid_code)]


# The buildings (and units) a register proposal touches: where its record is or will be, from the
# proposal's own fields (building, house, household) or the record it changes. ``{t}`` is the
# proposal table's name or alias in the caller's query.
_PROPOSAL_PLACES = """
    SELECT (({t}.after || {t}.before) ->> 'building_id')::int AS building_id,
           coalesce({t}.after ->> 'unit', {t}.before ->> 'unit') AS unit
    UNION ALL SELECT h.building_id, h.unit FROM houses h
      WHERE h.id IN (({t}.after ->> 'house_id')::int, ({t}.before ->> 'house_id')::int)
         OR ({t}.kind = 'house' AND h.id = {t}.target_id)
    UNION ALL SELECT hh.building_id, hh.unit FROM households hh
      WHERE hh.id IN (({t}.after ->> 'household_id')::int, ({t}.before ->> 'household_id')::int)
    UNION ALL SELECT h.building_id, h.unit FROM persons x JOIN houses h ON h.id = x.house_id
      WHERE {t}.kind = 'person' AND x.id = {t}.target_id
    UNION ALL SELECT o.building_id, NULL FROM organisations o
      WHERE {t}.kind = 'organisation' AND o.id = {t}.target_id
"""


def proposal_filter(
    session: Session, scope: AreaScope, today: dt.date, table: str = "register_proposals"
) -> tuple[str, dict[str, Any]] | None:
    """For a building desk login, an SQL condition on register proposals keeping those at the
    caller's own building (a steward: own unit), those naming no building at all (any desk of the
    grid may confirm them) and the caller's own reports; None for any other login (they see the
    proposals of their area)."""
    principal = scope.principal
    if not principal.may(Resource.BUILDING_DESK, Action.READ):
        return None
    mine = my_posts(session, scope, today)
    places = (
        f"SELECT * FROM ({_PROPOSAL_PLACES.format(t=table)}) place WHERE building_id IS NOT NULL"
    )
    condition = (
        f"({table}.proposed_by = :desk_me OR NOT EXISTS ({places}) OR EXISTS ({places} AND "
        "EXISTS (SELECT 1 FROM unnest(CAST(:desk_buildings AS int[]), "
        "CAST(:desk_units AS text[])) AS m(building_id, unit) "
        "WHERE m.building_id = place.building_id AND (m.unit IS NULL OR m.unit = place.unit))))"
    )
    return condition, {
        "desk_me": principal.username,
        "desk_buildings": [p.building_id for p in mine],
        "desk_units": [p.unit for p in mine],
    }


def desk(session: Session, scope: AreaScope, today: dt.date) -> Desk:
    principal = scope.principal
    mine = my_posts(session, scope, today)
    cases: list[DeskCase] = []
    if mine:
        rows = session.execute(
            text(
                "SELECT DISTINCT ON (i.id) i.id, i.case_no, c.name AS category_name, i.state, "
                "  i.description, i.address, i.reported_at, b.id AS building_id "
                "FROM incidents i JOIN incident_categories c ON c.code = i.category_code "
                "JOIN buildings b ON b.id = ANY(:b) AND ST_DWithin(geography(i.location), "
                "  geography(coalesce(b.footprint, b.location)), :near) "
                f"WHERE {scope.sql('i.grid_code')} AND NOT (i.state = ANY(:done)) "
                "ORDER BY i.id DESC"
            ),
            {
                "b": sorted({p.building_id for p in mine}),
                "near": NEAR_M,
                "done": _DONE,
                **scope.params(),
            },
        ).all()
        cases = [DeskCase.model_validate(r, from_attributes=True) for r in rows]
    return Desk(
        role_label=role_label(principal.role),
        posts=[
            Post(
                building_id=p.building_id,
                building_name=p.name,
                compound=p.compound,
                unit=p.unit,
                grid_code=p.grid_code,
                lng=p.lng,
                lat=p.lat,
            )
            for p in mine
        ],
        cases=cases,
    )


def grant_login(
    session: Session, *, scope: AreaScope, data: LoginGrant, today: dt.date, policy: Any
) -> LoginGranted:
    """A login for a building leader or unit steward, its role and grid taken from their current
    assignment (so an administrator cannot widen it by a typing slip); inside the administrator's
    jurisdiction only."""
    staff = session.execute(
        text("SELECT id, code, name FROM staff WHERE code = :c"), {"c": data.staff_code}
    ).first()
    if staff is None:
        raise NotFound(f"人员编号 {data.staff_code} 不存在", field="staff_code")
    held = [p for p in posts(session, staff.id, today) if scope.covers(p.grid_code)]
    if not held:
        raise InvalidInput(
            f"{staff.name}（{staff.code}）当前不是本辖区内的楼栋长或单元管家：请先在人员任职中登记",
            field="staff_code",
        )
    grids = {p.grid_code for p in held}
    roles = {p.role for p in held}
    if len(grids) > 1 or len(roles) > 1:
        raise InvalidInput(
            f"{staff.name} 同时在多个网格或担任多种职务，一个账号只能对应一个网格中的一种职务",
            field="staff_code",
        )
    if not scope.covers(next(iter(grids))):
        raise Forbidden("只能为本辖区内的楼栋长或单元管家开通账号")
    password = data.password if data.password is not None else _initial_password(data, policy)
    check_password(password, username=data.username, policy=policy)
    if session.scalar(select(User.id).where(User.username == data.username)) is not None:
        raise Conflict(f"用户名 {data.username} 已存在", field="username")
    role = LOGIN_ROLE[next(iter(roles))]
    grid = next(iter(grids))
    user = User(
        username=data.username,
        full_name=staff.name,
        password_hash=hash_password(password),
        role=role,
        jurisdiction_code=grid,
        staff_id=staff.id,
    )
    session.add(user)
    session.flush()
    return LoginGranted(
        username=user.username,
        role=role,
        role_label=role_label(role),
        jurisdiction_code=grid,
        staff_code=staff.code,
        message=f"已为{role_label(role)} {staff.name} 开通账号，只能查看和处理其负责的楼栋（网格 {grid}）",
        initial_password=None if data.password is not None else password,
    )


def _initial_password(data: LoginGrant, policy: Any) -> str:
    """A random initial password that passes the password rules (app/auth/passwords.py)."""
    while True:
        candidate = secrets.token_urlsafe(12)
        if password_problem(candidate, username=data.username, policy=policy) is None:
            return candidate


def eligible(session: Session, scope: AreaScope, today: dt.date) -> EligibleList:
    """The building leaders and unit stewards currently assigned inside the area, each with the
    login they already have (the county gives one on the units page)."""
    rows = session.execute(
        text(
            "SELECT s.code AS staff_code, s.name, a.role, b.name AS building_name, a.unit, "
            "  a.grid_code, (SELECT min(u.username) FROM users u WHERE u.staff_id = s.id "
            "    AND u.role = a.role) AS username "
            "FROM staff_assignments a JOIN staff s ON s.id = a.staff_id "
            "JOIN buildings b ON b.id = a.building_id "
            f"WHERE a.role = ANY(:roles) AND {scope.sql('a.grid_code')} AND a.start_date <= :d "
            "AND (a.end_date IS NULL OR a.end_date >= :d) ORDER BY a.grid_code, b.name, a.unit, s.code"
        ),
        {"roles": sorted(LOGIN_ROLE), "d": today, **scope.params()},
    ).all()
    return EligibleList(
        data=[Eligible(**r._mapping, role_label=role_label(LOGIN_ROLE[r.role])) for r in rows]
    )
