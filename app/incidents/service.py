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
from app.errors import Conflict, InvalidInput, NotFound
from app.incidents import deadlines, search
from app.incidents import statemachine as sm
from app.incidents.calendar import WorkingCalendar, default_calendar
from app.incidents.handling import require_handling_photo
from app.incidents.models import Incident, IncidentCategory, IncidentEvent, OutboxMessage
from app.incidents.public import follow_path
from app.incidents.schemas import (
    ActionOut,
    DeadlineOut,
    DuplicateOut,
    IncidentPublic,
    IncidentsPublic,
    TransitionIn,
)
from app.locate.registry import today
from app.units.models import Unit
from app.units.service import check_target, standing, tier_unit, unit_cases_clause

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
                # The unit (and person) the case is with now: who a notification is for.
                "unit_code": incident.unit_code,
                "assignee": incident.assignee,
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
    principal = scope.principal
    if principal.unit_bound and not _units_case(session, principal, incident):
        raise NotFound(MISSING)
    return incident


def _units_case(session: Session, principal: Principal, incident: Incident) -> bool:
    """A unit's staff see the cases of their unit, and those assigned to them."""
    mine = standing(session, principal, today())
    return mine.holds(principal, incident.unit_code, incident.assignee)


def standing_of(session: Session, principal: Principal) -> sm.Standing:
    """The caller's units and grids today (app/units/service.py)."""
    return standing(session, principal, today())


def actions_for(principal: Principal, incident: Incident, standing: sm.Standing) -> list[ActionOut]:
    """Contract for every page: exactly the moves ``principal`` may make on ``incident`` now."""
    return [
        ActionOut(action=t.action, label=t.label, needs=list(t.needs))
        for t in sm.moves_for(principal, incident, standing)
    ]


def _refusal(
    principal: Principal, incident: Incident, t: sm.Transition, standing: sm.Standing
) -> str:
    """Why ``t`` is not among the caller's moves, in words a person can act on."""
    state = f"“{sm.STATE_LABELS[incident.state]}”（{incident.state}）"
    if incident.state not in t.sources:
        return f"事件当前状态为{state}，不能执行“{t.label}”"
    if principal.role not in t.roles:
        return f"“{t.label}”仅限{roles_label(t.roles)}；当前角色为{role_label(principal.role)}"
    why = deadlines.refusal(incident, t.action)  # 挂账, a pending request, the extension limit
    if why is not None:
        return why
    if t.party == "unit":
        return f"“{t.label}”仅限本案承办单位（{incident.unit_code or '未派遣'}）的人员或指定处置人"
    if t.party == "grid":
        return f"“{t.label}”仅限本案所在网格 {incident.grid_code} 的网格员"
    if t.action == "escalate":
        return "事件已在县级，无法继续升级"
    return f"不能执行“{t.label}”"


def _required(t: sm.Transition, body: TransitionIn) -> None:
    """The fields the move needs (statemachine: ``needs``), each a 422 naming it."""
    words = {
        "unit": "承办单位",
        "note": "理由（备注）",
        "satisfaction": "满意度",
        "extension_hours": "延长的工作小时数",
    }
    for name in t.required:
        value = getattr(body, name, None)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise InvalidInput(f"{name}: “{t.label}”需要填写{words.get(name, name)}", field=name)


def transition(
    session: Session,
    *,
    incident_id: int,
    body: TransitionIn,
    scope: AreaScope,
    calendar: WorkingCalendar,
    escalation_share: float = 1.0,
) -> Incident:
    """One move of the lifecycle table by the caller of ``scope``: only a move of
    ``statemachine.moves_for`` (a 409 listing those otherwise), with the fields it needs."""
    principal = scope.principal
    # FOR UPDATE: two concurrent edits of one case are serialised; the second sees the new version.
    incident = get_incident(session, incident_id, scope=scope, lock=True)
    t = sm.TRANSITIONS[body.action]
    standing = standing_of(session, principal)
    moves = sm.moves_for(principal, incident, standing)
    if t not in moves:
        allowed = [m.action for m in moves]
        raise Conflict(
            f"{_refusal(principal, incident, t, standing)}；您可执行的操作：{sm.describe(moves)}",
            current_state=incident.state,
            allowed=allowed,
            actions=[a.model_dump() for a in actions_for(principal, incident, standing)],
        )
    if body.version != incident.version:
        raise Conflict(
            f"事件已被他人修改（您看到的是第 {body.version} 版，当前为第 {incident.version} 版），请刷新后重试",
            current_version=incident.version,
            current_state=incident.state,
        )
    _required(t, body)
    if t.action == "handle":  # a photo when the category's close condition asks for one
        require_handling_photo(session, incident)
    _apply(session, incident, t, principal, body.note, calendar, body, escalation_share)
    return incident


