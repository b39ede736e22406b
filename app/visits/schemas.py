"""Visit request and response shapes (one schema per purpose)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field, PrivateAttr

from app.params import BigIdField, IdField

VisitKind = Literal["routine", "special_group", "follow_up"]


class VisitCreate(BaseModel):
    household_id: IdField
    visited_at: dt.datetime = Field(description="time of the visit; without a zone: Beijing time")
    lng: float
    lat: float
    crs: str = Field(description="wgs84 | cgcs2000 | gcj02 | bd09: what the phone reported")
    kind: VisitKind = "routine"
    notes: str = Field("", max_length=4000)
    worker_id: IdField | None = Field(
        None, description="staff id; a grid worker's own record when omitted"
    )
    photo_base64: str | None = None
    photo_content_type: Literal["image/jpeg", "image/png", "image/webp"] | None = None
    incident_id: BigIdField | None = None


class WorkerOut(BaseModel):
    id: int
    name: str


class VisitPublic(BaseModel):
    id: int
    worker: WorkerOut
    household_id: int
    grid_code: str
    visited_at: dt.datetime
    kind: str
    lng: float
    lat: float
    input_crs: str
    distance_m: float
    far_from_household: bool
    notes: str
    has_photo: bool
    incident_id: int | None
    incident_verified: bool
    message: str


class DueHousehold(BaseModel):
    household_id: int
    grid_code: str
    address: str
    special_groups: list[str]
    rule: str
    interval_days: int
    last_visited_at: dt.datetime | None
    due_date: dt.date | None
    days_overdue: int | None = Field(description="None: never visited")
    # Whether the household is in a special group, for the ranking (app/visits/ranking.py) only:
    # not sent, since a caller who may not see special groups must not learn them from a field.
    _special: bool = PrivateAttr(default=False)

    @property
    def special(self) -> bool:
        return self._special


class DueList(BaseModel):
    grid_code: str | None = Field(description="the grid asked for; None for a worker's whole list")
    grid_codes: list[str]
    date: dt.date
    count: int
    households: list[DueHousehold]


class CoverageRow(BaseModel):
    code: str
    households: int
    visited: int
    visited_share: float | None
    special_households: int
    special_on_cadence: int
    special_on_cadence_share: float | None


class WorkerMonth(BaseModel):
    month: str
    visits: int
    field_days: int


class WorkerCoverage(BaseModel):
    worker_id: int
    name: str
    visits: int
    field_days: int
    months: list[WorkerMonth]


class CoveragePublic(BaseModel):
    area: str
    level: str
    start: dt.date
    end: dt.date
    total: CoverageRow
    rows: list[CoverageRow]
    workers: list[WorkerCoverage]
    seconds: float
