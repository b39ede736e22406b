"""The feature collections served over OGC API – Features, and the queries behind their items.

Each collection is a table, a geometry column, the properties it shows and, for versioned tables,
the validity columns that ``datetime`` filters on (a grid is valid at t when valid_from <= t and
(valid_to IS NULL or valid_to > t), mapit-style generations). Identifiers are fixed here; user input
only ever reaches the queries as bound parameters.

Who sees which collection is the policy table's answer (``app.auth.policy``): the outline map
(areas, grids, buildings: ``Resource.PUBLIC_MAP``) for anyone; open incidents (``INCIDENT``) and
plans (``PLAN``) for the roles that read them, limited to the caller's ``AreaScope`` (and again by
row-level security), so a case outside it is missing, by list and by id alike.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from app.areas.models import Area
from app.auth.policy import Action, Resource
from app.auth.scope import AreaScope
from app.base import SRID
from app.buildings.models import Building
from app.grids.models import Grid
from app.incidents.models import Incident
from app.incidents.service import case_filters
from app.incidents.statemachine import IN_PROGRESS_STATES
from app.plans.models import Plan, PlanGrid

Interval = tuple[dt.date | None, dt.date | None]


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


def _grids() -> Collection:
    return Collection(
        id="grids",
        title="网格（现行；带 datetime 时为该时刻有效的版本）",
        description="Grids: active now, or valid at the requested instant/interval",
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


def _areas() -> Collection:
    return Collection(
        id="areas",
        title="行政区划（县、乡镇/街道、社区/村）",
        description="Administrative areas: county, township, community",
        id_col=Area.id,
        geom=Area.geom,
        props={
            "code": Area.code,
            "name": Area.name,
            "level": Area.level,
            "parent_code": Area.parent_code,
            "valid_from": Area.valid_from,
            "valid_to": Area.valid_to,
        },
        valid=(Area.valid_from, Area.valid_to),
        current=[Area.valid_to.is_(None)],
    )


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


def available(session: Session, scope: AreaScope) -> list[Collection]:
    """The outline map for anyone; open incidents and plans in the caller's area for the roles
    that read them."""
    who = scope.principal
    out = [_areas(), _grids(), _buildings()] if who.may(Resource.PUBLIC_MAP, Action.READ) else []
    if who.may(Resource.INCIDENT, Action.READ):
        out.append(_incidents(scope))
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
    c: Collection, bbox: tuple[float, float, float, float] | None, when: Interval | None
) -> list[ColumnElement[bool]]:
    conds = list(c.where)
    if bbox is not None:
        conds.append(func.ST_Intersects(c.geom, func.ST_MakeEnvelope(*bbox, SRID)))
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


def items(
    session: Session,
    c: Collection,
    *,
    bbox: tuple[float, float, float, float] | None,
    when: Interval | None,
    limit: int,
    offset: int,
    feature_id: int | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """(GeoJSON features, numberMatched)."""
    conds = _filters(c, bbox, when)
    if feature_id is not None:
        conds.append(c.id_col == feature_id)
    where = and_(True, *conds)
    matched = int(
        session.scalar(select(func.count()).select_from(c.id_col.table).where(where)) or 0
    )
    # ST_AsGeoJSON options 0: no "crs" member, which RFC 7946 GeoJSON does not allow.
    stmt: Select[Any] = (
        select(c.id_col, func.ST_AsGeoJSON(c.geom, 7, 0), *c.props.values())
        .where(where)
        .order_by(c.id_col)
        .limit(limit)
        .offset(offset)
    )
    features = []
    for row in session.execute(stmt):
        props = {
            k: (v.isoformat() if isinstance(v, dt.date | dt.datetime) else v)
            for k, v in zip(c.props, row[2:], strict=True)
        }
        features.append(
            {
                "type": "Feature",
                "id": row[0],
                "geometry": json.loads(row[1]) if row[1] else None,
                "properties": props,
            }
        )
    return features, matched
