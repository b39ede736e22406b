"""The feature collections served over OGC API – Features, and the queries behind their items.

Each collection is a table (or view), a geometry, the properties it shows (all of them queryable
by a CQL2 filter, ``app.ogc.cql``) and, for versioned tables, the validity columns that
``datetime`` filters on (a grid is valid at t when valid_from <= t and (valid_to IS NULL or
valid_to > t), mapit-style generations). Identifiers are fixed here; user input only ever reaches
the queries as bound parameters.

Who sees which collection is the policy table's answer (``app.auth.policy``): the outline map
(areas of every level, grids, buildings: ``Resource.PUBLIC_MAP``) and the public projection of
open cases (``public-incidents``: the ``public_incidents`` view, docs/public.md) for anyone; the
barriers for the roles that read the registry; micro-grids (``MICRO_GRID``), open incidents
(``INCIDENT``) and plans (``PLAN``) for the roles that read them, limited to the caller's ``AreaScope`` (and again by row-level
security), so a case outside it is missing, by list and by id alike.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import JSON, ColumnElement, Select, Text, and_, cast, func, literal, or_, select
from sqlalchemy.orm import Session

from app.areas.models import Area
from app.auth.policy import Action, Resource
from app.auth.scope import AreaScope
from app.barriers.models import Barrier
from app.base import SRID
from app.buildings.models import Building
from app.grids.models import Grid
from app.incidents.models import Incident
from app.incidents.public import PUBLIC_INCIDENTS
from app.incidents.service import case_filters
from app.incidents.statemachine import IN_PROGRESS_STATES
from app.microgrids.models import MicroGrid
from app.ogc.cql import Queryable
from app.ogc.crs import DEFAULT, Crs
from app.plans.models import Plan, PlanGrid

Interval = tuple[dt.date | None, dt.date | None]

# What each property is called on the HTML pages and in the queryables.
TITLES = {
    "code": "编码",
    "name": "名称",
    "level": "层级",
    "parent_code": "上级编码",
    "type": "类型",
    "community_code": "所属社区/村",
    "status": "状态",
    "version": "版本",
    "valid_from": "生效日期",
    "valid_to": "失效日期",
    "compound": "小区/自然村",
    "household_count": "户数",
    "households": "户数",
    "class": "类别",
    "case_no": "事件编号",
    "category_code": "事件小类",
    "state": "处理状态",
    "grid_code": "所属网格",
    "supervised": "督办",
    "deadline": "办理时限",
    "reported_at": "上报时间",
}
LEVEL_TITLES = {
    "province": "省级",
    "prefecture": "地级",
    "county": "县级",
    "township": "乡镇/街道",
    "community": "社区/村",
}
_JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean"}


def _json_type(column: Any) -> str:
    try:
        py = column.type.python_type
    except NotImplementedError:
        return "string"
    if py is dt.datetime:
        return "date-time"
    if py is dt.date:
        return "date"
    return _JSON_TYPES.get(py, "number" if py.__name__ == "Decimal" else "string")


@dataclass
class Collection:
    id: str
    title: str
    description: str
    id_col: Any
    geom: Any
    props: dict[str, Any]
    where: list[ColumnElement[bool]] = field(default_factory=list)
    valid: tuple[Any, Any] | None = None  # (valid_from, valid_to) columns
    current: list[ColumnElement[bool]] = field(default_factory=list)  # when no datetime is given

    @property
    def queryables(self) -> dict[str, Queryable]:
        """Every property shown is queryable, with the type of its column."""
        return {
            name: Queryable(column=col, type=_json_type(col), title=TITLES.get(name, name))
            for name, col in self.props.items()
        }

    def any_version(self) -> Collection:
        """The same collection without its 'current only' default: a single feature is found by
        id whatever its validity (history stays addressable)."""
        return replace(self, valid=None, current=[])


def _grids() -> Collection:
    return Collection(
        id="grids",
        title="网格（现行；带 datetime 时为该时刻有效的版本）",
        description="Grids: active now, or the versions valid at the requested instant/interval",
        id_col=Grid.id,
        geom=Grid.geom,
        props={
            "code": Grid.code,
            "name": Grid.name,
            "type": Grid.type,
            "community_code": Grid.community_code,
            "status": Grid.status,
            "version": Grid.version,
            "valid_from": Grid.valid_from,
            "valid_to": Grid.valid_to,
        },
        where=[Grid.status.in_(("active", "retired"))],
        valid=(Grid.valid_from, Grid.valid_to),
        current=[Grid.status == "active"],
    )


_AREA_PROPS = {
    "code": Area.code,
    "name": Area.name,
    "level": Area.level,
    "parent_code": Area.parent_code,
    "valid_from": Area.valid_from,
    "valid_to": Area.valid_to,
}


def _areas(levels: list[str]) -> list[Collection]:
    """All areas in one collection, and one collection per level present."""
    every = Collection(
        id="areas",
        title="行政区划（全部层级）",
        description="Administrative areas of every level",
        id_col=Area.id,
        geom=Area.geom,
        props=_AREA_PROPS,
        valid=(Area.valid_from, Area.valid_to),
        current=[Area.valid_to.is_(None)],
    )
    per_level = [
        replace(
            every,
            id=f"areas-{level}",
            title=f"行政区划：{LEVEL_TITLES.get(level, level)}",
            description=f"Administrative areas, level {level}",
            where=[Area.level == level],
        )
        for level in levels
    ]
    return [every, *per_level]


def _buildings() -> Collection:
    return Collection(
        id="buildings",
        title="楼栋",
        description="Buildings (location points) with household counts",
        id_col=Building.id,
        geom=Building.location,
        props={
            "code": Building.code,
            "name": Building.name,
            "compound": Building.compound,
            "community_code": Building.community_code,
            "household_count": Building.household_count,
        },
    )


def _barriers() -> Collection:
    return Collection(
        id="barriers",
        title="边界参照线（道路、河流、围墙、铁路）",
        description="Barriers grids should not cross: roads, rivers, walls, railways",
        id_col=Barrier.id,
        geom=Barrier.geom,
        props={"name": Barrier.name, "class": Barrier.class_},
    )


def _micro_grids(scope: AreaScope) -> Collection:
    """The active micro-grids (微网格) in the caller's area (docs/domain.md#micro-grids); their
    stewards are people, so they are listed by the API, not here."""
    return Collection(
        id="micro-grids",
        title="微网格",
        description="Micro-grids inside grids: 17-digit code (the grid's 15 + a serial)",
        id_col=MicroGrid.id,
        geom=MicroGrid.geom,
        props={
            "code": MicroGrid.code,
            "name": MicroGrid.name,
            "grid_code": MicroGrid.grid_code,
            "valid_from": MicroGrid.valid_from,
        },
        where=[MicroGrid.status == "active", scope.clause(MicroGrid.code)],
    )


def _plan(plan: Plan) -> Collection:
    return Collection(
        id=f"plan-{plan.id}",
        title=f"规划方案 {plan.id}：{plan.name}（{plan.status}）",
        description=f"Grids of plan {plan.id} for community {plan.community_code}",
        id_col=PlanGrid.id,
        geom=PlanGrid.geom,
        props={
            "code": PlanGrid.code,
            "name": PlanGrid.name,
            "type": PlanGrid.type,
            "households": PlanGrid.households,
        },
        where=[PlanGrid.plan_id == plan.id],
    )


def _incidents(scope: AreaScope) -> Collection:
    """Cases not yet closed in the caller's area, the console's list (the incident service's
    ``case_filters``); reporters' names and phones are never shown here."""
    return Collection(
        id="incidents",
        title="未结事件",
        description="Open incidents (not closed, evaluated, rejected or voided)",
        id_col=Incident.id,
        geom=Incident.location,
        props={
            "case_no": Incident.case_no,
            "category_code": Incident.category_code,
            "state": Incident.state,
            "grid_code": Incident.grid_code,
            "community_code": Incident.community_code,
            "supervised": Incident.supervised,
            "deadline": Incident.deadline,
        },
        where=case_filters(scope, states=IN_PROGRESS_STATES),
    )


