"""The live balance: households and buildings per grid for an edit the planner is still drawing,
computed on the server from the same buildings, the same edit functions and the same assignment
rule as the saved edit (app/plans/edit.py), and nothing written. Bench: bench/bench_live_balance.py.
"""

from __future__ import annotations

from geoalchemy2.shape import to_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from app.auth.scope import AreaScope
from app.grids.service import band_of
from app.plans.edit import EditFn, run_edit
from app.plans.load import community_buildings, community_geom, get_plan, held_by, plan_grids
from app.plans.names import new_grid_names
from app.plans.schemas import BalancePublic, GridBalance
from app.plans.workflow import require_state


def preview(
    session: Session, *, plan_id: int, scope: AreaScope, edit: EditFn, band: tuple[int, int]
) -> BalancePublic:
    plan = get_plan(session, plan_id, scope=scope)
    require_state(plan, "edit")
    community = community_geom(session, plan.community_code)
    grids = plan_grids(session, plan)
    geoms = run_edit(edit, {g.id: to_shape(g.geom) for g in grids}, community, grids)
    # The order the saved edit assigns in: surviving grids by id, then the new ones as made.
    rows: list[tuple[int, str | None, str, str, BaseGeometry]] = [
        (g.id, g.code, g.name, g.type, geoms[g.id])
        for g in grids
        if g.id in geoms and not geoms[g.id].is_empty
    ]
    made = [(k, geom) for k, geom in geoms.items() if k < 0 and not geom.is_empty]
    names = new_grid_names([g.name for g in grids], len(made))
    rows += [
        (k, None, name, "comprehensive", geom) for name, (k, geom) in zip(names, made, strict=True)
    ]
    buildings = community_buildings(session, plan.community_code, community)
    held = held_by([(code, geom) for _, code, _, _, geom in rows], buildings)
    out = [
        GridBalance(
            id=gid, name=name, households=n, buildings=len(ids), band=band_of(kind, n, band)
        )
        for (gid, _, name, kind, _), (ids, n) in zip(rows, held, strict=True)
    ]
    total = int(buildings["households"].sum()) if len(buildings) else 0
    inside = sum(g.households for g in out)
    return BalancePublic(
        plan_id=plan.id,
        version=plan.version,
        band=band,
        grids=out,
        households=inside,
        outside=total - inside,
    )
