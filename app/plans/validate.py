"""Checking a plan: topology errors and household-band warnings, each located, and submission,
which a plan with errors does not pass.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from geoalchemy2.shape import to_shape
from sqlalchemy.orm import Session

from app.auth.scope import AreaScope
from app.base import SRID
from app.errors import Conflict, InvalidInput
from app.plans.load import community_geom, get_plan, now, plan_grids
from app.plans.lock import check_version
from app.plans.models import Plan, PlanGrid
from app.plans.schemas import FindingPublic, ValidationPublic
from gis.coverage import CoverageTolerances, audit_coverage


def label(grid: PlanGrid) -> str:
    """A plan grid as messages name it: its code, or 新网格#id until approval gives it one."""
    return grid.code or f"新网格#{grid.id}"


def validate(
    session: Session,
    plan: Plan,
    grids: list[PlanGrid],
    *,
    band: tuple[int, int],
) -> ValidationPublic:
    """Topology errors (gaps, overlaps, crossing the community, not contiguous) and band warnings,
    each with the geometry where it is (gis.coverage does the measuring), households per grid
    against ``band`` (the county's setting, or a request's own)."""
    community = community_geom(session, plan.community_code)
    errors: list[FindingPublic] = []
    warnings: list[FindingPublic] = []
    if not grids:
        errors.append(FindingPublic(kind="empty", severity="error", message="方案中没有网格"))
        return ValidationPublic(ok=False, band=band, errors=errors, warnings=warnings)
    communities = gpd.GeoDataFrame({"code": [plan.community_code]}, geometry=[community], crs=SRID)
    frame = gpd.GeoDataFrame(
        {
            "code": [label(g) for g in grids],
            "community_code": [plan.community_code] * len(grids),
            "households": [float(g.households) for g in grids],
            "type": [g.type for g in grids],
        },
        geometry=[to_shape(g.geom) for g in grids],
        crs=SRID,
    )
    found = audit_coverage(communities, frame, tolerances=CoverageTolerances(band=band))
    for row in found.itertuples(index=False):
        item = FindingPublic(
            kind=str(row.kind),
            severity="error" if row.severity == "error" else "warning",
            message=str(row.message),
            objects=[str(o) for o in row.objects],
            area_m2=None if row.area_m2 is None or np.isnan(row.area_m2) else float(row.area_m2),
            geometry=None if row.geometry is None else shapely.geometry.mapping(row.geometry),
        )
        (errors if item.severity == "error" else warnings).append(item)
    for g in grids:
        geom = to_shape(g.geom)
        if shapely.get_num_geometries(geom) > 1:
            errors.append(
                FindingPublic(
                    kind="not_contiguous",
                    severity="error",
                    message=f"网格 {label(g)} 由 {shapely.get_num_geometries(geom)} 块不相连的区域组成",
                    objects=[label(g)],
                    geometry=shapely.geometry.mapping(geom),
                )
            )
    return ValidationPublic(ok=not errors, band=band, errors=errors, warnings=warnings)


def submit(
    session: Session, *, plan_id: int, version: int, scope: AreaScope, band: tuple[int, int]
) -> ValidationPublic:
    """Hand a draft in for approval: refused (422, each error located) while it has errors."""
    plan = get_plan(session, plan_id, scope=scope, for_update=True)
    if plan.status != "draft":
        raise Conflict(f"方案状态为 {plan.status}，不能提交")
    check_version(plan, version)
    report = validate(session, plan, plan_grids(session, plan), band=band)
    if not report.ok:
        raise InvalidInput(
            f"方案存在 {len(report.errors)} 处拓扑错误，不能提交",
            errors=[e.model_dump() for e in report.errors],
            warnings=[w.model_dump() for w in report.warnings],
        )
    plan.status, plan.submitted_at = "submitted", now()
    plan.locked_by, plan.locked_until = None, None
    plan.version += 1
    return report