def _public_incidents() -> Collection:
    """Open cases as anyone may see them: the ``public_incidents`` view (docs/public.md), no
    sensitive category, the point at the centre of its 0.001° cell."""
    v = PUBLIC_INCIDENTS.c
    return Collection(
        id="public-incidents",
        title="公开的未结事件（位置为约100米网格中心）",
        description="Open incidents as the public sees them (docs/public.md): no sensitive "
        "category, no personal data, the point snapped to the centre of its 0.001° cell",
        id_col=v.id,
        geom=func.ST_SetSRID(func.ST_MakePoint(v.lng, v.lat), SRID),
        props={
            "case_no": v.case_no,
            "category_code": v.category_code,
            "state": v.state,
            "reported_at": v.reported_at,
        },
        where=[v.state.in_(IN_PROGRESS_STATES)],
    )


def _area_levels(session: Session) -> list[str]:
    rows = session.execute(
        select(Area.level, func.min(func.length(Area.code)))
        .where(Area.valid_to.is_(None))
        .group_by(Area.level)
    ).all()
    return [level for level, _ in sorted(rows, key=lambda r: r[1])]


def available(session: Session, scope: AreaScope) -> list[Collection]:
    """The outline map and the public cases for anyone; barriers for the roles that read the
    registry; open incidents and plans in the caller's area for the roles that read them."""
    who = scope.principal
    out: list[Collection] = []
    if who.may(Resource.PUBLIC_MAP, Action.READ):
        out += [*_areas(_area_levels(session)), _grids(), _buildings()]
    if who.may(Resource.REGISTRY, Action.READ):
        out.append(_barriers())
    if who.may(Resource.MICRO_GRID, Action.READ):
        out.append(_micro_grids(scope))
    if who.may(Resource.INCIDENT, Action.READ):
        out.append(_incidents(scope))
    out.append(_public_incidents())
    if who.may(Resource.PLAN, Action.READ):
        plans = session.scalars(
            select(Plan).where(scope.clause(Plan.community_code)).order_by(Plan.id)
        )
        out += [_plan(p) for p in plans]
    return out