def rule_move(
    session: Session,
    incident: Incident,
    action: str,
    *,
    actor: Principal,
    note: str,
    calendar: WorkingCalendar,
    escalation_share: float = 1.0,
) -> None:
    """A move a rule makes on the case's behalf rather than a person's choice among their moves (a
    resident's 不满意 reopens it: app/incidents/rating.py): the table's effects, no caller checks."""
    t = sm.TRANSITIONS[action]
    _apply(session, incident, t, actor, note, calendar, None, escalation_share)


def _apply(
    session: Session,
    incident: Incident,
    t: sm.Transition,
    principal: Principal,
    note: str,
    calendar: WorkingCalendar,
    body: TransitionIn | None = None,
    escalation_share: float = 1.0,
) -> None:
    stamp = now()
    before = incident.state
    data: dict[str, Any] = {}
    a = t.action
    if a in ("dispatch", "reassign") and body is not None and body.unit is not None:
        unit = check_target(
            session,
            grid_code=incident.grid_code,
            unit_code=body.unit,
            assignee=body.assignee,
            day=today(),
        )
        data.update(from_unit=incident.unit_code, unit=unit.code, assignee=body.assignee)
        incident.unit_code, incident.assignee = unit.code, body.assignee
    elif a == "return":
        # 退回: the unit gives the case back to the dispatcher with its reason.
        data.update(unit=incident.unit_code, assignee=incident.assignee, reason=note)
        incident.unit_code = incident.assignee = None
    elif a == "reopen":
        # Back to the unit that handled it (an on-the-spot case: its grid's unit).
        if incident.unit_code is None:
            grid_unit = tier_unit(session, "grid", incident.grid_code)
            incident.unit_code = grid_unit.code if grid_unit else None
        data.update(
            unit=incident.unit_code,
            reason=note,
            old_handled_at=incident.handled_at.isoformat() if incident.handled_at else None,
            old_closed_at=incident.closed_at.isoformat() if incident.closed_at else None,
        )
        incident.handled_at = incident.closed_at = None
    elif a == "request_check":
        data["grid"] = incident.grid_code
    elif a == "check_fail":
        incident.handled_at = None
        incident.rework_count += 1
        data.update(unit=incident.unit_code, reason=note)
    elif a in deadlines.MOVES:
        # 延期 and 挂账: requests, decisions, 恢复 (app/incidents/deadlines.py).
        hours = body.extension_hours if body is not None else None
        data.update(
            deadlines.apply_move(
                incident, a, actor=principal.username, note=note, hours=hours, at=stamp,
                calendar=calendar,
            )
        )  # fmt: skip
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
        if incident.tier >= sm.TOP_TIER:
            raise Conflict("事件已在县级，无法继续升级", tier=TIERS[incident.tier])
        data["from_tier"] = TIERS[incident.tier]
        incident.tier += 1
        incident.supervised = True
        incident.escalation_count += 1
        data["to_tier"] = TIERS[incident.tier]
        # The next tier's unit answers for the case from now on (and is notified: outbox).
        up = tier_unit(session, TIERS[incident.tier], incident.grid_code)
        if up is not None:
            data.update(from_unit=incident.unit_code, unit=up.code)
            incident.unit_code, incident.assignee = up.code, None
    incident.state = t.target_from(before)
    deadlines.after_move(
        incident, a, before, stamp, calendar, deadlines.default_policy(),
        escalation_share=escalation_share,
    )  # fmt: skip
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
    standing: sm.Standing | None = None,
    unit_name: str | None = None,
) -> IncidentPublic:
    point = to_shape(incident.location)
    # Masks come from the policy (UNMASKED): the reporter's name and phone, and the routing answer
    # stored at intake (it names the grid's staff and their phones).
    reporter = principal.sees(Field.REPORTER_CONTACT, incident.grid_code)
    staff = principal.sees(Field.STAFF_PHONE, incident.grid_code)
    moment = at or now()
    # Without the caller's standing (intake), their grids alone: memberships are not read there.
    actions = actions_for(
        principal, incident, standing or sm.Standing(grids=principal.served_grids)
    )
    # Judged when handled, or when the clock stopped (挂账), or now.
    until = incident.handled_at or incident.paused_since or moment
    overdue = until > incident.deadline and incident.state not in (
        "rejected",
        "voided",
    )
    return IncidentPublic(
        id=incident.id,
        case_no=incident.case_no,
        token=incident.token,
        follow_url=follow_path(incident.token),
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
        unit_code=incident.unit_code,
        unit_name=unit_name,
        assignee=incident.assignee,
        state=incident.state,
        state_label=sm.STATE_LABELS[incident.state],
        tier=TIERS[incident.tier],
        supervised=incident.supervised,
        version=incident.version,
        reported_at=incident.reported_at,
        deadline=deadline_out(incident, moment),
        due_at=incident.deadline,
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
        actions=actions,
        allowed_actions=[m.action for m in actions],
        locate=incident.locate if staff else None,
        duplicates=duplicates or [],
    )


