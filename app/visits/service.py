"""Recording visits and a worker's list of households due today."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass
from typing import Any

from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import Point
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.auth.policy import Field, Principal, Role
from app.auth.scope import AreaScope
from app.buildings.queries import community_filter
from app.errors import Conflict, Forbidden, InvalidInput, NotFound, PayloadTooLarge
from app.grids.service import grid_of_point_sql, holds_point_sql
from app.locate.service import check_coordinates, coord_system, to_storage
from app.register.codes import GROUP_LABELS as CODE_TABLE_LABELS
from app.staff.models import Staff
from app.staff.service import worker_grids
from app.visits.cadence import CadenceRule, interval_sql, load_rules, rule_for
from app.visits.models import Visit
from app.visits.ranking import rank_due
from app.visits.schemas import DueHousehold, DueList, VisitCreate, VisitPublic, WorkerOut
from app.visits.settings import VisitSettings

BEIJING = dt.timezone(dt.timedelta(hours=8))
MASKED_RULE = "按规定周期走访"  # the rule's label names the group (e.g. 信访户每两周走访)
GROUP_LABELS = CODE_TABLE_LABELS  # one code table (app/register/codes.py)


def aware(moment: dt.datetime) -> dt.datetime:
    """Phones often send local time without a zone: read it as Beijing time."""
    return moment if moment.tzinfo else moment.replace(tzinfo=BEIJING)


def household_grid(
    session: Session, household_id: int, *, scope: AreaScope
) -> tuple[Any, str | None]:
    """The household row and the active grid it lies in (the routing rule), or 404 (also for a
    household in a grid outside the caller's area: the same answer as a missing one)."""
    row = session.execute(
        text(
            "SELECT h.id, h.special_groups, ST_X(h.location) AS x, ST_Y(h.location) AS y, "
            f"{grid_of_point_sql('h.location')} AS grid_code "
            "FROM households h WHERE h.id = :id"
        ),
        {"id": household_id},
    ).one_or_none()
    missing = f"找不到住户 {household_id}"
    if row is None:
        raise NotFound(missing, household_id=household_id)
    if row.grid_code is not None:
        scope.require(row.grid_code, missing=missing)
    return row, row.grid_code


def _resolve_worker(session: Session, data: VisitCreate, principal: Principal) -> Staff:
    """Whose visit this is: a grid worker records their own; others (the policy says who may
    record: VISIT CREATE) name the worker."""
    if principal.role == Role.GRID_WORKER:
        if principal.staff_id is None:
            raise Forbidden("当前账号未关联网格员档案，无法登记走访")
        if data.worker_id not in (None, principal.staff_id):
            raise Forbidden("网格员只能登记本人的走访")
        staff_id = principal.staff_id
    else:
        if data.worker_id is None:
            raise InvalidInput("worker_id: 调度员代为登记时须指明走访的网格员", field="worker_id")
        staff_id = data.worker_id
    staff = session.get(Staff, staff_id)
    if staff is None:
        raise InvalidInput(f"worker_id: 找不到工作人员 {staff_id}", field="worker_id")
    return staff


def _photo(data: VisitCreate, settings: VisitSettings) -> bytes | None:
    if data.photo_base64 is None:
        return None
    if data.photo_content_type is None:
        raise InvalidInput("photo_content_type: 上传照片时须注明格式", field="photo_content_type")
    try:
        photo = base64.b64decode(data.photo_base64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(
            "photo_base64: 照片不是有效的 base64 编码", field="photo_base64"
        ) from exc
    if len(photo) > settings.photo_max_bytes:
        raise PayloadTooLarge(
            f"照片过大（{len(photo) // 1024} KB），上限 {settings.photo_max_bytes // 1024} KB"
        )
    return photo


def _incident_verified(session: Session, incident_id: int | None) -> bool:
    """True if the incident exists; False when the incidents module is not installed yet."""
    if incident_id is None:
        return False
    if session.scalar(text("SELECT to_regclass('public.incidents')")) is None:
        return False
    found = session.scalar(text("SELECT 1 FROM incidents WHERE id = :id"), {"id": incident_id})
    if not found:
        raise InvalidInput(f"incident_id: 找不到事件 {incident_id}", field="incident_id")
    return True


def create_visit(
    session: Session,
    *,
    data: VisitCreate,
    scope: AreaScope,
    settings: VisitSettings,
    now: dt.datetime | None = None,
    idempotency_key: str | None = None,
) -> tuple[VisitPublic, bool]:
    """Record a visit; returns it and whether it is new. A check-in sent again with the same
    ``idempotency_key`` by the same recorder (a phone's offline queue retrying) returns the visit
    already stored, with created=False."""
    principal = scope.principal
    if idempotency_key is not None:
        stored = session.scalar(
            select(Visit).where(
                Visit.recorded_by == principal.username, Visit.idempotency_key == idempotency_key
            )
        )
        if stored is not None:
            if stored.household_id != data.household_id:
                raise Conflict(
                    "此 Idempotency-Key 已用于另一户的走访；新的走访请使用新的 Idempotency-Key",
                    field="Idempotency-Key",
                )
            worker = session.get(Staff, stored.worker_id)
            return _public(
                stored, worker.name if worker else "", "走访已登记（重复提交，未重复记录）"
            ), False
    now = now or dt.datetime.now(dt.UTC)
    visited_at = aware(data.visited_at)
    if visited_at > now + dt.timedelta(seconds=settings.future_tolerance_s):
        raise InvalidInput(
            f"visited_at: 走访时间 {visited_at.astimezone(BEIJING):%Y-%m-%d %H:%M} 晚于当前时间",
            field="visited_at",
        )
    check_coordinates(data.lng, data.lat)
    system = coord_system(data.crs)
    x, y = to_storage(data.lng, data.lat, system)
    staff = _resolve_worker(session, data, principal)
    _household, grid_code = household_grid(session, data.household_id, scope=scope)
    if grid_code is None:
        raise Forbidden(
            f"住户 {data.household_id} 不在任何在用网格内，无法确定负责的网格员",
            household_id=data.household_id,
        )
    grids = worker_grids(session, staff.id, visited_at.astimezone(BEIJING).date())
    if grid_code not in grids:
        mine = "、".join(grids) if grids else "无"
        raise Forbidden(
            f"住户 {data.household_id} 位于网格 {grid_code}，不在{staff.name}当日负责的网格（{mine}）内",
            grid_code=grid_code,
            worker_grids=grids,
        )
    photo = _photo(data, settings)
    verified = _incident_verified(session, data.incident_id)
    distance = float(
        session.scalar(
            text(
                "SELECT ST_Distance(geography(h.location), "
                "geography(ST_SetSRID(ST_MakePoint(:x, :y), 4490))) FROM households h WHERE h.id = :id"
            ),
            {"x": x, "y": y, "id": data.household_id},
        )
    )
    far = distance > settings.far_distance_m
    visit = Visit(
        worker_id=staff.id,
        household_id=data.household_id,
        grid_code=grid_code,
        visited_at=visited_at,
        kind=data.kind,
        location=from_shape(Point(x, y), srid=4490),
        input_crs=system,
        distance_m=round(distance, 1),
        far_from_household=far,
        notes=data.notes,
        photo=photo,
        photo_content_type=data.photo_content_type if photo else None,
        incident_id=data.incident_id,
        recorded_by=principal.username,
        idempotency_key=idempotency_key,
    )
    session.add(visit)
    session.flush()
    message = "走访已登记"
    if far:
        message += (
            f"；定位点距住户 {distance:.0f} 米，超过 {settings.far_distance_m:.0f} 米，已标记待核实"
        )
    if data.incident_id is not None and not verified:
        message += "；事件模块尚未启用，未核对事件编号"
    return _public(visit, staff.name, message, verified=verified), True


def _public(visit: Visit, worker_name: str, message: str, *, verified: bool = False) -> VisitPublic:
    point = to_shape(visit.location)
    return VisitPublic(
        id=visit.id,
        worker=WorkerOut(id=visit.worker_id, name=worker_name),
        household_id=visit.household_id,
        grid_code=visit.grid_code or "",
        visited_at=visit.visited_at,
        kind=visit.kind,
        lng=round(point.x, 7),
        lat=round(point.y, 7),
        input_crs=visit.input_crs or "",
        distance_m=visit.distance_m or 0.0,
        far_from_household=visit.far_from_household,
        notes=visit.notes,
        has_photo=visit.photo is not None,
        incident_id=visit.incident_id,
        incident_verified=verified or visit.incident_id is not None,
        message=message,
    )


def check_grid_access(session: Session, grid_code: str, scope: AreaScope, on: dt.date) -> None:
    """An active grid in the caller's area (outside it: the same 404 as a missing grid); a grid
    worker's own list covers only the grids they serve that day."""
    missing = f"找不到在用网格 {grid_code}"
    exists = session.scalar(
        text("SELECT 1 FROM grids WHERE code = :c AND status = 'active'"), {"c": grid_code}
    )
    if not exists:
        raise NotFound(missing, grid_code=grid_code)
    scope.require(grid_code, missing=missing)
    principal = scope.principal
    if (
        principal.role == Role.GRID_WORKER
        and principal.staff_id is not None
        and grid_code not in worker_grids(session, principal.staff_id, on)
    ):
        raise Forbidden(f"网格 {grid_code} 不是您负责的网格")


def due_list(
    session: Session,
    *,
    grid_code: str,
    scope: AreaScope,
    today: dt.date | None = None,
    rules: tuple[CadenceRule, ...] | None = None,
) -> DueList:
    """Households of a grid whose next visit is due by today, in the due list's order (ranking.py)."""
    today = today or dt.datetime.now(BEIJING).date()
    rules = rules or load_rules()
    check_grid_access(session, grid_code, scope, today)
    groups = scope.sees(Field.SPECIAL_GROUPS, grid_code)
    case, params = interval_sql(rules)
    rows = session.execute(
        text(
            "WITH hh AS (SELECT h.id, h.unit, h.room, h.special_groups, b.name AS building, "
            f"  b.compound, {case} AS interval_days "
            f"  FROM grids g JOIN households h ON {holds_point_sql('g', 'h.location')} "
            "  JOIN buildings b ON b.id = h.building_id "
            "  WHERE g.code = :grid AND g.status = 'active') "
            "SELECT hh.*, (SELECT max(v.visited_at) FROM visits v WHERE v.household_id = hh.id) "
            "  AS last FROM hh"
        ),
        {"grid": grid_code, **params},
    ).all()
    due: list[DueHousehold] = []
    for r in rows:
        rule = rule_for(r.special_groups, rules)
        last = r.last.astimezone(BEIJING) if r.last else None
        due_date = last.date() + dt.timedelta(days=rule.interval_days) if last else None
        if due_date is not None and due_date > today:
            continue
        # Which special group a household is in (and so its visit rule) only for those the policy
        # shows special groups to, there (a grid worker: the grids they serve).
        address = "".join(
            p for p in (r.compound, r.building, f"{r.unit}单元" if r.unit else "", r.room) if p
        )
        item = DueHousehold(
            household_id=r.id,
            grid_code=grid_code,
            address=address,
            special_groups=[GROUP_LABELS.get(g, g) for g in r.special_groups] if groups else [],
            rule=rule.label if groups else MASKED_RULE,
            interval_days=rule.interval_days,
            last_visited_at=last,
            due_date=due_date,
            days_overdue=(today - due_date).days if due_date else None,
        )
        item._special = rule.groups is not None
        due.append(item)
    rank_due(due)
    return DueList(
        grid_code=grid_code, grid_codes=[grid_code], date=today, count=len(due), households=due
    )


def due_list_for_worker(
    session: Session, *, scope: AreaScope, today: dt.date | None = None
) -> DueList:
    """A grid worker's whole list today: every grid they serve (a part-time worker may serve
    several), merged and ranked (ranking.py), so the phone page needs no GPS fix to show it."""
    today = today or dt.datetime.now(BEIJING).date()
    principal = scope.principal
    if principal.role != Role.GRID_WORKER or principal.staff_id is None:
        raise InvalidInput("grid: 请指定网格编码（只有登记了人员信息的网格员可省略）", field="grid")
    grids = sorted(worker_grids(session, principal.staff_id, today))
    rules = load_rules()
    due = [
        h
        for code in grids
        for h in due_list(session, grid_code=code, scope=scope, today=today, rules=rules).households
    ]
    rank_due(due)
    return DueList(grid_code=None, grid_codes=grids, date=today, count=len(due), households=due)


# ----------------------------------------------------------------------------- the visits map
# Only what a map needs leaves the database: no names, phones or notes (docs/domain.md); whether a
# household is in a special group is a yes/no, shown only where the caller sees special groups.


@dataclass(frozen=True)
class VisitPoint:
    id: int
    grid_code: str | None
    kind: str
    visited_at: dt.datetime
    far_from_household: bool
    lng: float
    lat: float


@dataclass(frozen=True)
class HouseholdPoint:
    id: int
    lng: float
    lat: float
    visited: bool  # visited at least once in the period
    special: bool  # in a special group, and the caller sees special groups there


def map_period(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The days ``start`` to ``end`` (both included) as Beijing-time instants [from, to)."""
    if end < start:
        raise InvalidInput("结束日期早于开始日期", field="end")
    return (
        dt.datetime.combine(start, dt.time(0), BEIJING),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), BEIJING),
    )


_VISIT_POINTS_SQL = """
    SELECT v.id, v.grid_code, v.kind, v.visited_at, v.far_from_household,
           ST_X(v.location) AS lng, ST_Y(v.location) AS lat
      FROM visits v
     WHERE {scope} AND v.location IS NOT NULL
       AND v.visited_at >= :start AND v.visited_at < :end
     ORDER BY v.visited_at
     LIMIT :limit
    """


def visit_points(
    session: Session, *, scope: AreaScope, start: dt.date, end: dt.date, limit: int
) -> list[VisitPoint]:
    """Visits in ``scope`` on the days ``start`` to ``end`` that have a location, oldest first."""
    t0, t1 = map_period(start, end)
    sql = text(_VISIT_POINTS_SQL.format(scope=scope.sql("v.grid_code")))
    rows = session.execute(sql, {"start": t0, "end": t1, "limit": limit, **scope.params()})
    return [VisitPoint(**r._mapping) for r in rows]


# A special-group household also gets the grid it lies in (its community when outside every grid),
# so that the flag follows the policy per grid (a grid worker: the grids they serve); the lookup
# runs for those few households only.
_HOUSEHOLD_POINTS_SQL = """
    SELECT h.id, cardinality(h.special_groups) > 0 AS special,
           CASE WHEN cardinality(h.special_groups) > 0 THEN coalesce(
                {grid_of}, b.community_code) END AS special_in,
           ST_X(h.location) AS lng, ST_Y(h.location) AS lat,
           EXISTS (SELECT 1 FROM visits v WHERE v.household_id = h.id
                    AND v.visited_at >= :start AND v.visited_at < :end) AS visited
      FROM households h JOIN buildings b ON b.id = h.building_id
     WHERE {scope}
     LIMIT :limit
    """


def household_points(
    session: Session, *, scope: AreaScope, start: dt.date, end: dt.date, limit: int
) -> list[HouseholdPoint]:
    """Households in ``scope`` (by their building's community; a grid by its polygon), each with
    whether it was visited on the days ``start`` to ``end``."""
    t0, t1 = map_period(start, end)
    where = community_filter(scope, "b.community_code", "h.location")
    sql = text(_HOUSEHOLD_POINTS_SQL.format(scope=where, grid_of=grid_of_point_sql("h.location")))
    rows = session.execute(sql, {"start": t0, "end": t1, "limit": limit, **scope.params()})
    return [
        HouseholdPoint(
            id=r.id,
            lng=r.lng,
            lat=r.lat,
            visited=r.visited,
            special=r.special and scope.sees(Field.SPECIAL_GROUPS, r.special_in),
        )
        for r in rows
    ]
