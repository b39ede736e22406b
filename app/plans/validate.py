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
from app.errors import InvalidInput
from app.grids.service import band_of
from app.plans.load import community_geom, get_plan, now, plan_grids
from app.plans.lock import check_version
from app.plans.models import Plan, PlanGrid
from app.plans.schemas import FindingPublic, ValidationPublic
from app.plans.workflow import require_state
from gis.coverage import CoverageTolerances, audit_coverage


def label(grid: PlanGrid) -> str:
    """A plan grid as messages, the table and the map name it: its one name (app/plans/names.py)."""
    return grid.name


def needs_reason(grid: PlanGrid, band: tuple[int, int]) -> str | None:
    """Why a comprehensive grid may only be submitted with the planner's reason, in words naming
    it, or None: no households, no buildings, or fewer households than the band (``band_of``, the
    one band rule of the grids layer and the coverage map). Above the band is a warning only."""
    n = grid.households
    if band_of(grid.type, n, band) != "below":
        return None
    low, high = band
    if not grid.building_ids:
        return f"网格「{grid.name}」内没有楼栋"
    if n == 0:
        return f"网格「{grid.name}」内没有住户"
    return f"网格「{grid.name}」只有 {n} 户，少于标准的 {low}–{high} 户"


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
        if row.kind == "household_band":  # said below, per grid, with the planner's reasons
            continue
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
    errors += _named_twice(grids)
    for g in grids:
        why = needs_reason(g, band)
        if why is None and band_of(g.type, g.households, band) == "above":
            warnings.append(
                FindingPublic(
                    kind="above_band",
                    severity="warning",
                    message=f"网格「{g.name}」有 {g.households} 户，多于标准的 {band[0]}–{band[1]} 户",
                    objects=[label(g)],
                    grid_id=g.id,
                    geometry=shapely.geometry.mapping(to_shape(g.geom)),
                )
            )
        elif why is not None:
            given = (g.exception_reason or "").strip()
            warn = bool(given)
            message = (
                f"{why}；规划员说明：{given}" if warn else f"{why}：请调整边界，或提交时说明理由"
            )
            (warnings if warn else errors).append(
                FindingPublic(
                    kind="needs_reason",
                    severity="warning" if warn else "error",
                    message=message,
                    objects=[label(g)],
                    grid_id=g.id,
                    reason=given or None,
                    geometry=shapely.geometry.mapping(to_shape(g.geom)),
                )
            )
    return ValidationPublic(ok=not errors, band=band, errors=errors, warnings=warnings)


def _named_twice(grids: list[PlanGrid]) -> list[FindingPublic]:
    seen: dict[str, int] = {}
    for g in grids:
        seen[g.name] = seen.get(g.name, 0) + 1
    return [
        FindingPublic(
            kind="duplicate_name",
            severity="error",
            message=f"有 {n} 个网格都叫「{name}」，请改名，一个名称只对应一个网格",
            objects=[name],
        )
        for name, n in seen.items()
        if n > 1
    ]


def submit(
    session: Session,
    *,
    plan_id: int,
    version: int,
    scope: AreaScope,
    band: tuple[int, int],
    reasons: dict[int, str] | None = None,
) -> ValidationPublic:
    """Hand a draft (or a returned plan) in for approval, with the planner's ``reasons`` for grids
    that need one (grid id -> reason; an empty reason withdraws one): refused (422, each problem
    named and located) while anything is wrong, and then nothing is stored."""
    plan = get_plan(session, plan_id, scope=scope, for_update=True)
    require_state(plan, "submit")
    check_version(plan, version)
    grids = plan_grids(session, plan)
    by_id = {g.id: g for g in grids}
    for gid, text in (reasons or {}).items():
        if gid not in by_id:
            raise InvalidInput(f"方案中没有网格 {gid}，不能为它说明理由")
        by_id[gid].exception_reason = text.strip() or None
    session.flush()
    report = validate(session, plan, grids, band=band)
    if not report.ok:
        raise InvalidInput(
            f"方案有 {len(report.errors)} 处问题，不能提交："
            + "；".join(e.message for e in report.errors[:3])
            + ("……" if len(report.errors) > 3 else ""),
            errors=[e.model_dump() for e in report.errors],
            warnings=[w.model_dump() for w in report.warnings],
        )
    plan.status, plan.submitted_at = "submitted", now()
    plan.locked_by, plan.locked_until = None, None
    plan.version += 1
    return report
