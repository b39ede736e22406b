"""Task admission (网格事务准入, docs/party.md#task-admission): a county's list of the kinds of work
grid workers may be given, tasks given by departments and checked against it, a worker's own
tasks, and the load per worker by kind. No HTTP here."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from app.admission.models import TASK_STATE_LABELS, GridTask, TaskKind
from app.admission.schemas import KindIn, TaskIn
from app.areas.service import current_names
from app.auth.models import User
from app.auth.policy import Action, Resource, allowed_roles, personal_only
from app.auth.scope import AreaScope
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.grids.models import Grid
from app.locate.registry import CHINA_TZ, today
from app.staff.models import Staff, StaffAssignment
from app.units.models import Unit, UnitMember

# Where a person reads the admission list (named in every refusal).
LIST_PAGE = "/admission"
COUNTY_DIGITS = 6


# ----------------------------------------------------------------------------- the list


def county_of(scope: AreaScope) -> str:
    """The county whose list the request is about: the caller's (or the named area's) county."""
    if len(scope.prefix) < COUNTY_DIGITS:
        raise InvalidInput("area: 请指定县级区划（6 位编码）以查看其准入清单", field="area")
    return scope.prefix[:COUNTY_DIGITS]


def list_kinds(session: Session, county: str, *, active_only: bool = False) -> list[TaskKind]:
    conds: list[Any] = [TaskKind.county_code == county]
    if active_only:
        conds.append(TaskKind.active)
    return list(
        session.scalars(
            select(TaskKind).where(*conds).order_by(TaskKind.active.desc(), TaskKind.id)
        )
    )


def _clean(name: str) -> str:
    return " ".join(name.split())


def add_kind(session: Session, scope: AreaScope, body: KindIn) -> TaskKind:
    county = county_of(scope)
    name = _clean(body.name)
    if not name:
        raise InvalidInput("name: 事务名称不能为空", field="name")
    existing = session.scalar(
        select(TaskKind).where(TaskKind.county_code == county, TaskKind.name == name)
    )
    if existing is not None:
        raise Conflict(
            f"准入清单中已有“{name}”" + ("" if existing.active else "（已停用，可编辑后重新启用）"),
            existing_id=existing.id,
        )
    kind = TaskKind(
        county_code=county,
        name=name,
        description=body.description.strip(),
        active=body.active,
        updated_by=scope.principal.username,
    )
    session.add(kind)
    session.flush()
    return kind


def update_kind(session: Session, scope: AreaScope, kind_id: int, body: KindIn) -> TaskKind:
    kind = session.get(TaskKind, kind_id)
    if kind is None or not (scope.covers(kind.county_code) or kind.county_code == county_of(scope)):
        raise NotFound(f"准入事务 {kind_id} 不存在")
    name = _clean(body.name)
    clash = session.scalar(
        select(TaskKind.id).where(
            TaskKind.county_code == kind.county_code, TaskKind.name == name, TaskKind.id != kind.id
        )
    )
    if clash is not None:
        raise Conflict(f"准入清单中已有“{name}”", existing_id=clash)
    kind.name, kind.description, kind.active = name, body.description.strip(), body.active
    kind.updated_by = scope.principal.username
    kind.updated_at = func.now()  # type: ignore[assignment]
    session.flush()
    session.refresh(kind)
    return kind


# ----------------------------------------------------------------------------- giving a task


def _refused(county_name: str, kind: str, admitted: list[str], *, removed: bool) -> InvalidInput:
    why = "已移出" if removed else "不在"
    return InvalidInput(
        f"任务类型“{kind}”{why}{county_name}网格事务准入清单，不能派给网格员。"
        f"请对照准入清单（{LIST_PAGE}）选择清单内的事务，或请县级管理员将其列入清单",
        field="kind",
        kind=kind,
        admission_list=LIST_PAGE,
        admitted=admitted,
    )


def admitted_kind(session: Session, county: str, name: str) -> TaskKind:
    """The county's listed kind called ``name``; a kind off the list is a 422 naming it and the
    list (the admission rule: 准入清单之外的事务不得派给网格员)."""
    name = _clean(name)
    kinds = list_kinds(session, county)
    admitted = [k.name for k in kinds if k.active]
    found = next((k for k in kinds if k.name == name), None)
    if found is None or not found.active:
        county_name = current_names(session, [county]).get(county, county)
        raise _refused(county_name, name, admitted, removed=found is not None)
    return found


def _my_units(session: Session, username: str, day: dt.date) -> list[str]:
    return list(
        session.scalars(
            select(UnitMember.unit_code)
            .where(
                UnitMember.username == username,
                UnitMember.valid_from <= day,
                or_(UnitMember.valid_to.is_(None), UnitMember.valid_to >= day),
            )
            .order_by(UnitMember.unit_code)
        )
    )


def _giving_unit(session: Session, scope: AreaScope, asked: str | None) -> str | None:
    """The unit a task is given in the name of: a unit's member gives it for their unit; the county
    and township offices may name a unit or give it themselves (None)."""
    principal = scope.principal
    if principal.unit_bound:
        mine = _my_units(session, principal.username, today())
        if asked is not None:
            if asked not in mine:
                raise Forbidden(f"您不是单位 {asked} 的在职人员，不能以其名义派发任务")
            return asked
        if not mine:
            raise Forbidden("您目前不属于任何承办单位，不能派发网格事务")
        if len(mine) > 1:
            raise InvalidInput(
                f"unit_code: 您属于多个单位（{'、'.join(mine)}），请指定以哪个单位派发",
                field="unit_code",
            )
        return mine[0]
    if asked is not None and session.scalar(select(Unit.code).where(Unit.code == asked)) is None:
        raise InvalidInput(f"unit_code: 单位 {asked} 不存在", field="unit_code")
    return asked


def grid_workers(session: Session, grid_code: str, day: dt.date) -> list[tuple[str, str]]:
    """(username, name) of the accounts that take tasks in ``grid_code`` on ``day``: the grid's
    leader first, then its workers."""
    takers = sorted(allowed_roles(Resource.GRID_TASK, Action.UPDATE))
    rows = session.execute(
        select(User.username, Staff.name)
        .join(StaffAssignment, StaffAssignment.staff_id == User.staff_id)
        .join(Staff, Staff.id == User.staff_id)
        .where(
            StaffAssignment.grid_code == grid_code,
            StaffAssignment.role.in_(("leader", "worker")),
            StaffAssignment.start_date <= day,
            or_(StaffAssignment.end_date.is_(None), StaffAssignment.end_date >= day),
            User.role.in_(takers),
            User.is_active,
        )
        .order_by(case((StaffAssignment.role == "leader", 0), else_=1), User.username)
    ).all()
    seen: dict[str, str] = {}
    for username, name in rows:
        seen.setdefault(username, name)
    return list(seen.items())


def give_task(session: Session, scope: AreaScope, body: TaskIn) -> GridTask:
    """A task for a grid worker: inside the caller's area, of a kind on the county's admission list
    (else 422 naming the kind and the list), to a worker of the grid (by default its leader)."""
    missing = f"网格 {body.grid_code} 不存在"
    scope.require(body.grid_code, missing=missing)
    active = session.scalar(
        select(Grid.code).where(Grid.code == body.grid_code, Grid.status == "active")
    )
    if active is None:
        raise NotFound(missing)
    kind = admitted_kind(session, body.grid_code[:COUNTY_DIGITS], body.kind)
    unit = _giving_unit(session, scope, body.unit_code)
    day = today()
    if body.due_on is not None and body.due_on < day:
        raise InvalidInput("due_on: 完成期限不能早于今天", field="due_on")
    workers = grid_workers(session, body.grid_code, day)
    if not workers:
        raise InvalidInput(
            f"grid_code: 网格 {body.grid_code} 目前没有网格员账号，任务无法派发", field="grid_code"
        )
    assignee = body.assignee or workers[0][0]
    if assignee not in dict(workers):
        raise InvalidInput(
            f"assignee: 账号 {assignee} 不是网格 {body.grid_code} 的在岗网格员", field="assignee"
        )
    task = GridTask(
        kind_id=kind.id,
        grid_code=body.grid_code,
        assignee=assignee,
        unit_code=unit,
        title=body.title.strip(),
        detail=body.detail.strip(),
        due_on=body.due_on,
        created_by=scope.principal.username,
    )
    session.add(task)
    session.flush()
    return task


# ----------------------------------------------------------------------------- reading, doing


def _visible(scope: AreaScope, session: Session) -> list[Any]:
    conds: list[Any] = [scope.clause(GridTask.grid_code)]
    principal = scope.principal
    if personal_only(principal, Resource.GRID_TASK):
        conds.append(GridTask.assignee == principal.username)
    elif principal.unit_bound:
        conds.append(GridTask.unit_code.in_(_my_units(session, principal.username, today())))
    return conds


def list_tasks(
    session: Session,
    scope: AreaScope,
    *,
    state: str | None,
    mine: bool,
    limit: int,
    offset: int,
) -> tuple[int, list[dict[str, Any]]]:
    conds = _visible(scope, session)
    if mine:
        conds.append(GridTask.assignee == scope.principal.username)
    if state is not None:
        conds.append(GridTask.state == state)
    total = session.scalar(select(func.count()).select_from(GridTask).where(*conds)) or 0
    rows = list(
        session.scalars(
            select(GridTask)
            .where(*conds)
            .order_by(
                case((GridTask.state == "open", 0), else_=1),
                GridTask.due_on.nulls_last(),
                GridTask.id.desc(),
            )
            .limit(limit)
            .offset(offset)
        )
    )
    return int(total), describe(session, rows)


def describe(session: Session, tasks: list[GridTask]) -> list[dict[str, Any]]:
    kinds = {
        i: n
        for i, n in session.execute(
            select(TaskKind.id, TaskKind.name).where(TaskKind.id.in_({t.kind_id for t in tasks}))
        )
    }
    grids = {
        c: n
        for c, n in session.execute(
            select(Grid.code, Grid.name).where(
                Grid.code.in_({t.grid_code for t in tasks}), Grid.status == "active"
            )
        )
    }
    units = {
        c: n
        for c, n in session.execute(
            select(Unit.code, Unit.name).where(
                Unit.code.in_({t.unit_code for t in tasks if t.unit_code})
            )
        )
    }
    people = _names(session, {t.assignee for t in tasks})
    return [
        {
            "id": t.id,
            "kind_id": t.kind_id,
            "kind_name": kinds.get(t.kind_id, ""),
            "grid_code": t.grid_code,
            "grid_name": grids.get(t.grid_code),
            "assignee": t.assignee,
            "assignee_name": people.get(t.assignee),
            "unit_code": t.unit_code,
            "unit_name": units.get(t.unit_code) if t.unit_code else None,
            "title": t.title,
            "detail": t.detail,
            "due_on": t.due_on,
            "state": t.state,
            "state_label": TASK_STATE_LABELS[t.state],
            "created_by": t.created_by,
            "created_at": t.created_at,
            "done_at": t.done_at,
        }
        for t in tasks
    ]


def _names(session: Session, usernames: set[str]) -> dict[str, str]:
    rows = session.execute(
        select(User.username, func.coalesce(Staff.name, func.nullif(User.full_name, "")))
        .outerjoin(Staff, Staff.id == User.staff_id)
        .where(User.username.in_(usernames))
    )
    return {u: n for u, n in rows if n}


def finish(session: Session, scope: AreaScope, task_id: int) -> GridTask:
    """The worker a task was given to marks it done (once)."""
    task = session.scalar(
        select(GridTask).where(GridTask.id == task_id, *_visible(scope, session)).with_for_update()
    )
    if task is None or task.assignee != scope.principal.username:
        raise NotFound(f"任务 {task_id} 不存在")
    if task.state == "done":
        raise Conflict(f"任务 {task_id} 已于 {task.done_at:%Y-%m-%d %H:%M} 完成", state=task.state)
    task.state = "done"
    task.done_at = dt.datetime.now(CHINA_TZ)
    session.flush()
    return task


# ----------------------------------------------------------------------------- the load


def load(session: Session, scope: AreaScope, start: dt.date, end: dt.date) -> dict[str, Any]:
    """Tasks given in [start, end] (Beijing days) per worker and kind, with those still open."""
    if end < start:
        raise InvalidInput("end: 结束日期不能早于开始日期", field="end")
    day = func.date(func.timezone("Asia/Shanghai", GridTask.created_at))
    rows = session.execute(
        select(
            GridTask.assignee,
            TaskKind.name,
            func.count(),
            func.count().filter(GridTask.state == "open"),
        )
        .join(TaskKind, TaskKind.id == GridTask.kind_id)
        .where(scope.clause(GridTask.grid_code), and_(day >= start, day <= end))
        .group_by(GridTask.assignee, TaskKind.id, TaskKind.name)
        .order_by(TaskKind.id)
    ).all()
    kinds: list[str] = []
    by_worker: dict[str, dict[str, Any]] = {}
    for assignee, kind, n, still_open in rows:
        if kind not in kinds:
            kinds.append(kind)
        w = by_worker.setdefault(assignee, {"by_kind": {}, "total": 0, "open": 0})
        w["by_kind"][kind] = int(n)
        w["total"] += int(n)
        w["open"] += int(still_open)
    names = _names(session, set(by_worker))
    out = [
        {"assignee": a, "name": names.get(a), **w}
        for a, w in sorted(by_worker.items(), key=lambda kv: (-kv[1]["total"], kv[0]))
    ]
    return {"area_code": scope.prefix, "start": start, "end": end, "kinds": kinds, "rows": out}
