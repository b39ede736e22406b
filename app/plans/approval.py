"""Approval of a submitted plan, its impact preview, and point-in-time grid queries.

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
from sqlalchemy import func, or_, select, text
from sqlalchemy.orm import Session

from app.auth.policy import Principal
from app.base import SRID
from app.buildings.models import Building, Household
from app.errors import Conflict, Forbidden, InvalidInput
from app.grids.models import Grid
from app.plans import codes
from app.plans.models import Plan, PlanGrid
from app.plans.schemas import (
    ApprovalPublic,
    GridAtPublic,
    ImpactPublic,
    ImpactSection,
    MoveItem,
)
from app.plans.service import get_plan, now, plan_grids, validate
from app.staff.models import StaffAssignment

SAME_SHAPE_DEG = 1e-7  # ~1 cm: below digitising noise, the grid did not change


def table_exists(session: Session, name: str) -> bool:
    return bool(
        session.scalar(
            text(
                "SELECT EXISTS (SELECT 1 FROM information_schema.tables "
                "WHERE table_schema = current_schema() AND table_name = :n)"
            ),
            {"n": name},
        )
    )


def _same(a: BaseGeometry, b: BaseGeometry) -> bool:
    return bool(a.symmetric_difference(b).area < SAME_SHAPE_DEG**2 * 1e4) or a.equals_exact(
        b, SAME_SHAPE_DEG
    )


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
        if (live.name, live.type) == (pg.name, pg.type) and _same(
            to_shape(live.geom), to_shape(pg.geom)
        ):
            swap.kept.append(pg)
        else:
            swap.changed.append((pg, live))
    swap.retired = [g for code, g in active.items() if code not in used]
    return swap


# --------------------------------------------------------------------------- impact
def _grid_of_point(geoms: list[tuple[str, BaseGeometry]], x: float, y: float) -> str | None:
    p = shapely.Point(x, y)
    return next((code for code, g in geoms if g.intersects(p)), None)


def impact(session: Session, *, plan_id: int, principal: Principal) -> ImpactPublic:
    """Who and what changes grid if this plan is approved, listed and counted."""
    plan = get_plan(session, plan_id)
    if not principal.covers(plan.community_code):
        raise Forbidden(f"社区 {plan.community_code} 不在您的管辖范围内")
    grids = plan_grids(session, plan)
    swap = plan_swap(session, plan, grids)
    new_label = {pg.id: pg.code or f"新网格#{pg.id}" for pg in grids}
    plan_geoms = [(new_label[pg.id], to_shape(pg.geom)) for pg in grids]
    old_geoms = [
        (g.code, to_shape(g.geom))
        for g in session.scalars(
            select(Grid).where(Grid.community_code == plan.community_code, Grid.status == "active")
        )
    ]
    building_items: list[MoveItem] = []
    moved_ids: dict[int, tuple[str | None, str | None]] = {}
    for pg in grids:
        for bid in pg.building_ids:
            row = session.execute(
                select(
                    Building.code,
                    Building.name,
                    func.ST_X(Building.location),
                    func.ST_Y(Building.location),
                ).where(Building.id == bid)
            ).one_or_none()
            if row is None:
                continue
            before = _grid_of_point(old_geoms, row[2], row[3])
            after = new_label[pg.id]
            if before != after:
                moved_ids[bid] = (before, after)
                building_items.append(
                    MoveItem(
                        id=bid,
                        label=f"{row[1]}（{row[0]}）",
                        from_grid=before,
                        to_grid=after,
                        action="划入新网格",
                    )
                )
    household_items = (
        [
            MoveItem(
                id=h.id,
                label=f"楼栋{h.building_id} {h.unit}单元{h.room}",
                from_grid=moved_ids[h.building_id][0],
                to_grid=moved_ids[h.building_id][1],
                action="随楼栋划转",
            )
            for h in session.scalars(
                select(Household)
                .where(Household.building_id.in_(list(moved_ids)))
                .order_by(Household.id)
            )
        ]
        if moved_ids
        else []
    )
    day = plan.effective_date or dt.date.today()
    retired_codes = {g.code for g in swap.retired}
    changed_codes = {live.code for _, live in swap.changed}
    staff_items = [
        MoveItem(
            id=a.id,
            label=f"人员{a.staff_id} {a.role}",
            from_grid=a.grid_code,
            to_grid=None if a.grid_code in retired_codes else a.grid_code,
            action="网格撤销，需重新任命"
            if a.grid_code in retired_codes
            else "网格边界变化，任命保留",
        )
        for a in session.scalars(
            select(StaffAssignment).where(
                StaffAssignment.grid_code.in_(retired_codes | changed_codes),
                or_(StaffAssignment.end_date.is_(None), StaffAssignment.end_date >= day),
            )
        )
    ]
    return ImpactPublic(
        plan_id=plan.id,
        grids_kept=[pg.code for pg in swap.kept if pg.code],
        grids_changed=sorted(changed_codes),
        grids_retired=sorted(retired_codes),
        grids_new=len(swap.new),
        buildings=ImpactSection(available=True, count=len(building_items), items=building_items),
        households=ImpactSection(available=True, count=len(household_items), items=household_items),
        staff_assignments=ImpactSection(available=True, count=len(staff_items), items=staff_items),
        visits=_visits_impact(session, moved_ids),
        incidents=_incidents_impact(session, plan_geoms, old_geoms),
    )


def _visits_impact(
    session: Session, moved: dict[int, tuple[str | None, str | None]]
) -> ImpactSection:
    # The visits domain is being built alongside; until its table exists there is nothing to move.
    if not table_exists(session, "visits"):
        return ImpactSection(available=False, count=0, items=[], note="走访模块尚未启用（不可用）")
    return ImpactSection(
        available=False, count=0, items=[], note="走访计划按住户记录，随楼栋划转，无需单独调整"
    )


def _open_incidents(session: Session) -> list[tuple[int, str | None, float, float]] | None:
    """Open incidents (id, grid code, lng, lat), or None when the incidents table is absent.

    Hook for the incidents domain (issue being built alongside): until app/incidents/models.py
    lands this reads the table by name only, guarded by information_schema."""
    if not table_exists(session, "incidents"):
        return None
    cols = set(
        session.scalars(
            text(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = 'incidents'"
            )
        )
    )
    if not {"id", "grid_code", "location", "status"} <= cols:
        return None
    rows = session.execute(
        text(
            "SELECT id, grid_code, ST_X(location), ST_Y(location) FROM incidents "
            "WHERE status NOT IN ('closed', 'evaluated', 'rejected', 'voided')"
        )
    ).all()
    return [(int(r[0]), r[1], float(r[2]), float(r[3])) for r in rows]


def _incidents_impact(
    session: Session,
    plan_geoms: list[tuple[str, BaseGeometry]],
    old_geoms: list[tuple[str, BaseGeometry]],
) -> ImpactSection:
    found = _open_incidents(session)
    if found is None:
        return ImpactSection(available=False, count=0, items=[], note="事件模块尚未启用（不可用）")
    items = []
    for iid, code, x, y in found:
        if _grid_of_point(old_geoms, x, y) is None and code not in {c for c, _ in old_geoms}:
            continue  # not in this community
        after = _grid_of_point(plan_geoms, x, y)
        if after != code:
            items.append(
                MoveItem(
                    id=iid,
                    label=f"事件{iid}",
                    from_grid=code,
                    to_grid=after,
                    action="改派至新网格的网格长",
                )
            )
    return ImpactSection(available=True, count=len(items), items=items)


# --------------------------------------------------------------------------- approval
def approve(
    session: Session,
    *,
    plan_id: int,
    principal: Principal,
    effective_date: dt.date,
    reason: str,
) -> ApprovalPublic:
    plan = get_plan(session, plan_id, for_update=True)
    if not principal.covers(plan.community_code):
        raise Forbidden(f"社区 {plan.community_code} 不在您的管辖范围内")
    if plan.status != "submitted":
        raise Conflict(f"方案状态为 {plan.status}，只有已提交的方案可以审批")
    grids = plan_grids(session, plan)
    report = validate(session, plan, grids)
    if not report.ok:
        raise InvalidInput(
            "方案存在拓扑错误，不能审批", errors=[e.model_dump() for e in report.errors]
        )
    swap = plan_swap(session, plan, grids)
    old_for_incidents = [
        (g.code, to_shape(g.geom)) for g in [live for _, live in swap.changed] + swap.retired
    ]
    for live in [live for _, live in swap.changed] + swap.retired:
        if live.valid_from is not None and effective_date < live.valid_from:
            raise InvalidInput(
                f"生效日期 {effective_date} 早于网格 {live.code} 现行版本的生效日期 {live.valid_from}"
            )
        live.status, live.valid_to = "retired", effective_date
    session.flush()  # retire first: the overlap trigger must see only the final active set

    used = {
        int(c[12:])
        for c in session.scalars(
            select(Grid.code).where(Grid.community_code == plan.community_code)
        )
    }
    new_codes = codes.allocate(plan.community_code, [to_shape(pg.geom) for pg in swap.new], used)
    inserted: list[tuple[PlanGrid, str, int]] = [
        (pg, live.code, live.version + 1) for pg, live in swap.changed
    ]
    inserted += [(pg, code, 1) for pg, code in zip(swap.new, new_codes, strict=True)]
    for pg, code, version in inserted:
        pg.code = code
        session.add(
            Grid(
                code=code,
                name=pg.name if not pg.name.startswith("新网格") else f"网格{code[-3:]}",
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
        session, [(pg.code or "", to_shape(pg.geom)) for pg in grids], old_for_incidents, plan
    )
    plan.status, plan.approved_by, plan.approved_at = "approved", principal.username, now()
    plan.effective_date, plan.reason = effective_date, reason
    plan.version += 1
    return ApprovalPublic(
        plan_id=plan.id,
        effective_date=effective_date,
        kept=[pg.code for pg in swap.kept if pg.code],
        new_versions=[live.code for _, live in swap.changed],
        new_codes=new_codes,
        retired=[g.code for g in swap.retired],
        incidents_rerouted=rerouted,
    )


def reroute_incidents(
    session: Session,
    new_geoms: list[tuple[str, BaseGeometry]],
    old_geoms: list[tuple[str, BaseGeometry]],
    plan: Plan,
) -> int | None:
    """Point open incidents of changed grids at the grid now covering them, with a history entry.

    Returns the number re-routed, or None when the incidents domain is not installed. The history
    row is written only if ``incident_events`` exists with the columns this hook knows."""
    found = _open_incidents(session)
    if found is None:
        return None
    touched = {code for code, _ in old_geoms}
    has_history = table_exists(session, "incident_events")
    n = 0
    for iid, code, x, y in found:
        if code not in touched:
            continue
        after = _grid_of_point(new_geoms, x, y)
        if after is None or after == code:
            continue
        session.execute(
            text("UPDATE incidents SET grid_code = :g WHERE id = :i"), {"g": after, "i": iid}
        )
        if has_history:
            session.execute(
                text(
                    "INSERT INTO incident_events (incident_id, action, note) "
                    "VALUES (:i, 'rerouted', :note)"
                ),
                {"i": iid, "note": f"网格调整方案{plan.id}生效，由网格 {code} 改派至 {after}"},
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