def find(session: Session, scope: AreaScope, collection_id: str) -> Collection | None:
    return next((c for c in available(session, scope) if c.id == collection_id), None)


# --------------------------------------------------------------------------- queries
def _filters(
    c: Collection,
    bbox: Any | None,
    when: Interval | None,
    where: ColumnElement[bool] | None = None,
) -> list[ColumnElement[bool]]:
    conds = list(c.where)
    if bbox is not None:
        conds.append(func.ST_Intersects(c.geom, bbox))
    if c.valid is not None:
        start_col, end_col = c.valid
        if when is None:
            conds += c.current
        else:
            start, end = when
            if end is not None:
                conds.append(start_col <= end)
            if start is not None:
                conds.append(or_(end_col.is_(None), end_col > start))
    if where is not None:
        conds.append(where)
    return conds


def extent(session: Session, c: Collection) -> list[float] | None:
    box = session.execute(
        select(
            func.ST_XMin(func.ST_Extent(c.geom)),
            func.ST_YMin(func.ST_Extent(c.geom)),
            func.ST_XMax(func.ST_Extent(c.geom)),
            func.ST_YMax(func.ST_Extent(c.geom)),
        ).where(and_(True, *_filters(c, None, None)))
    ).one()
    return None if box[0] is None else [float(v) for v in box]


def first_valid(session: Session, c: Collection) -> dt.date | None:
    """The day the oldest version of a versioned collection became valid (its history's start)."""
    if c.valid is None:
        return None
    return session.scalar(select(func.min(c.valid[0])).where(and_(True, *c.where)))


def envelope(wkt: str) -> Any:
    """A lon/lat (EPSG:4490) polygon given as WKT, as a bound parameter."""
    return func.ST_GeomFromText(wkt, SRID)


def _output(geom: Any, crs: Crs) -> Any:
    """The geometry as GeoJSON in ``crs``: reprojected by PostGIS, axes in the CRS's order.
    ST_AsGeoJSON options 0: no "crs" member, which RFC 7946 GeoJSON does not allow."""
    out = geom if crs.srid == SRID else func.ST_Transform(geom, crs.srid)
    if crs.swap:
        out = func.ST_FlipCoordinates(out)
    return cast(func.ST_AsGeoJSON(out, crs.decimals, 0), JSON)


def _feature(c: Collection, crs: Crs) -> Any:
    """One feature as GeoJSON text, written by PostgreSQL (dates as ISO 8601, numbers as
    numbers): a page of features is then joined as text, never parsed and written again."""
    props = [part for name, col in c.props.items() for part in (literal(name), col)]
    return cast(
        func.json_build_object(
            literal("type"),
            literal("Feature"),
            literal("id"),
            c.id_col,
            literal("geometry"),
            _output(c.geom, crs),
            literal("properties"),
            func.json_build_object(*props),
        ),
        Text,
    )


def items(
    session: Session,
    c: Collection,
    *,
    bbox: Any | None = None,
    when: Interval | None = None,
    where: ColumnElement[bool] | None = None,
    crs: Crs = DEFAULT,
    limit: int,
    offset: int,
    feature_id: int | None = None,
) -> tuple[list[str], int]:
    """(each feature as GeoJSON text, numberMatched)."""
    conds = _filters(c, bbox, when, where)
    if feature_id is not None:
        conds.append(c.id_col == feature_id)
    cond = and_(True, *conds)
    matched = int(session.scalar(select(func.count()).select_from(c.id_col.table).where(cond)) or 0)
    stmt: Select[Any] = (
        select(_feature(c, crs)).where(cond).order_by(c.id_col).limit(limit).offset(offset)
    )
    return list(session.scalars(stmt)), matched


def decode(features: list[str]) -> list[dict[str, Any]]:
    """The features as objects (for the HTML pages and single items)."""
    return [json.loads(f) for f in features]
