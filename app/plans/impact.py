"""The impact preview: who and what changes grid if a plan is approved — buildings, households,
staff assignments, must-visit duties and open cases — listed and counted, before anyone approves."""

from __future__ import annotations

import datetime as dt

from geoalchemy2.shape import to_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, or_, select, text
from sqlalchemy.orm import Session

from app.auth.scope import AreaScope
from app.buildings.models import Household
from app.plans.approval import grid_of_point, incident_point, open_incidents, plan_swap
from app.plans.load import get_plan, plan_grids
from app.plans.models import Plan
from app.plans.schemas import ImpactPublic, ImpactSection, MoveItem
from app.plans.validate import label
from app.staff.models import StaffAssignment

# Every building a plan assigns (plan grid by plan grid, in building id order), with the live grid
# that holds it today: the one whose shape covers its point, the smallest code on a shared edge
# (as routing decides). One statement for the whole plan, however many buildings it moves.
_ASSIGNED_BUILDINGS = text(
    """
    SELECT pg.id AS plan_grid_id, b.id, b.code, b.name,
           (SELECT g.code FROM grids g
             WHERE g.community_code = :community AND g.status = 'active'
               AND ST_Intersects(g.geom, b.location)
             ORDER BY g.code LIMIT 1) AS before
      FROM plan_grids pg
     CROSS JOIN LATERAL unnest(pg.building_ids) WITH ORDINALITY AS a(building_id, n)
      JOIN buildings b ON b.id = a.building_id
     WHERE pg.plan_id = :plan
     ORDER BY pg.id, a.n
    """
)


def impact(session: Session, *, plan_id: int, scope: AreaScope) -> ImpactPublic:
    """Who and what changes grid if this plan is approved, listed and counted."""
    plan = get_plan(session, plan_id, scope=scope)
    grids = plan_grids(session, plan)
    swap = plan_swap(session, plan, grids)
    # Live grids by code (what they are compared with), new ones by the name the plan gave them.
    new_label = {pg.id: pg.code or label(pg) for pg in grids}
    plan_geoms = [(new_label[pg.id], to_shape(pg.geom)) for pg in grids]
    building_items: list[MoveItem] = []
    moved_ids: dict[int, tuple[str | None, str | None]] = {}
    for row in session.execute(
        _ASSIGNED_BUILDINGS, {"plan": plan.id, "community": plan.community_code}
    ):
        after = new_label[row.plan_grid_id]
        if row.before != after:
            moved_ids[row.id] = (row.before, after)
            building_items.append(
                MoveItem(
                    id=row.id,
                    label=f"{row.name}（{row.code}）",
                    from_grid=row.before,
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
            action="网格撤销，任命于生效日前一天结束，需重新任命"
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
        incidents=_incidents_impact(session, plan, plan_geoms),
    )


def _visits_impact(
    session: Session, moved: dict[int, tuple[str | None, str | None]]
) -> ImpactSection:
    """Visits are not scheduled rows: the due list is computed per household and grid (visits
    domain). So the duty that changes grid is that of must-visit households in moved buildings;
    past visits keep the grid they were recorded in (history)."""
    if not moved:
        return ImpactSection(available=True, count=0, items=[])
    items = [
        MoveItem(
            id=h.id,
            label=f"必访户 楼栋{h.building_id} {h.unit}单元{h.room}（{'、'.join(h.special_groups)}）",
            from_grid=moved[h.building_id][0],
            to_grid=moved[h.building_id][1],
            action="走访任务转由新网格人员负责；已有走访记录保留原网格",
        )
        for h in session.scalars(
            select(Household)
            .where(
                Household.building_id.in_(list(moved)),
                func.cardinality(Household.special_groups) > 0,
            )
            .order_by(Household.id)
        )
    ]
    return ImpactSection(available=True, count=len(items), items=items)


def _incidents_impact(
    session: Session, plan: Plan, plan_geoms: list[tuple[str, BaseGeometry]]
) -> ImpactSection:
    items = []
    for inc in open_incidents(session, plan.community_code):
        after = grid_of_point(plan_geoms, *incident_point(inc))
        if after != inc.grid_code:
            items.append(
                MoveItem(
                    id=inc.id,
                    label=f"事件 {inc.case_no}",
                    from_grid=inc.grid_code,
                    to_grid=after,
                    action="改派至新网格的网格长（记入事件历史）",
                )
            )
    return ImpactSection(available=True, count=len(items), items=items)
