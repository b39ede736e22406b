"""A plan as the API and the command line show it: its grids with households and band status, the
lock, the validation report, what undo and redo would do, and what the caller may do now.
"""

from __future__ import annotations

import shapely
from geoalchemy2.shape import to_shape
from sqlalchemy.orm import Session

from app.auth.policy import Principal
from app.grids.service import band_of
from app.plans.history import undo_redo
from app.plans.load import plan_grids
from app.plans.lock import lock_public
from app.plans.models import Plan
from app.plans.schemas import PlanGridPublic, PlanPublic
from app.plans.validate import validate
from app.plans.workflow import actions_for


def plan_public(
    session: Session,
    plan: Plan,
    *,
    band: tuple[int, int],
    principal: Principal,
    notes: list[str] | None = None,
) -> PlanPublic:
    grids = plan_grids(session, plan)
    undo, redo = undo_redo(session, plan)
    actions = actions_for(plan, principal)
    if undo is None:
        actions = [a for a in actions if a != "undo"]
    if redo is None:
        actions = [a for a in actions if a != "redo"]
    return PlanPublic(
        id=plan.id,
        community_code=plan.community_code,
        name=plan.name,
        source=plan.source,
        status=plan.status,
        version=plan.version,
        created_by=plan.created_by,
        lock=lock_public(plan),
        effective_date=plan.effective_date,
        effective_at=plan.effective_at,
        applied_at=plan.applied_at,
        reason=plan.reason,
        returned_by=plan.returned_by,
        returned_at=plan.returned_at,
        return_reason=plan.return_reason,
        actions=actions,
        undo=undo,
        redo=redo,
        notes=notes or [],
        grids=[
            PlanGridPublic(
                id=g.id,
                code=g.code,
                name=g.name,
                type=g.type,
                households=g.households,
                buildings=len(g.building_ids),
                in_band=None
                if (b := band_of(g.type, g.households, band)) == "exempt"
                else b == "within",
                band=b,
                exception_reason=g.exception_reason,
                contiguous=shapely.get_num_geometries(to_shape(g.geom)) == 1,
                geometry=shapely.geometry.mapping(to_shape(g.geom)),
            )
            for g in grids
        ],
        validation=validate(session, plan, grids, band=band),
    )
