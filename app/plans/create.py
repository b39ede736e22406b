"""New drafts: from the community's current grids, from the automatic partition (whole, or only
where grids are out of the band), or from rows read from a file (app/plans/exchange.py).
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.scope import AreaScope
from app.base import SRID
from app.errors import InvalidInput
from app.grids.models import Grid
from app.plans.load import (
    assign_buildings,
    community_barriers,
    community_buildings,
    community_geom,
    current_dedicated,
)
from app.plans.models import Plan, PlanGrid
from app.plans.names import new_grid_names
from app.plans.rules import PlanRules
from gis import editing
from gis.partition import partition_community, repartition
from gis.projection import same_shape


def new_plan(
    session: Session, *, community_code: str, name: str | None, source: str, user: str
) -> Plan:
    plan = Plan(
        community_code=community_code,
        name=name or f"{community_code} 网格调整方案",
        source=source,
        status="draft",
        version=1,
        created_by=user,
    )
    session.add(plan)
    session.flush()
    return plan


def add_grids(
    session: Session,
    plan: Plan,
    rows: list[dict[str, Any]],
    buildings: gpd.GeoDataFrame,
) -> list[PlanGrid]:
    """Insert plan grids (dicts with code, name, type, geom) and assign buildings to them; a row
    without a name gets a fresh one (app/plans/names.py)."""
    fresh = iter(new_grid_names([r["name"] for r in rows if r.get("name")], len(rows)))
    grids = [
        PlanGrid(
            plan_id=plan.id,
            code=r.get("code"),
            name=r.get("name") or next(fresh),
            type=r.get("type") or "comprehensive",
            geom=from_shape(editing.as_multi(r["geom"]), srid=SRID),
        )
        for r in rows
    ]
    session.add_all(grids)
    session.flush()
    assign_buildings(grids, buildings)
    session.flush()
    return grids


def create_plan(
    session: Session,
    *,
    community_code: str,
    scope: AreaScope,
    rules: PlanRules,
    source: str = "current",
    name: str | None = None,
) -> tuple[Plan, list[str]]:
    """A draft from the community's current grids, or from the automatic partition (target and
    band from ``rules``)."""
    target, band = rules.target, rules.band
    scope.narrow(community_code)  # the caller named it: 403 outside their jurisdiction
    community = community_geom(session, community_code)
    buildings = community_buildings(session, community_code, community)
    notes: list[str] = []
    current_rows = [
        {"code": g.code, "name": g.name, "type": g.type, "geom": to_shape(g.geom)}
        for g in session.scalars(
            select(Grid)
            .where(Grid.community_code == community_code, Grid.status == "active")
            .order_by(Grid.code)
        )
    ]
    if source == "current":
        rows = current_rows
        notes.append(f"由现行 {len(rows)} 个网格生成")
    elif source == "repartition":
        rows, notes = repartition_rows(
            community,
            buildings,
            current_rows,
            target=target,
            band=band,
            barriers=community_barriers(session, community),
        )
    elif source == "partition":
        rows, notes = partition_rows(
            community,
            buildings,
            target=target,
            band=band,
            barriers=community_barriers(session, community),
            dedicated=current_dedicated(session, community_code),
        )
    else:
        raise InvalidInput(f"未知的方案来源 {source}")
    plan = new_plan(
        session,
        community_code=community_code,
        name=name,
        source=source,
        user=scope.principal.username,
    )
    add_grids(session, plan, rows, buildings)
    return plan, notes


def repartition_rows(
    community: BaseGeometry,
    buildings: gpd.GeoDataFrame,
    current: list[dict[str, Any]],
    *,
    target: int,
    band: tuple[int, int],
    barriers: gpd.GeoSeries | None = None,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Incremental mode: redivide only the grids out of the band and their neighbours; every other
    grid comes back unchanged, with its code and name (gis.partition.repartition)."""
    if not current:
        raise InvalidInput("该社区没有在用网格，无法局部调整；请用自动划分（source=partition）")
    grids = gpd.GeoDataFrame(
        {"id": range(len(current)), "kind": [r["type"] for r in current]},
        geometry=[r["geom"] for r in current],
        crs=SRID,
    )
    try:
        result = repartition(
            grids, _partition_input(buildings), community=community, barriers=barriers,
            target=target, band=band,
        )  # fmt: skip
    except ValueError as exc:
        raise InvalidInput(f"局部调整参数有误：{exc}") from exc
    rows: list[dict[str, Any]] = []
    for r in result.grids.itertuples(index=False):
        source_id = getattr(r, "source_id", None)
        if source_id is not None and source_id == source_id:  # kept (not None, not NaN)
            rows.append({**current[int(source_id)], "geom": r.geometry})
        else:
            rows.append(
                {
                    "code": None,
                    "name": f"新网格{int(r.index) + 1}",
                    "type": r.kind,
                    "geom": r.geometry,
                }
            )
    kept = sum(1 for row in rows if row["code"] is not None)
    notes = [f"局部调整：保留 {kept} 个网格，重新划分为 {len(rows) - kept} 个新网格"]
    notes += [i.message_zh for i in result.issues]
    return rows, notes


def _partition_input(buildings: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Buildings as gis.partition takes them: footprint where known, else the point."""
    return gpd.GeoDataFrame(
        {"id": buildings["id"], "households": buildings["households"]},
        geometry=[
            fp if fp is not None else loc
            for fp, loc in zip(buildings["footprint"], buildings.geometry, strict=True)
        ],
        crs=SRID,
    )


def _keep_dedicated_identity(
    rows: list[dict[str, Any]], dedicated: gpd.GeoDataFrame | None
) -> None:
    """A dedicated grid carved out unchanged keeps its code and name (codes are stable over time)."""
    if dedicated is None or "code" not in dedicated:
        return
    for row in rows:
        if row["type"] != "dedicated":
            continue
        for code, name, geom in zip(
            dedicated["code"], dedicated["name"], dedicated.geometry, strict=True
        ):
            if same_shape(row["geom"], geom):
                row["code"], row["name"] = code, name
                break


def partition_rows(
    community: BaseGeometry,
    buildings: gpd.GeoDataFrame,
    *,
    target: int,
    band: tuple[int, int],
    barriers: gpd.GeoSeries | None = None,
    dedicated: gpd.GeoDataFrame | None = None,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Run the pure partition (gis.partition) and turn its grids into plan rows."""
    frame = _partition_input(buildings)
    try:
        result = partition_community(
            community, frame, barriers=barriers, dedicated=dedicated, target=target, band=band
        )
    except ValueError as exc:  # the algorithm's input checks (band without target, bad CRS)
        raise InvalidInput(f"自动划分参数有误：{exc}") from exc
    rows = [
        {"code": None, "name": f"新网格{int(r.index) + 1}", "type": r.kind, "geom": r.geometry}
        for r in result.grids.itertuples(index=False)
    ]
    _keep_dedicated_identity(rows, dedicated)
    notes = [f"自动划分为 {len(rows)} 个网格"] + [i.message_zh for i in result.issues]
    if not result.feasible:
        notes.append("部分网格无法满足户数区间，见上述说明")
    return rows, notes
