"""Reading plans and what they are drawn over: a plan (within the caller's area), its grids, the
community's outline, buildings, barriers and dedicated grids, and which buildings each grid holds.
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import shapely
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.areas.models import Area
from app.auth.scope import AreaScope
from app.base import SRID
from app.buildings.models import Building, Household
from app.errors import NotFound
from app.grids.models import Grid
from app.plans.models import Plan, PlanGrid
from gis.pointindex import assign_points


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


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


def list_plans(
    session: Session, *, scope: AreaScope, community_code: str | None, status: str | None
) -> list[Plan]:
    """The plans in the caller's area, newest first; of one community or status if named."""
    stmt = select(Plan).where(scope.clause(Plan.community_code))
    if community_code:
        stmt = stmt.where(Plan.community_code == community_code)
    if status:
        stmt = stmt.where(Plan.status == status)
    return list(session.scalars(stmt.order_by(Plan.id.desc())))


def plan_grids(session: Session, plan: Plan) -> list[PlanGrid]:
    return list(
        session.scalars(select(PlanGrid).where(PlanGrid.plan_id == plan.id).order_by(PlanGrid.id))
    )


def community_geom(session: Session, code: str) -> BaseGeometry:
    area = session.scalar(
        select(Area).where(Area.code == code, Area.level == "community", Area.valid_to.is_(None))
    )
    if area is None:
        raise NotFound(f"社区/村 {code} 不存在")
    return to_shape(area.geom)


def community_buildings(session: Session, code: str, geom: BaseGeometry) -> gpd.GeoDataFrame:
    """Buildings of the community: tagged with it, or standing inside it, each with its household
    rows (the ones the session may read; a household stands at its building's point), not the
    count a survey declared: households per grid are counted one way everywhere (docs/domain.md)."""
    households = (
        select(func.count(Household.id)).where(Household.building_id == Building.id)
    ).scalar_subquery()
    rows = session.execute(
        select(
            Building.id,
            Building.code,
            households,
            func.ST_AsBinary(Building.location),
            func.ST_AsBinary(Building.footprint),
        ).where(
            (Building.community_code == code)
            | func.ST_Intersects(Building.location, func.ST_GeomFromEWKB(from_shape(geom, SRID)))
        )
    ).all()
    # One vectorised WKB parse per column: the live balance reads these on every preview.
    footprints = np.array([bytes(r[4]) if r[4] else None for r in rows], dtype=object)
    points = np.array([bytes(r[3]) for r in rows], dtype=object)
    return gpd.GeoDataFrame(
        {
            "id": np.array([r[0] for r in rows], dtype=np.int64),
            "code": [r[1] for r in rows],
            "households": np.array([int(r[2] or 0) for r in rows], dtype=np.int64),
            "footprint": shapely.from_wkb(footprints),
        },
        geometry=shapely.from_wkb(points),
        crs=SRID,
    )


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


def assign_buildings(grids: list[PlanGrid], buildings: gpd.GeoDataFrame) -> None:
    """Each building goes to the grid containing its location (never split: one grid each); on a
    shared edge, the grid routing would send it to (``held_by``)."""
    held = held_by([(g.code, to_shape(g.geom)) for g in grids], buildings)
    for grid, (bids, n) in zip(grids, held, strict=True):
        grid.building_ids, grid.households = bids, n


def held_by(
    grids: list[tuple[str | None, BaseGeometry]], buildings: gpd.GeoDataFrame
) -> list[tuple[list[int], int]]:
    """(building ids, households) held by each of ``grids`` (code, shape): a building belongs to
    the grid containing its location; on a shared edge, to the one routing would send it to
    (gis.pointindex.first_per_point: the smallest code; grids without a code yet come after, in
    the order given). Pure: the live balance while drawing uses it on shapes not yet saved."""
    order = sorted(range(len(grids)), key=lambda i: (not grids[i][0], grids[i][0] or "", i))
    ids: list[list[int]] = [[] for _ in grids]
    counts = [0] * len(grids)
    if len(buildings) and grids:
        pts = buildings.geometry.to_numpy()
        owner = assign_points([grids[i][1] for i in order], shapely.get_x(pts), shapely.get_y(pts))
        bid = buildings["id"].to_numpy()
        hh = buildings["households"].to_numpy()
        for b, o in enumerate(owner.tolist()):
            if o >= 0:
                ids[order[o]].append(int(bid[b]))
                counts[order[o]] += int(hh[b])
    return [(sorted(i), n) for i, n in zip(ids, counts, strict=True)]
