"""The building desk (楼栋长、单元管家): the building or unit a person looks after, the cases open
there, and the county giving them a login limited to it (docs/duties.md#building-leaders).

Their jurisdiction is their grid (a 15-digit code, so the database's row-level security holds them
to it); inside the grid the desk shows only their own buildings: the assignment says which.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.auth.models import User
from app.auth.passwords import check_password
from app.auth.policy import Role, role_label
from app.auth.scope import AreaScope
from app.auth.security import hash_password
from app.desk.schemas import Desk, DeskCase, LoginGrant, LoginGranted, Post
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


def desk(session: Session, scope: AreaScope, today: dt.date) -> Desk:
    principal = scope.principal
    mine = posts(session, principal.staff_id, today) if principal.staff_id else []
    # Only the posts the login stands for, inside its grid.
    mine = [p for p in mine if LOGIN_ROLE[p.role] == principal.role and scope.covers(p.grid_code)]
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
    check_password(data.password, username=data.username, policy=policy)
    if session.scalar(select(User.id).where(User.username == data.username)) is not None:
        raise Conflict(f"用户名 {data.username} 已存在", field="username")
    role = LOGIN_ROLE[next(iter(roles))]
    grid = next(iter(grids))
    user = User(
        username=data.username,
        full_name=staff.name,
        password_hash=hash_password(data.password),
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
    )