def deadline_out(incident: Incident, at: dt.datetime) -> DeadlineOut | None:
    """The case's clock as the case output carries it (deadlines.light)."""
    view = deadlines.light(incident, at, default_calendar())
    return None if view is None else DeadlineOut.model_validate(view, from_attributes=True)


def unit_names(session: Session, codes: set[str | None]) -> dict[str | None, str]:
    wanted = sorted(c for c in codes if c)
    if not wanted:
        return {}
    rows = session.execute(select(Unit.code, Unit.name).where(Unit.code.in_(wanted)))
    return {code: name for code, name in rows}


def public_view(session: Session, incident: Incident, principal: Principal) -> IncidentPublic:
    """One case as ``principal`` sees it, with the moves they may make on it now."""
    names = category_names(session)
    return to_public(
        incident,
        principal,
        category_name=names.get(incident.category_code),
        standing=standing_of(session, principal),
        unit_name=unit_names(session, {incident.unit_code}).get(incident.unit_code),
    )


def public_list(
    session: Session,
    total: int,
    rows: Sequence[Incident],
    principal: Principal,
    standing: sm.Standing | None = None,
) -> IncidentsPublic:
    """A page of cases as ``principal`` sees them, each with the moves they may make on it now
    (``standing``: the caller's units and grids, read once for the page when not given)."""
    names = category_names(session)
    standing = standing if standing is not None else standing_of(session, principal)
    units = unit_names(session, {r.unit_code for r in rows})
    return IncidentsPublic(
        count=total,
        data=[
            to_public(
                r,
                principal,
                category_name=names.get(r.category_code),
                standing=standing,
                unit_name=units.get(r.unit_code),
            )
            for r in rows
        ],
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
    if scope.principal.unit_bound:
        conds.append(unit_cases_clause(scope.principal, today()))
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
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[Incident]]:
    """Cases in ``scope`` (the caller's jurisdiction, or the area they asked for), newest first;
    ``q``: those answering to a case number, a whole phone number or a part of an address
    (app/incidents/search.py)."""
    conds = case_filters(
        scope, states=[state] if state else (), category=category, supervised=supervised
    )
    if q is not None:
        conds.append(search.matches(q))
    total = session.scalar(select(func.count()).select_from(Incident).where(*conds)) or 0
    rows = session.scalars(
        select(Incident).where(*conds).order_by(Incident.id.desc()).limit(limit).offset(offset)
    ).all()
    return int(total), list(rows)


def _key(name: str) -> ColumnElement[Any]:
    """A constant JSON key or value in SQL (fixed names only, never input)."""
    return literal_column(f"'{name}'")


# The cases layer's urgency classes (``cases_geojson``), named as the deadline lights they show
# (deadlines.LIGHT_LABELS): pages take their labels from GET /api/v1/meta.
URGENCY_LIGHTS = {"overdue": "red", "due_soon": "amber", "on_time": "green"}


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
    if overdue_only:  # the red light of the current stage's clock (deadlines.light_sql)
        conds.append(deadlines.light_sql(Incident, func.now()) == "red")
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
            # The case's light and current stage's due time (deadlines.light, the same rule).
            deadlines.light_sql(Incident, func.now()).label("light"),
            Incident.stage_due_at.label("stage_due_at"),
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
