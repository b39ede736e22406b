"""Plan operations: create, read with validation, lock, edit (optimistic concurrency), submit.

No HTTP in here; every function takes keyword arguments and the caller's session, and the route's
session commits once. Approval, impact and point-in-time queries live in ``approval.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import MultiPolygon, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.areas.models import Area
from app.auth.policy import Principal
from app.auth.scope import AreaScope
from app.base import SRID
from app.buildings.models import Building
from app.errors import Conflict, InvalidInput, NotFound
from app.grids.models import Grid
from app.plans.models import Plan, PlanGrid
from app.plans.schemas import (
    FindingPublic,
    LockPublic,
    PlanGridPublic,
    PlanPublic,
    ValidationPublic,
)
from app.settings import get_settings
from gis import editing
from gis.coverage import CoverageTolerances, audit_coverage
from gis.partition import partition_community, repartition


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --------------------------------------------------------------------------- loading
def community_geom(session: Session, code: str) -> BaseGeometry:
    area = session.scalar(
        select(Area).where(Area.code == code, Area.level == "community", Area.valid_to.is_(None))
    )
    if area is None:
        raise NotFound(f"社区/村 {code} 不存在")
    return to_shape(area.geom)


def get_plan(session: Session, plan_id: int, *, scope: AreaScope, for_update: bool = False) -> Plan:
    """A plan in the caller's area; one outside it is answered exactly like a missing one."""
    stmt = select(Plan).where(Plan.id == plan_id)
    if for_update:
        stmt = stmt.with_for_update()
    plan = session.scalar(stmt)
    missing = f"方案 {plan_id} 不存在"
    if plan is None:
        raise NotFound(missing)
    scope.require(plan.community_code, missing=missing)
    return plan


def plan_grids(session: Session, plan: Plan) -> list[PlanGrid]:
    return list(
        session.scalars(select(PlanGrid).where(PlanGrid.plan_id == plan.id).order_by(PlanGrid.id))
    )


def community_buildings(session: Session, code: str, geom: BaseGeometry) -> gpd.GeoDataFrame:
    """Buildings of the community: tagged with it, or standing inside it."""
    rows = session.execute(
        select(
            Building.id,
            Building.code,
            Building.household_count,
            func.ST_AsBinary(Building.location),
            func.ST_AsBinary(Building.footprint),
        ).where(
            (Building.community_code == code)
            | func.ST_Intersects(Building.location, func.ST_GeomFromEWKB(from_shape(geom, SRID)))
        )
    ).all()
    return gpd.GeoDataFrame(
        {
            "id": [r[0] for r in rows],
            "code": [r[1] for r in rows],
            "households": [int(r[2] or 0) for r in rows],
            "footprint": [shapely.from_wkb(bytes(r[4])) if r[4] else None for r in rows],
        },
        geometry=[shapely.from_wkb(bytes(r[3])) for r in rows],
        crs=SRID,
    )


# --------------------------------------------------------------------------- assignment
def assign_buildings(grids: list[PlanGrid], buildings: gpd.GeoDataFrame) -> None:
    """Each building goes to the grid containing its location (never split: one grid each)."""
    geoms = [to_shape(g.geom) for g in grids]
    ids: list[list[int]] = [[] for _ in grids]
    counts = [0] * len(grids)
    if len(buildings) and geoms:
        tree = shapely.STRtree(geoms)
        pts = buildings.geometry.to_numpy()
        pairs = tree.query(pts, predicate="intersects")
        seen: set[int] = set()
        for b, g in zip(pairs[0], pairs[1], strict=True):
            if b in seen:  # on a shared edge: the first grid wins, as the locator does
                continue
            seen.add(int(b))
            ids[g].append(int(buildings["id"].iloc[b]))
            counts[g] += int(buildings["households"].iloc[b])
    for grid, bids, n in zip(grids, ids, counts, strict=True):
        grid.building_ids, grid.households = sorted(bids), n


# --------------------------------------------------------------------------- validation
def _label(grid: PlanGrid) -> str:
    return grid.code or f"新网格#{grid.id}"


