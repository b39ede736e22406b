"""Incident operations: reading and lifecycle transitions (no HTTP here; intake is in intake.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from geoalchemy2.shape import to_shape
from sqlalchemy import ColumnElement, Integer, Numeric, Text, case, func, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from app.auth.policy import Field, Principal, mask_name, mask_phone, role_label, roles_label
from app.auth.scope import AreaScope
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.incidents import statemachine as sm
from app.incidents.calendar import WorkingCalendar
from app.incidents.models import Incident, IncidentCategory, IncidentEvent, OutboxMessage
from app.incidents.schemas import DuplicateOut, IncidentPublic, TransitionIn

TIERS = ("grid", "community", "township", "county")


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def record(
    session: Session,
    incident: Incident,
    *,
    action: str,
    from_state: str | None,
    actor: Principal,
    note: str = "",
    data: dict[str, Any] | None = None,
) -> None:
    """History row and outbox message, in the caller's transaction (both or neither)."""
    session.add(
        IncidentEvent(
            incident_id=incident.id,
            action=action,
            from_state=from_state,
            to_state=incident.state,
            actor=actor.username,
            role=actor.role,
            note=note,
            data=data or {},
        )
    )
    session.add(
        OutboxMessage(
            incident_id=incident.id,
            kind=f"incident.{action}",
            payload={
                "case_no": incident.case_no,
                "action": action,
                "state": incident.state,
                "grid_code": incident.grid_code,
                "tier": TIERS[incident.tier],
                "supervised": incident.supervised,
                "deadline": incident.deadline.isoformat(),
                "actor": actor.username,
                "note": note,
            },
        )
    )


MISSING = "事件不存在"


def get_incident(
    session: Session, incident_id: int, *, scope: AreaScope, lock: bool = False
) -> Incident:
    stmt = select(Incident).where(Incident.id == incident_id)
    if lock:
        stmt = stmt.with_for_update()
    incident = session.scalar(stmt)
    # A case outside the caller's area is answered exactly like a missing one: a 403 naming its
    # case number and grid would tell the caller that the case exists and where (docs/public.md).
    if incident is None:
        raise NotFound(MISSING)
    scope.require(incident.grid_code, missing=MISSING)
    return incident


def transition(
    session: Session,
    *,
    incident_id: int,
    body: TransitionIn,
    scope: AreaScope,
    calendar: WorkingCalendar,
) -> Incident:
    """One move of the lifecycle table (statemachine.TRANSITIONS) by the caller of ``scope``."""
    principal = scope.principal
    # FOR UPDATE: two concurrent edits of one case are serialised; the second sees the new version.
    incident = get_incident(session, incident_id, scope=scope, lock=True)
    t = sm.TRANSITIONS[body.action]
    if incident.state not in t.sources:
        raise Conflict(
            f"事件当前状态为“{sm.STATE_LABELS[incident.state]}”（{incident.state}），不能执行“{t.label}”；"
            f"允许的操作：{sm.describe_allowed(incident.state)}",
            current_state=incident.state,
            allowed=sm.allowed_actions(incident.state),
        )
    if principal.role not in t.roles:
        raise Forbidden(
            f"“{t.label}”仅限{roles_label(t.roles)}；当前角色为{role_label(principal.role)}",
            action=t.action,
        )
    if body.version != incident.version:
        raise Conflict(
            f"事件已被他人修改（您看到的是第 {body.version} 版，当前为第 {incident.version} 版），请刷新后重试",
            current_version=incident.version,
            current_state=incident.state,
        )
    if t.action == "evaluate" and body.satisfaction is None:
        raise InvalidInput("satisfaction: 回访评价需要填写满意度", field="satisfaction")
    if t.action == "extend" and body.extension_hours is None:
        raise InvalidInput("extension_hours: 延期需要填写延长的工作小时数", field="extension_hours")
    if t.action in ("dispatch", "reassign") and not body.assignee:
        raise InvalidInput("assignee: 派遣/改派需要指定处置人", field="assignee")
    _apply(session, incident, t, principal, body.note, calendar, body)
    return incident


