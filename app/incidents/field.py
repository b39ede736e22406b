"""Field work on the phone (docs/domain.md#field-tasks-the-phone): a worker's own cases (我的待办), the
likely duplicates of a report before it is sent, and photos taken while handling or checking a case.
No HTTP here."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, func, or_, select, text
from sqlalchemy.orm import Session

from app.auth.policy import Principal
from app.auth.scope import AreaScope
from app.errors import Conflict
from app.incidents import deadlines
from app.incidents import statemachine as sm
from app.incidents.config import IncidentSettings
from app.incidents.handling import STAGE
from app.incidents.intake import DUPLICATES, duplicate_params, get_category
from app.incidents.models import Incident
from app.incidents.service import now, record
from app.locate.service import check_coordinates, coord_system, to_storage

# ----------------------------------------------------------------------------- 我的待办

# 我的待办 by deadline colour: overdue, then due soon, then on time, then 挂账 (clock stopped);
# cases without a running clock (handled, awaiting the dispatcher) last.
URGENT_FIRST = ("red", "amber", "green", "paused")
# States in which a case waits on the workers of its grid whoever it is with (the lifecycle's
# "grid" party moves: 自行处置 of a reported case, the on-site check).
GRID_STATES = tuple(
    sorted({s for t in sm.TRANSITIONS.values() if t.party == "grid" for s in t.sources})
)


def mine_clause(principal: Principal, standing: sm.Standing) -> Any:
    """The cases that wait on the caller: not yet closed, and with one of their units or assigned
    to them; in the grids they serve, a case the dispatcher sent for an on-site check (核查中) and
    a case just reported (上报: the worker on the spot may resolve it, 自行处置)."""
    with_me = [Incident.assignee == principal.username]
    if standing.units:
        with_me.append(Incident.unit_code.in_(sorted(standing.units)))
    if standing.grids:
        with_me.append(
            and_(Incident.state.in_(GRID_STATES), Incident.grid_code.in_(sorted(standing.grids)))
        )
    return and_(Incident.state.in_(sm.IN_PROGRESS_STATES), or_(*with_me))


def my_cases(
    session: Session,
    *,
    scope: AreaScope,
    standing: sm.Standing,
    limit: int,
    offset: int,
) -> tuple[int, list[Incident]]:
    """The caller's cases (``mine_clause``) inside their jurisdiction, the most urgent first: by
    deadline light (``URGENT_FIRST``, the deadline view's colour: deadlines.light_sql), then the
    current stage's due time."""
    conds = [scope.clause(Incident.grid_code), mine_clause(scope.principal, standing)]
    total = session.scalar(select(func.count()).select_from(Incident).where(*conds)) or 0
    light = deadlines.light_sql(Incident, func.now())
    rank = case(*((light == c, i) for i, c in enumerate(URGENT_FIRST)), else_=len(URGENT_FIRST))
    rows = session.scalars(
        select(Incident)
        .where(*conds)
        .order_by(rank, Incident.stage_due_at.nulls_last(), Incident.deadline, Incident.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return int(total), list(rows)


# ----------------------------------------------------------------------------- duplicates first


def nearby_cases(
    session: Session,
    *,
    scope: AreaScope,
    settings: IncidentSettings,
    category_code: str,
    lng: float,
    lat: float,
    crs: str,
) -> list[dict[str, Any]]:
    """The open cases a report of ``category_code`` at this point would be offered as duplicates
    (intake's rule, ``intake.DUPLICATES``), among those the caller may read: what the phone shows
    before sending, so the worker can say "same case" instead of filing a second one."""
    cat = get_category(session, category_code)
    check_coordinates(lng, lat)
    x, y = to_storage(lng, lat, coord_system(crs))
    sql = text(
        f"WITH dup AS ({DUPLICATES}) "
        "SELECT dup.id, dup.case_no, dup.state, dup.reported_at, round(dup.d::numeric, 1) AS "
        "distance_m, left(i.description, 80) AS summary, i.address, i.grid_code "
        f"FROM dup JOIN incidents i ON i.id = dup.id WHERE {scope.sql('i.grid_code')} ORDER BY dup.d"
    )
    params = duplicate_params(settings, category_code=cat.code, x=x, y=y, at=now())
    rows = session.execute(sql, {**params, **scope.params()})
    return [
        {**r._mapping, "distance_m": float(r.distance_m), "state_label": sm.STATE_LABELS[r.state]}
        for r in rows
    ]


# ----------------------------------------------------------------------------- photos


# The moves a photo may document, and the stage it is filed under.
PHOTO_STAGES = {"handle": STAGE, "check_pass": "check", "check_fail": "check"}


def photo_stage(incident: Incident, moves: list[sm.Transition], version: int | None) -> str:
    """The stage a photo taken now is filed under: the handling or the on-site check the caller may
    do now (``moves``: statemachine.moves_for); otherwise 409 naming what they may do. A stale
    ``version`` is a 409 too."""
    stage = next((PHOTO_STAGES[m.action] for m in moves if m.action in PHOTO_STAGES), None)
    if stage is None:
        raise Conflict(
            f"案件 {incident.case_no} 当前为“{sm.STATE_LABELS[incident.state]}”，您不能为其上传处置或核查照片；"
            f"您可执行的操作：{sm.describe(moves)}",
            current_state=incident.state,
            allowed=[m.action for m in moves],
        )
    if version is not None and version != incident.version:
        raise Conflict(
            f"事件已被他人修改（您看到的是第 {version} 版，当前为第 {incident.version} 版），请刷新后重试",
            current_version=incident.version,
            current_state=incident.state,
        )
    return stage


def attach_photos(
    session: Session,
    incident: Incident,
    records: list[dict[str, Any]],
    *,
    principal: Principal,
    stage: str,
) -> None:
    """File ``records`` (stored photos) on the case under ``stage`` and this round (the case's
    rework count), with an event; the case's version goes up, as for any change."""
    stamp = now()
    added = [
        {
            **r,
            "stage": stage,
            "round": incident.rework_count,
            "by": principal.username,
            "at": stamp.isoformat(),
        }
        for r in records
    ]
    incident.photos = [*incident.photos, *added]
    incident.version += 1
    incident.updated_at = stamp
    session.flush()
    record(
        session,
        incident,
        action="add_photos",
        from_state=incident.state,
        actor=principal,
        data={"stage": stage, "count": len(added)},
    )
