"""Approval of a submitted plan and point-in-time grid queries (the impact preview: impact.py).

Approval is one transaction: changed and dropped grids are retired (status retired, valid_to =
effective date) and flushed *before* the new versions are inserted active (valid_from = effective
date), so the database's no-overlap trigger judges the final state, never a half-moved one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import shapely
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.auth.policy import Principal
from app.auth.scope import AreaScope
from app.base import SRID
from app.errors import Conflict, InvalidInput
from app.grids.models import Grid
from app.incidents.calendar import TZ
from app.incidents.models import Incident
from app.incidents.service import record as record_incident
from app.plans.load import get_plan, now, plan_grids
from app.plans.models import Plan, PlanGrid
from app.plans.schemas import ApprovalPublic, GridAtPublic
from app.plans.validate import validate
from app.plans.workflow import require_state
from app.staff.models import Staff, StaffAssignment
from gis import codes
from gis.projection import same_shape


@dataclass
class Swap:
    """What approval will do: grids kept as they are, new versions of kept codes, new grids, and
    live grids the plan drops."""

    kept: list[PlanGrid] = field(default_factory=list)
    changed: list[tuple[PlanGrid, Grid]] = field(default_factory=list)
    new: list[PlanGrid] = field(default_factory=list)
    retired: list[Grid] = field(default_factory=list)


def plan_swap(session: Session, plan: Plan, grids: list[PlanGrid]) -> Swap:
    active = {
        g.code: g
        for g in session.scalars(
            select(Grid).where(Grid.community_code == plan.community_code, Grid.status == "active")
        )
    }
    swap = Swap()
    used: set[str] = set()
    for pg in grids:
        live = active.get(pg.code or "")
        if live is None or pg.code in used:  # unknown, historic or duplicated code: a new grid
            swap.new.append(pg)
            continue
        used.add(live.code)
        if (live.name, live.type) == (pg.name, pg.type) and same_shape(
            to_shape(live.geom), to_shape(pg.geom)
        ):
            swap.kept.append(pg)
        else:
            swap.changed.append((pg, live))
    swap.retired = [g for code, g in active.items() if code not in used]
    return swap


# --------------------------------------------------------------------------- impact


def grid_of_point(geoms: list[tuple[str, BaseGeometry]], x: float, y: float) -> str | None:
    p = shapely.Point(x, y)
    return next((code for code, g in geoms if g.intersects(p)), None)


_NOT_OPEN = ("closed", "evaluated", "rejected", "voided")


def open_incidents(session: Session, community_code: str) -> list[Incident]:
    """Open cases of the community (anything not closed, evaluated, rejected or voided)."""
    return list(
        session.scalars(
            select(Incident)
            .where(Incident.community_code == community_code, Incident.state.not_in(_NOT_OPEN))
            .order_by(Incident.id)
        )
    )


def incident_point(incident: Incident) -> tuple[float, float]:
    p = to_shape(incident.location)
    return float(p.x), float(p.y)


# --------------------------------------------------------------------------- approval
def effective_moment(day: dt.date) -> dt.datetime:
    """The first instant of ``day`` in the county's time zone (Asia/Shanghai): when a plan
    approved for that day takes over."""
    return dt.datetime.combine(day, dt.time(0), TZ)


def approve(
    session: Session,
    *,
    plan_id: int,
    scope: AreaScope,
    effective_date: dt.date,
    reason: str,
    band: tuple[int, int],
    at: dt.datetime | None = None,
) -> ApprovalPublic:
    """Approve a submitted plan. Effective now or earlier (``at``, default the clock): the live
    grids are swapped in this transaction. Effective later: the plan is ``scheduled`` and
    app/plans/schedule.py swaps it at that moment, once."""
    moment = at or now()
    plan = get_plan(session, plan_id, scope=scope, for_update=True)
    require_state(plan, "approve")
    grids = plan_grids(session, plan)
    report = validate(session, plan, grids, band=band)
    if not report.ok:
        raise InvalidInput(
            "方案存在问题，不能批准：" + "；".join(e.message for e in report.errors[:3]),
            errors=[e.model_dump() for e in report.errors],
        )
    pending = session.scalar(
        select(Plan).where(
            Plan.community_code == plan.community_code,
            Plan.status == "scheduled",
            Plan.id != plan.id,
        )
    )
    if pending is not None:
        raise Conflict(
            f"社区 {plan.community_code} 已有批准待生效的方案「{pending.name}」"
            f"（{pending.effective_date} 生效），生效后才能批准新的方案"
        )
    starts = effective_moment(effective_date)
    plan.approved_by, plan.approved_at = scope.principal.username, moment
    plan.effective_date, plan.effective_at, plan.reason = effective_date, starts, reason
    plan.locked_by, plan.locked_until = None, None
    if starts > moment:
        # Refuse now what the swap would refuse then: a date before a live version's start.
        check_dates(plan_swap(session, plan, grids), effective_date)
        plan.status = "scheduled"
        plan.version += 1
        return ApprovalPublic(
            plan_id=plan.id, status=plan.status, effective_date=effective_date,
            effective_at=starts, kept=[], new_versions=[], new_codes=[], retired=[],
            incidents_rerouted=None,
        )  # fmt: skip
    return swap_in(session, plan, scope.principal, at=moment)


def check_dates(swap: Swap, effective_date: dt.date) -> None:
    for live in [live for _, live in swap.changed] + swap.retired:
        if live.valid_from is not None and effective_date < live.valid_from:
            raise InvalidInput(
                f"生效日期 {effective_date} 早于网格 {live.code} 现行版本的生效日期 {live.valid_from}"
            )


def swap_in(session: Session, plan: Plan, actor: Principal, *, at: dt.datetime) -> ApprovalPublic:
    """Put an approved plan's grids live, in the caller's transaction: changed and dropped grids
    retired, new versions and new grids inserted (valid from the plan's effective date), open
    cases rerouted, staff of retired grids ended. The plan becomes ``approved``, ``applied_at``."""
    assert plan.effective_date is not None and plan.reason is not None
    effective_date, reason = plan.effective_date, plan.reason
    grids = plan_grids(session, plan)
    swap = plan_swap(session, plan, grids)
    check_dates(swap, effective_date)
    for live in [live for _, live in swap.changed] + swap.retired:
        live.status, live.valid_to = "retired", effective_date
    session.flush()  # retire first: the overlap trigger must see only the final active set
    ended = end_assignments_of_retired_grids(
        session, [g.code for g in swap.retired], effective_date
    )

    used = {
        int(c[12:])
        for c in session.scalars(
            select(Grid.code).where(Grid.community_code == plan.community_code)
        )
    }
    try:
        new_codes = codes.allocate(
            plan.community_code, [to_shape(pg.geom) for pg in swap.new], used
        )
    except codes.SerialsExhausted as exc:
        raise Conflict(str(exc)) from exc
    inserted: list[tuple[PlanGrid, str, int]] = [
        (pg, live.code, live.version + 1) for pg, live in swap.changed
    ]
    inserted += [(pg, code, 1) for pg, code in zip(swap.new, new_codes, strict=True)]
    for pg, code, version in inserted:
        pg.code = code
        session.add(
            Grid(
                code=code,
                name=pg.name,  # the one name the plan gave it (app/plans/names.py)
                type=pg.type,
                community_code=plan.community_code,
                geom=from_shape(to_shape(pg.geom), srid=SRID),
                status="active",
                version=version,
                valid_from=effective_date,
                reason=reason,
            )
        )
    session.flush()
    rerouted = reroute_incidents(
        session,
        [(pg.code or "", to_shape(pg.geom)) for pg in grids],
        plan,
        actor,
        effective_date,
    )
    plan.status, plan.applied_at = "approved", at
    plan.version += 1
    return ApprovalPublic(
        plan_id=plan.id,
        status=plan.status,
        effective_date=effective_date,
        effective_at=plan.effective_at or effective_moment(effective_date),
        kept=[pg.code for pg in swap.kept if pg.code],
        new_versions=[live.code for _, live in swap.changed],
        new_codes=new_codes,
        retired=[g.code for g in swap.retired],
        incidents_rerouted=rerouted,
        assignments_ended=ended,
    )


def return_plan(session: Session, *, plan_id: int, scope: AreaScope, reason: str) -> Plan:
    """退回: the approver sends a submitted plan back to its planner with a reason; the planner
    edits it and submits it again."""
    plan = get_plan(session, plan_id, scope=scope, for_update=True)
    require_state(plan, "return")
    plan.status = "rejected"
    plan.returned_by, plan.returned_at, plan.return_reason = scope.principal.username, now(), reason
    plan.version += 1
    return plan


def end_assignments_of_retired_grids(
    session: Session, codes: list[str], effective_date: dt.date
) -> list[int]:
    """A grid that no longer exists has no leader or workers: their assignments end the day before
    the new boundaries take effect (the history stays; the new grids' staffing is an audit finding
    until someone is appointed). Assignments that would only start later are left for a person."""
    if not codes:
        return []
    last_day = effective_date - dt.timedelta(days=1)
    rows = session.scalars(
        select(StaffAssignment).where(
            StaffAssignment.grid_code.in_(codes),
            StaffAssignment.start_date <= last_day,
            or_(StaffAssignment.end_date.is_(None), StaffAssignment.end_date > last_day),
        )
    ).all()
    for a in rows:
        a.end_date = last_day
    session.flush()
    return sorted(a.id for a in rows)


def reroute_incidents(
    session: Session,
    new_geoms: list[tuple[str, BaseGeometry]],
    plan: Plan,
    principal: Principal,
    effective_date: dt.date,
) -> int:
    """Point open incidents at the grid now covering them and at its leader, with a history entry
    and an outbox notification (the incidents domain's own ``record``), in this transaction."""
    n = 0
    for inc in open_incidents(session, plan.community_code):
        after = grid_of_point(new_geoms, *incident_point(inc))
        if after is None or after == inc.grid_code:
            continue
        before = inc.grid_code
        inc.grid_code = after
        inc.leader_name = session.scalar(
            select(Staff.name)
            .join(StaffAssignment, StaffAssignment.staff_id == Staff.id)
            .where(
                StaffAssignment.grid_code == after,
                StaffAssignment.role == "leader",
                StaffAssignment.start_date <= effective_date,
                or_(StaffAssignment.end_date.is_(None), StaffAssignment.end_date >= effective_date),
            )
            .limit(1)
        )
        record_incident(
            session,
            inc,
            action="reroute",
            from_state=inc.state,
            actor=principal,
            note=f"网格调整方案 {plan.id} 生效：由网格 {before} 改派至 {after}",
            data={"plan_id": plan.id, "from_grid": before, "to_grid": after},
        )
        n += 1
    return n


# --------------------------------------------------------------------------- history
def grid_at(session: Session, *, lng: float, lat: float, day: dt.date) -> Grid | None:
    """The grid (any version, retired included) covering the point on ``day``."""
    point = func.ST_SetSRID(func.ST_MakePoint(lng, lat), SRID)
    return session.scalar(
        select(Grid)
        .where(
            Grid.status.in_(("active", "retired")),
            Grid.valid_from <= day,
            or_(Grid.valid_to.is_(None), Grid.valid_to > day),
            func.ST_Covers(Grid.geom, point),
        )
        .order_by(Grid.type.desc(), Grid.code)  # dedicated before comprehensive if both
        .limit(1)
    )


def grid_at_public(grid: Grid) -> GridAtPublic:
    return GridAtPublic(
        code=grid.code,
        name=grid.name,
        type=grid.type,
        version=grid.version,
        status=grid.status,
        valid_from=grid.valid_from,
        valid_to=grid.valid_to,
        community_code=grid.community_code,
    )