def _apply(
    session: Session,
    incident: Incident,
    t: sm.Transition,
    principal: Principal,
    note: str,
    calendar: WorkingCalendar,
    body: TransitionIn | None = None,
) -> None:
    stamp = now()
    before = incident.state
    data: dict[str, Any] = {}
    a = t.action
    if a in ("dispatch", "reassign") and body is not None:
        incident.assignee = body.assignee
        data["assignee"] = body.assignee
    elif a == "return":
        incident.assignee = None
    elif a == "extend" and body is not None and body.extension_hours is not None:
        old = incident.deadline
        incident.deadline = calendar.add(old, body.extension_hours, "working_hours")
        incident.escalate_at = incident.deadline if incident.tier < 3 else None
        incident.extension_count += 1
        data.update(old_deadline=old.isoformat(), new_deadline=incident.deadline.isoformat())
    elif a == "handle":
        incident.handled_at = stamp
    elif a == "rework":
        incident.handled_at = None
        incident.rework_count += 1
    elif a == "close":
        incident.closed_at = stamp
    elif a == "evaluate" and body is not None:
        incident.evaluated_at = stamp
        incident.satisfaction = body.satisfaction
        data["satisfaction"] = body.satisfaction
    elif a == "resolve_on_spot":
        incident.handled_at = incident.closed_at = stamp
        incident.on_spot = True
        incident.assignee = principal.username
    elif a == "escalate":
        if incident.tier >= 3:
            raise Conflict("事件已在县级，无法继续升级", tier=TIERS[incident.tier])
        data["from_tier"] = TIERS[incident.tier]
        incident.tier += 1
        incident.supervised = True
        incident.escalation_count += 1
        data["to_tier"] = TIERS[incident.tier]
    incident.state = t.target_from(before)
    incident.version += 1
    incident.updated_at = stamp
    session.flush()
    record(session, incident, action=a, from_state=before, actor=principal, note=note, data=data)


def to_public(
    incident: Incident,
    principal: Principal,
    *,
    category_name: str | None = None,
    duplicates: list[DuplicateOut] | None = None,
    at: dt.datetime | None = None,
) -> IncidentPublic:
    point = to_shape(incident.location)
    # Masks come from the policy (UNMASKED): the reporter's name and phone, and the routing answer
    # stored at intake (it names the grid's staff and their phones).
    reporter = principal.sees(Field.REPORTER_CONTACT, incident.grid_code)
    staff = principal.sees(Field.STAFF_PHONE, incident.grid_code)
    moment = at or now()
    overdue = (incident.handled_at or moment) > incident.deadline and incident.state not in (
        "rejected",
        "voided",
    )
    return IncidentPublic(
        id=incident.id,
        case_no=incident.case_no,
        token=incident.token,
        category_code=incident.category_code,
        category_name=category_name,
        urgent=incident.urgent,
        description=incident.description,
        address=incident.address,
        source=incident.source,
        reporter_name=incident.reporter_name if reporter else mask_name(incident.reporter_name),
        reporter_phone=incident.reporter_phone if reporter else mask_phone(incident.reporter_phone),
        lng=point.x,
        lat=point.y,
        grid_code=incident.grid_code,
        community_code=incident.community_code,
        township_code=incident.township_code,
        leader_name=incident.leader_name,
        assignee=incident.assignee,
        state=incident.state,
        state_label=sm.STATE_LABELS[incident.state],
        tier=TIERS[incident.tier],
        supervised=incident.supervised,
        version=incident.version,
        reported_at=incident.reported_at,
        deadline=incident.deadline,
        handled_at=incident.handled_at,
        closed_at=incident.closed_at,
        evaluated_at=incident.evaluated_at,
        satisfaction=incident.satisfaction,
        extension_count=incident.extension_count,
        rework_count=incident.rework_count,
        escalation_count=incident.escalation_count,
        on_spot=incident.on_spot,
        overdue=overdue,
        photos=incident.photos,
        allowed_actions=sm.allowed_actions(incident.state),
        locate=incident.locate if staff else None,
        duplicates=duplicates or [],
    )


def category_names(session: Session) -> dict[str, str]:
    return {
        r.code: r.name
        for r in session.execute(select(IncidentCategory.code, IncidentCategory.name))
    }


