"""Editing a draft: the common frame (row lock, status, version, edit lock, write back, buildings
re-assigned, history for undo/redo) around pure geometry edits from gis.editing — reshape, split,
merge, move buildings — and renaming a grid.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import shapely
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import MultiPolygon, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.scope import AreaScope
from app.base import SRID
from app.buildings.models import Building
from app.errors import InvalidInput, NotFound
from app.plans import history
from app.plans.load import (
    assign_buildings,
    community_buildings,
    community_geom,
    get_plan,
    plan_grids,
)
from app.plans.lock import acquire_lock, check_version
from app.plans.models import Plan, PlanGrid
from app.plans.names import new_grid_names
from app.plans.workflow import require_state
from gis import editing

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
    kind: str,
    lock_minutes: int,
) -> Plan:
    """The common frame of every edit: lock the row, check status, version and edit lock, apply the
    pure geometry change, write it back, re-assign buildings, record it in the plan's history
    (undo/redo), bump the version."""
    plan, grids, before = _begin(session, plan_id, version, scope, lock_minutes)
    community = community_geom(session, plan.community_code)
    by_id = {g.id: g for g in grids}
    old = {g.id: to_shape(g.geom) for g in grids}
    geoms = run_edit(edit, dict(old), community, grids)
    for gid, grid in list(by_id.items()):
        if gid not in geoms or geoms[gid].is_empty:
            session.delete(grid)
            del by_id[gid]
    new_rows = [(k, g) for k, g in geoms.items() if k < 0 and not g.is_empty]
    for gid, geom in geoms.items():
        if gid in by_id and geom is not old[gid]:  # only the grids the edit changed are written
            by_id[gid].geom = from_shape(editing.as_multi(geom), srid=SRID)
    added: list[PlanGrid] = []
    names = new_grid_names([g.name for g in grids], len(new_rows))
    for name, (_, geom) in zip(names, new_rows, strict=True):
        grid = PlanGrid(
            plan_id=plan.id,
            code=None,
            name=name,
            type="comprehensive",
            geom=from_shape(editing.as_multi(geom), srid=SRID),
        )
        session.add(grid)
        added.append(grid)
    session.flush()
    buildings = community_buildings(session, plan.community_code, community)
    assign_buildings([*by_id.values(), *added], buildings)
    _finish(session, plan, kind, before, [*by_id.values(), *added], scope)
    return plan


def rename_grid(
    session: Session,
    *,
    plan_id: int,
    version: int,
    scope: AreaScope,
    grid_id: int,
    name: str,
    lock_minutes: int,
) -> Plan:
    """Give a grid of the plan its name: the one it keeps everywhere, after approval too."""
    plan, grids, before = _begin(session, plan_id, version, scope, lock_minutes)
    name = name.strip()
    if not name:
        raise InvalidInput("网格名称不能为空")
    grid = next((g for g in grids if g.id == grid_id), None)
    if grid is None:
        raise NotFound(f"方案中没有网格 {grid_id}")
    if any(g.name == name and g.id != grid_id for g in grids):
        raise InvalidInput(f"方案中已有名为「{name}」的网格，请换一个名称")
    grid.name = name
    _finish(session, plan, "rename", before, grids, scope)
    return plan


def _begin(
    session: Session, plan_id: int, version: int, scope: AreaScope, lock_minutes: int
) -> tuple[Plan, list[PlanGrid], list[dict[str, Any]]]:
    plan = get_plan(session, plan_id, scope=scope, for_update=True)
    require_state(plan, "edit")
    check_version(plan, version)
    acquire_lock(plan, scope.principal, minutes=lock_minutes)
    grids = plan_grids(session, plan)
    return plan, grids, history.snapshot(grids)


def _finish(
    session: Session,
    plan: Plan,
    kind: str,
    before: list[dict[str, Any]],
    grids: list[PlanGrid],
    scope: AreaScope,
) -> None:
    after = history.snapshot(sorted(grids, key=lambda g: g.id))
    history.record(session, plan, kind, before, after, user=scope.principal.username)
    plan.version += 1
    session.flush()


def run_edit(
    edit: EditFn, geoms: dict[int, BaseGeometry], community: BaseGeometry, grids: list[PlanGrid]
) -> dict[int, BaseGeometry]:
    """Apply a pure edit; a refusal of the geometry (gis.editing) is a 422 saying why."""
    try:
        return edit(geoms, community, grids)
    except editing.EditRefused as exc:
        raise InvalidInput(str(exc)) from exc


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