def validate(
    session: Session,
    plan: Plan,
    grids: list[PlanGrid],
    *,
    band: tuple[int, int] | None = None,
) -> ValidationPublic:
    """Topology errors (gaps, overlaps, crossing the community, not contiguous) and band warnings,
    each with the geometry where it is (gis.coverage does the measuring). The band defaults to the
    county's setting."""
    band = band or get_settings().household_band
    community = community_geom(session, plan.community_code)
    errors: list[FindingPublic] = []
    warnings: list[FindingPublic] = []
    if not grids:
        errors.append(FindingPublic(kind="empty", severity="error", message="方案中没有网格"))
        return ValidationPublic(ok=False, band=band, errors=errors, warnings=warnings)
    communities = gpd.GeoDataFrame({"code": [plan.community_code]}, geometry=[community], crs=SRID)
    frame = gpd.GeoDataFrame(
        {
            "code": [_label(g) for g in grids],
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
                    message=f"网格 {_label(g)} 由 {shapely.get_num_geometries(geom)} 块不相连的区域组成",
                    objects=[_label(g)],
                    geometry=shapely.geometry.mapping(geom),
                )
            )
    return ValidationPublic(ok=not errors, band=band, errors=errors, warnings=warnings)


def plan_public(
    session: Session,
    plan: Plan,
    *,
    band: tuple[int, int] | None = None,
    notes: list[str] | None = None,
) -> PlanPublic:
    band = band or get_settings().household_band
    grids = plan_grids(session, plan)
    low, high = band
    live_lock = plan.locked_until is not None and plan.locked_until > now()
    return PlanPublic(
        id=plan.id,
        community_code=plan.community_code,
        name=plan.name,
        source=plan.source,
        status=plan.status,
        version=plan.version,
        created_by=plan.created_by,
        lock=LockPublic(
            locked_by=plan.locked_by if live_lock else None,
            locked_until=plan.locked_until if live_lock else None,
        ),
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


# --------------------------------------------------------------------------- creation
def _new_plan(
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
    """Insert plan grids (dicts with code, name, type, geom) and assign buildings to them."""
    grids = [
        PlanGrid(
            plan_id=plan.id,
            code=r.get("code"),
            name=r.get("name") or "新网格",
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
    source: str = "current",
    name: str | None = None,
    target: int | None = None,
    band: tuple[int, int] | None = None,
) -> tuple[Plan, list[str]]:
    """A draft from the community's current grids, or from the automatic partition (target and
    band default to the county's settings)."""
    settings = get_settings()
    target = target or settings.household_target
    band = band or settings.household_band
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
    plan = _new_plan(
        session,
        community_code=community_code,
        name=name,
        source=source,
        user=scope.principal.username,
    )
    add_grids(session, plan, rows, buildings)
    return plan, notes


def community_barriers(session: Session, community: BaseGeometry) -> gpd.GeoSeries | None:
    """Roads, rivers, walls and railways crossing the community, clipped to it."""
    rows = session.execute(
        text(
            "SELECT ST_AsBinary(ST_Intersection(geom, ST_GeomFromWKB(:c, 4490))) AS wkb FROM barriers "
            "WHERE ST_Intersects(geom, ST_GeomFromWKB(:c, 4490))"
        ),
        {"c": shapely.to_wkb(community)},
    ).all()
    lines = [shapely.from_wkb(bytes(r.wkb)) for r in rows]
    lines = [
        g for g in lines if not g.is_empty and g.geom_type in ("LineString", "MultiLineString")
    ]
    return gpd.GeoSeries(lines, crs=SRID) if lines else None


def current_dedicated(session: Session, community_code: str) -> gpd.GeoDataFrame | None:
    """The community's active dedicated grids (schools, hospitals, parks…), kept as they are: the
    partition carves them out first."""
    rows = session.scalars(
        select(Grid).where(
            Grid.community_code == community_code, Grid.status == "active", Grid.type == "dedicated"
        )
    ).all()
    if not rows:
        return None
    return gpd.GeoDataFrame(
        {"code": [g.code for g in rows], "name": [g.name for g in rows]},
        geometry=[to_shape(g.geom) for g in rows],
        crs=SRID,
    )


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
            if row["geom"].symmetric_difference(geom).area < 1e-12:
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


# --------------------------------------------------------------------------- locks
def _lock_holder(plan: Plan, at: dt.datetime) -> str | None:
    if plan.locked_by and plan.locked_until and plan.locked_until > at:
        return plan.locked_by
    return None


def acquire_lock(plan: Plan, principal: Principal) -> None:
    """Take (or renew) the edit lock for ``plan_lock_minutes``; 409 naming the holder if someone
    else has it."""
    t = now()
    holder = _lock_holder(plan, t)
    if holder is not None and holder != principal.username:
        assert plan.locked_until is not None
        raise Conflict(
            f"方案正由 {holder} 编辑，锁定至 {plan.locked_until.astimezone():%Y-%m-%d %H:%M}",
            locked_by=holder,
            locked_until=plan.locked_until.isoformat(),
        )
    plan.locked_by, plan.locked_until = (
        principal.username,
        t + dt.timedelta(minutes=get_settings().plan_lock_minutes),
    )


def release_lock(plan: Plan, principal: Principal, *, force: bool = False) -> None:
    holder = _lock_holder(plan, now())
    if holder is not None and holder != principal.username and not force:
        raise Conflict(f"锁由 {holder} 持有，只有其本人或县级管理员可以解除", locked_by=holder)
    plan.locked_by, plan.locked_until = None, None


# --------------------------------------------------------------------------- edits
# A pure edit: (geometries by plan-grid id, community, grids) -> new geometries; negative keys are
# new grids, a missing or empty key is a grid that disappears.
EditFn = Callable[[dict[int, BaseGeometry], BaseGeometry, list[PlanGrid]], dict[int, BaseGeometry]]


def apply_edit(
    session: Session,
    *,
    plan_id: int,
    version: int,
    scope: AreaScope,
    edit: EditFn,
) -> Plan:
    """The common frame of every edit: lock the row, check status, version and edit lock, apply the
    pure geometry change, write it back, re-assign buildings, bump the version."""
    principal = scope.principal
    plan = get_plan(session, plan_id, scope=scope, for_update=True)
    if plan.status != "draft":
        raise Conflict(f"方案状态为 {plan.status}，只有草稿可以编辑")
    if version != plan.version:
        raise Conflict(
            f"方案已被他人修改（您的版本 {version}，当前版本 {plan.version}），请刷新后重试",
            current_version=plan.version,
        )
    acquire_lock(plan, principal)
    community = community_geom(session, plan.community_code)
    grids = plan_grids(session, plan)
    by_id = {g.id: g for g in grids}
    try:
        geoms = edit({g.id: to_shape(g.geom) for g in grids}, community, grids)
    except editing.EditRefused as exc:
        raise InvalidInput(str(exc)) from exc
    for gid, grid in list(by_id.items()):
        if gid not in geoms or geoms[gid].is_empty:
            session.delete(grid)
            del by_id[gid]
    new_rows = [(k, g) for k, g in geoms.items() if k < 0 and not g.is_empty]
    for gid, geom in geoms.items():
        if gid in by_id:
            by_id[gid].geom = from_shape(editing.as_multi(geom), srid=SRID)
    added: list[PlanGrid] = []
    for i, (_, geom) in enumerate(new_rows, start=1):
        grid = PlanGrid(
            plan_id=plan.id,
            code=None,
            name=f"新网格{i}",
            type="comprehensive",
            geom=from_shape(editing.as_multi(geom), srid=SRID),
        )
        session.add(grid)
        added.append(grid)
    session.flush()
    buildings = community_buildings(session, plan.community_code, community)
    assign_buildings([*by_id.values(), *added], buildings)
    plan.version += 1
    session.flush()
    return plan


def _grid(geoms: dict[int, BaseGeometry], gid: int) -> BaseGeometry:
    if gid not in geoms:
        raise NotFound(f"方案中没有网格 {gid}")
    return geoms[gid]


def parse_geojson(obj: dict[str, Any], what: str) -> BaseGeometry:
    try:
        return shape(obj)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidInput(f"{what}不是有效的 GeoJSON 几何：{exc}") from exc


def reshape_edit(grid_id: int, geometry: dict[str, Any]) -> EditFn:
    new_geom = parse_geojson(geometry, "新边界")
    if new_geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise InvalidInput("新边界必须是面（Polygon 或 MultiPolygon）")

    def run(
        geoms: dict[int, BaseGeometry], community: BaseGeometry, _: list[PlanGrid]
    ) -> dict[int, BaseGeometry]:
        _grid(geoms, grid_id)
        return dict(editing.reshape(geoms, grid_id, new_geom, community))

    return run


def split_edit(grid_id: int, line: dict[str, Any]) -> EditFn:
    geom_line = parse_geojson(line, "分割线")

    def run(
        geoms: dict[int, BaseGeometry], community: BaseGeometry, _: list[PlanGrid]
    ) -> dict[int, BaseGeometry]:
        pieces = editing.split(_grid(geoms, grid_id), geom_line)
        out = dict(geoms)
        out[grid_id] = pieces[0]  # the largest piece keeps the grid (and its code)
        for i, piece in enumerate(pieces[1:], start=1):
            out[-i] = piece
        return out

    return run


def merge_edit(grid_id: int, other_id: int) -> EditFn:
    if grid_id == other_id:
        raise InvalidInput("不能把网格与自身合并")

    def run(
        geoms: dict[int, BaseGeometry], community: BaseGeometry, grids: list[PlanGrid]
    ) -> dict[int, BaseGeometry]:
        merged = editing.merge(_grid(geoms, grid_id), _grid(geoms, other_id))
        by_id = {g.id: g for g in grids}
        # The grid with more households keeps its code; the other code is retired on approval.
        keep, drop = (grid_id, other_id)
        if by_id[other_id].households > by_id[grid_id].households or not by_id[grid_id].code:
            keep, drop = other_id, grid_id
        out = dict(geoms)
        out[keep], out[drop] = merged, MultiPolygon()
        return out

    return run


def move_buildings_edit(session: Session, building_ids: list[int], to_grid_id: int) -> EditFn:
    rows = session.execute(
        select(
            Building.id, func.ST_AsBinary(Building.location), func.ST_AsBinary(Building.footprint)
        ).where(Building.id.in_(building_ids))
    ).all()
    missing = set(building_ids) - {r[0] for r in rows}
    if missing:
        raise NotFound(f"楼栋不存在：{'、'.join(map(str, sorted(missing)))}")
    regions = [
        editing.building_region(
            shapely.from_wkb(bytes(r[1])), shapely.from_wkb(bytes(r[2])) if r[2] else None
        )
        for r in rows
    ]

    def run(
        geoms: dict[int, BaseGeometry], community: BaseGeometry, _: list[PlanGrid]
    ) -> dict[int, BaseGeometry]:
        target = _grid(geoms, to_grid_id)
        region = shapely.union_all(regions).intersection(community)
        if not region.buffer(0).intersects(target):
            raise InvalidInput("楼栋与目标网格不相邻，移入后网格将不连续；请先调整边界")
        return dict(editing.reshape(geoms, to_grid_id, target.union(region), community))

    return run


# --------------------------------------------------------------------------- submit
def submit(session: Session, *, plan_id: int, version: int, scope: AreaScope) -> ValidationPublic:
    plan = get_plan(session, plan_id, scope=scope, for_update=True)
    if plan.status != "draft":
        raise Conflict(f"方案状态为 {plan.status}，不能提交")
    if version != plan.version:
        raise Conflict(
            f"方案已被他人修改（您的版本 {version}，当前版本 {plan.version}），请刷新后重试",
            current_version=plan.version,
        )
    report = validate(session, plan, plan_grids(session, plan))
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
