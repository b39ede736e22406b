"""The task admission API's bodies and answers (docs/party.md#task-admission)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field


class KindIn(BaseModel):
    name: str = Field(min_length=1, max_length=60)
    description: str = Field(default="", max_length=500)
    active: bool = True


class KindOut(BaseModel):
    id: int
    county_code: str
    name: str
    description: str
    active: bool
    updated_by: str
    updated_at: dt.datetime


class TaskIn(BaseModel):
    kind: str = Field(min_length=1, max_length=60, description="the kind of work, by its name")
    grid_code: str = Field(pattern=r"^[0-9]{15}$")
    title: str = Field(min_length=1, max_length=200)
    detail: str = Field(default="", max_length=2000)
    due_on: dt.date | None = None
    assignee: str | None = Field(default=None, max_length=64)
    unit_code: str | None = Field(default=None, max_length=40)


class TaskOut(BaseModel):
    id: int
    kind_id: int
    kind_name: str
    grid_code: str
    grid_name: str | None
    assignee: str
    assignee_name: str | None
    unit_code: str | None
    unit_name: str | None
    title: str
    detail: str
    due_on: dt.date | None
    state: str
    state_label: str
    created_by: str
    created_at: dt.datetime
    done_at: dt.datetime | None


class TasksOut(BaseModel):
    count: int
    data: list[TaskOut]


class WorkerLoad(BaseModel):
    assignee: str
    name: str | None
    by_kind: dict[str, int]
    total: int
    open: int


class LoadOut(BaseModel):
    """Tasks given to each worker in the period, by kind (the county's view of the burden)."""

    area_code: str
    start: dt.date
    end: dt.date
    kinds: list[str]
    rows: list[WorkerLoad]
