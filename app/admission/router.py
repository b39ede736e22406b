"""/api/v1/task-kinds (a county's 网格事务准入清单) and /api/v1/grid-tasks (work given to grid workers,
refused when its kind is off the list; a worker's own tasks; the load per worker by kind).
Thin routes over app/admission/service.py (docs/party.md#task-admission)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from app.admission import service
from app.admission.models import TaskKind
from app.admission.schemas import KindIn, KindOut, LoadOut, TaskIn, TaskOut, TasksOut
from app.auth.deps import SessionDep
from app.auth.policy import Action, Resource
from app.auth.scope import AreaScope, access, access_whole
from app.locate.registry import today
from app.params import Id, Offset

router = APIRouter(prefix="/api/v1", tags=["task admission"])
KindReaders = Annotated[AreaScope, Depends(access(Resource.TASK_KIND))]
KindKeeper = Annotated[AreaScope, Depends(access_whole(Resource.TASK_KIND, Action.UPDATE))]
TaskReaders = Annotated[AreaScope, Depends(access(Resource.GRID_TASK))]
TaskGiver = Annotated[AreaScope, Depends(access_whole(Resource.GRID_TASK, Action.CREATE))]
TaskDoer = Annotated[AreaScope, Depends(access_whole(Resource.GRID_TASK, Action.UPDATE))]
LoadReaders = Annotated[AreaScope, Depends(access(Resource.KPI))]


def _kind(k: TaskKind) -> KindOut:
    return KindOut.model_validate(k, from_attributes=True)


@router.get("/task-kinds", response_model=list[KindOut])
def list_kinds(
    session: SessionDep, scope: KindReaders, active: bool | None = None
) -> list[KindOut]:
    """The county's admission list: the kinds of work grid workers may be given (``active``
    false: those taken off it)."""
    kinds = service.list_kinds(session, service.county_of(scope))
    return [_kind(k) for k in kinds if active is None or k.active == active]


@router.post("/task-kinds", response_model=KindOut, status_code=201)
def add_kind(body: KindIn, session: SessionDep, scope: KindKeeper) -> KindOut:
    """Put a kind of work on the caller's county's list (county admins)."""
    return _kind(service.add_kind(session, scope, body))


@router.put("/task-kinds/{kind_id}", response_model=KindOut)
def update_kind(kind_id: Id, body: KindIn, session: SessionDep, scope: KindKeeper) -> KindOut:
    """Rename or describe a kind, or take it off the list (``active`` false) or back on."""
    return _kind(service.update_kind(session, scope, kind_id, body))


def _one(session: SessionDep, task: service.GridTask) -> TaskOut:
    return TaskOut.model_validate(service.describe(session, [task])[0])


@router.post("/grid-tasks", response_model=TaskOut, status_code=201)
def give_task(body: TaskIn, session: SessionDep, scope: TaskGiver) -> TaskOut:
    """Give a grid worker a task (a department, or the county/township office). A kind that is not
    on the county's admission list is refused (422 naming the kind and the list)."""
    return _one(session, service.give_task(session, scope, body))


State = Annotated[Literal["open", "done"] | None, Query()]
Limit = Annotated[int, Query(ge=1, le=500)]


def _tasks(
    session: SessionDep, scope: AreaScope, state: str | None, mine: bool, limit: int, offset: int
) -> TasksOut:
    total, rows = service.list_tasks(
        session, scope, state=state, mine=mine, limit=limit, offset=offset
    )
    return TasksOut(count=total, data=[TaskOut.model_validate(r) for r in rows])


@router.get("/grid-tasks", response_model=TasksOut)
def list_tasks(
    session: SessionDep,
    scope: TaskReaders,
    state: State = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> TasksOut:
    """Tasks in the area: a unit's member sees those of their unit, a grid worker their own."""
    return _tasks(session, scope, state, False, limit, offset)


@router.get("/grid-tasks/mine", response_model=TasksOut)
def my_tasks(
    session: SessionDep,
    scope: TaskReaders,
    state: State = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> TasksOut:
    """The tasks given to the caller, open ones first by due date (the phone's list)."""
    return _tasks(session, scope, state, True, limit, offset)


@router.get("/grid-tasks/load", response_model=LoadOut)
def load(
    session: SessionDep,
    scope: LoadReaders,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> LoadOut:
    """Tasks given per worker and kind in the period (default: this month so far), with those
    still open: the county sees the burden it lets departments put on its grid workers."""
    end = end or today()
    start = start or end.replace(day=1)
    return LoadOut.model_validate(service.load(session, scope, start, end))


@router.post("/grid-tasks/{task_id}/done", response_model=TaskOut)
def finish(task_id: Id, session: SessionDep, scope: TaskDoer) -> TaskOut:
    """The worker a task was given to marks it done."""
    return _one(session, service.finish(session, scope, task_id))