def case_filters(
    scope: AreaScope,
    *,
    states: Sequence[str] = (),
    category: str | None = None,
    supervised: bool | None = None,
) -> list[ColumnElement[bool]]:
    """Which cases a listing shows, for the API's list and the map layer alike: inside ``scope``
    (the caller's jurisdiction, or the area they asked for), in one of ``states`` (all when none),
    of ``category`` (a code or the code of its class), supervised or not."""
    conds = [scope.clause(Incident.grid_code)]
    if states:
        conds.append(Incident.state.in_(states))
    if category:
        conds.append(Incident.category_code.startswith(category, autoescape=True))
    if supervised is not None:
        conds.append(Incident.supervised.is_(supervised))
    return conds


def list_incidents(
    session: Session,
    *,
    scope: AreaScope,
    state: str | None = None,
    category: str | None = None,
    supervised: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[Incident]]:
    """Cases in ``scope`` (the caller's jurisdiction, or the area they asked for), newest first."""
    conds = case_filters(
        scope, states=[state] if state else (), category=category, supervised=supervised
    )
    total = session.scalar(select(func.count()).select_from(Incident).where(*conds)) or 0
    rows = session.scalars(
        select(Incident).where(*conds).order_by(Incident.id.desc()).limit(limit).offset(offset)
    ).all()
    return int(total), list(rows)


def _key(name: str) -> ColumnElement[Any]:
    """A constant JSON key or value in SQL (fixed names only, never input)."""
    return literal_column(f"'{name}'")


def cases_geojson(
    session: Session,
    *,
    scope: AreaScope,
    states: Sequence[str],
    category: str | None = None,
    overdue_only: bool = False,
    soon: dt.timedelta,
    limit: int,
) -> str:
    """Cases (``case_filters``) as one GeoJSON FeatureCollection text for a map, soonest deadline
    first, each classed by its deadline: ``overdue`` (passed), ``due_soon`` (within ``soon``) or
    ``on_time``. A map needs every open case of an area at once but only a few fields each, so
    PostgreSQL builds the whole text: 5,000 cases in a few tens of ms, no Python object per case."""
    conds = case_filters(scope, states=states, category=category)
    if overdue_only:
        conds.append(Incident.deadline <= func.now())
    left = Incident.deadline - func.now()
    urgency = case(
        (Incident.deadline <= func.now(), "overdue"),
        (left <= soon, "due_soon"),
        else_="on_time",
    )
    c = (
        select(
            Incident.id,
            Incident.case_no,
            Incident.state,
            Incident.category_code,
            IncidentCategory.name.label("category_name"),
            Incident.urgent,
            Incident.grid_code,
            Incident.supervised,
            Incident.tier,
            Incident.deadline,
            Incident.reported_at,
            Incident.assignee,
            func.left(Incident.description, 60).label("summary"),
            urgency.label("urgency"),
            func.floor(func.extract("epoch", left) / 60).cast(Integer).label("minutes_left"),
            func.round(func.ST_X(Incident.location).cast(Numeric), 6).label("lng"),
            func.round(func.ST_Y(Incident.location).cast(Numeric), 6).label("lat"),
        )
        .outerjoin(IncidentCategory, IncidentCategory.code == Incident.category_code)
        .where(*conds)
        .order_by(Incident.deadline)
        .limit(limit)
        .cte("c")
    )
    shown = [col for col in c.c if col.name not in ("lng", "lat")]
    feature = func.json_build_object(
        _key("type"),
        _key("Feature"),
        _key("id"),
        c.c.id,
        _key("geometry"),
        func.json_build_object(
            _key("type"),
            _key("Point"),
            _key("coordinates"),
            func.json_build_array(c.c.lng, c.c.lat),
        ),
        _key("properties"),
        func.json_build_object(*(arg for col in shown for arg in (_key(col.name), col))),
    )
    collection = func.json_build_object(
        _key("type"),
        _key("FeatureCollection"),
        _key("numberMatched"),
        func.count(),
        _key("features"),
        func.coalesce(
            func.json_agg(aggregate_order_by(feature, c.c.deadline)), literal_column("'[]'::json")
        ),
    )
    return str(session.execute(select(collection.cast(Text)).select_from(c)).scalar_one())
