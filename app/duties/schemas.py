"""What the duty routes take and answer."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from app.params import BigIdField


class ArrivalCreate(BaseModel):
    incident_id: BigIdField
    arrived_at: dt.datetime | None = Field(
        None, description="when the worker was there; default now; without a zone: Beijing time"
    )
    lng: float | None = None
    lat: float | None = None
    crs: str = Field(
        "wgs84", description="wgs84 | cgcs2000 | gcj02 | bd09: what the phone reported"
    )
    note: str = Field("", max_length=2000)


class ArrivalPublic(BaseModel):
    id: int
    incident_id: int
    case_no: str
    arrived_at: dt.datetime
    recorded_by: str
    message: str


class ArrivalTask(BaseModel):
    """A case that asks the worker to go there (四必到), not yet answered."""

    incident_id: int
    case_no: str
    kind: str
    label: str
    category_name: str
    grid_code: str
    address: str | None
    description: str
    reported_at: dt.datetime
    due_at: dt.datetime
    overdue: bool
    lng: float
    lat: float


class FieldDays(BaseModel):
    month: str  # YYYY-MM
    days: int  # days with at least one visit so far
    required: int


class CadreTask(BaseModel):
    grid_code: str
    households: int
    not_visited: int
    due_on: dt.date


class MyDuties(BaseModel):
    arrivals: list[ArrivalTask]
    field_days: FieldDays | None
    cadre: list[CadreTask]


class DutyFinding(BaseModel):
    kind: str
    kind_label: str
    severity: str
    objects: list[str]
    message: str


class DutyFindings(BaseModel):
    area_code: str
    findings: list[DutyFinding]
