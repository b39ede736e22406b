"""Household records for the people who work with residents, masked by role, every sensitive read
logged (docs/domain.md#households-and-privacy). Who sees what unmasked is the policy's (UNMASKED:
a grid worker only in the grids they serve); a household outside the caller's area is missing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.audittrail import record_event
from app.auth.policy import Field, Principal, mask_name, mask_phone
from app.auth.scope import AreaScope
from app.errors import NotFound
from app.grids.service import grid_of_point_sql, holds_point_sql
from app.households.schemas import (
    AccessLogEntry,
    AccessLogPublic,
    HouseholdPublic,
    HouseholdsPublic,
)

# A household's grid is the one routing sends its point to (app.grids.service: the edge rule).
_SELECT = f"""
    SELECT h.id, b.code AS building_code, b.address, h.unit, h.room, h.size, h.head_name, h.phone,
           h.special_groups, {grid_of_point_sql("h.location")} AS grid_code
      FROM households h
      JOIN buildings b ON b.id = h.building_id
"""

MISSING = "住户不存在"


def _shape(row: Any, scope: AreaScope) -> tuple[HouseholdPublic, bool]:
    """The caller's view of one household, and whether it exposed a sensitive record."""
    details = scope.sees(Field.RESIDENT_CONTACT, row.grid_code)
    groups = scope.sees(Field.SPECIAL_GROUPS, row.grid_code)
    public = HouseholdPublic(
        id=row.id,
        building_code=row.building_code,
        address=row.address,
        unit=row.unit,
        room=row.room,
        size=row.size,
        head_name=row.head_name if details else mask_name(row.head_name),
        phone=row.phone if details else mask_phone(row.phone),
        special_groups=list(row.special_groups) if groups else None,
        grid_code=row.grid_code,
        masked=not details,
    )
    sensitive = bool(row.special_groups) and (details or groups)
    return public, sensitive


def _log(session: Session, principal: Principal, household_ids: list[int], purpose: str) -> None:
    if household_ids:
        session.execute(
            text(
                "INSERT INTO access_log (username, role, household_id, purpose) "
                "SELECT :u, :r, unnest(CAST(:ids AS int[])), :p"
            ),
            {"u": principal.username, "r": principal.role, "ids": household_ids, "p": purpose},
        )


def _record_read(
    session: Session,
    principal: Principal,
    address: str | None,
    obj: str,
    shaped: list[tuple[HouseholdPublic, bool]],
    purpose: str,
) -> None:
    """Every read of household records goes to the security audit trail (which records, masked or
    not); the special-group ones are also in ``access_log``, the per-household oversight index."""
    record_event(
        session,
        actor=principal.username,
        address=address,
        action="personal.read",
        object=obj,
        outcome="success",
        detail={
            "purpose": purpose,
            "household_ids": [p.id for p, _ in shaped],
            "unmasked": sum(1 for p, _ in shaped if not p.masked),
            "access_logged": sum(1 for _, sensitive in shaped if sensitive),
        },
    )


def list_households(
    session: Session,
    *,
    scope: AreaScope,
    grid_code: str,
    special_only: bool,
    purpose: str,
    address: str | None = None,
) -> HouseholdsPublic:
    """Households of a grid the caller named (403 if outside their area: they named it): those
    routing sends there, so a household on a shared edge is listed in one grid only."""
    scope = scope.narrow(grid_code)
    principal = scope.principal
    rows = session.execute(
        text(
            """
            SELECT h.id, b.code AS building_code, b.address, h.unit, h.room, h.size, h.head_name,
                   h.phone, h.special_groups, g.code AS grid_code
              FROM grids g
              JOIN households h ON {holds}
              JOIN buildings b ON b.id = h.building_id
             WHERE g.status = 'active' AND g.code = :grid
               AND (NOT :special OR cardinality(h.special_groups) > 0)
             ORDER BY b.code, h.unit, h.room
            """.format(holds=holds_point_sql("g", "h.location"))
        ),
        {"grid": grid_code, "special": special_only},
    ).all()
    shaped = [_shape(r, scope) for r in rows]
    _log(session, principal, [p.id for p, sensitive in shaped if sensitive], purpose)
    _record_read(session, principal, address, f"grid:{grid_code}", shaped, purpose)
    return HouseholdsPublic(data=[p for p, _ in shaped], count=len(shaped))


def get_household(
    session: Session,
    *,
    scope: AreaScope,
    household_id: int,
    purpose: str,
    address: str | None = None,
) -> HouseholdPublic:
    """One household; outside the caller's area it is answered exactly like a missing one."""
    principal = scope.principal
    row = session.execute(text(_SELECT + " WHERE h.id = :id"), {"id": household_id}).first()
    if row is None:
        raise NotFound(MISSING)
    scope.require(row.grid_code, missing=MISSING)
    public, sensitive = _shape(row, scope)
    if sensitive:
        _log(session, principal, [public.id], purpose)
    _record_read(
        session, principal, address, f"household:{public.id}", [(public, sensitive)], purpose
    )
    return public


def read_access_log(
    session: Session,
    *,
    scope: AreaScope,
    household_id: int | None,
    username: str | None,
    limit: int,
) -> AccessLogPublic:
    rows = session.execute(
        text(
            """
            SELECT a.at, a.username, a.role, a.household_id, a.purpose
              FROM access_log a
              JOIN households h ON h.id = a.household_id
              JOIN buildings b ON b.id = h.building_id
             WHERE (CAST(:hid AS int) IS NULL OR a.household_id = :hid)
               AND (CAST(:user AS text) IS NULL OR a.username = :user)
               AND {scope}
             ORDER BY a.at DESC, a.id DESC
             LIMIT :limit
            """.format(scope=scope.sql("b.community_code"))
        ),
        {"hid": household_id, "user": username, "limit": limit, **scope.params()},
    ).all()
    data = [
        AccessLogEntry(
            at=r.at.isoformat(),
            username=r.username,
            role=r.role,
            household_id=r.household_id,
            purpose=r.purpose,
        )
        for r in rows
    ]
    return AccessLogPublic(data=data, count=len(data))
