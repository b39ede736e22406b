"""A plan as the API and the command line show it: its grids with households and band status, the
lock, and the validation report.
"""

from __future__ import annotations

import shapely
from geoalchemy2.shape import to_shape
from sqlalchemy.orm import Session

from app.plans.load import plan_grids
from app.plans.lock import lock_public
from app.plans.models import Plan
from app.plans.schemas import PlanGridPublic, PlanPublic
from app.plans.validate import validate


def plan_public(
    session: Session,
    plan: Plan,
    *,
    band: tuple[int, int],
    notes: list[str] | None = None,
) -> PlanPublic:
    grids = plan_grids(session, plan)
    low, high = band
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
        reason=plan.reason,
        notes=notes or [],
        grids=[
            PlanGridPublic(
                id=g.id,
                code=g.code,
                name=g.name,
                type=g.type,
                households=g.households,
                buildings=len(g.building_ids),
                in_band=(low <= g.households <= high) if g.type == "comprehensive" else None,
                contiguous=shapely.get_num_geometries(to_shape(g.geom)) == 1,
                geometry=shapely.geometry.mapping(to_shape(g.geom)),
            )
            for g in grids
        ],
        validation=validate(session, plan, grids, band=band),
    )
