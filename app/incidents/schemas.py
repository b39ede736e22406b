"""Request and response shapes for incidents, categories and KPIs (never a table row directly)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from app.incidents.statemachine import ACTIONS


class CategoryBase(BaseModel):
    name: str = Field(min_length=1, max_length=50)
    parent_code: str | None = Field(default=None, max_length=16)
    default_tier: Literal["grid", "community", "township", "county"] = "community"
    limit_value: float | None = Field(default=None, gt=0)
    limit_unit: Literal["working_hours", "working_days"] | None = None
    urgent_limit_value: float | None = Field(default=None, gt=0)
    urgent_limit_unit: Literal["working_hours", "working_days"] | None = None
    open_condition: str = ""
    close_condition: str = ""
    active: bool = True
    # Kept off public surfaces (docs/public.md#sensitive-categories); unsaid = sensitive.
    sensitive: bool = True

    @model_validator(mode="after")
    def _small_class_has_limit(self) -> CategoryBase:
        if self.parent_code and (self.limit_value is None or self.limit_unit is None):
            raise ValueError("小类必须有处置时限（limit_value 与 limit_unit）")
        return self


class CategoryCreate(CategoryBase):
    code: str = Field(pattern=r"^[0-9A-Za-z]{2,16}$")


class CategoryPublic(CategoryCreate):
    pass


class IncidentCreate(BaseModel):
    category_code: str = Field(min_length=1, max_length=16)
    description: str = Field(min_length=1, max_length=4000)
    lng: float | None = Field(default=None, allow_inf_nan=False)
    lat: float | None = Field(default=None, allow_inf_nan=False)
    crs: str = "wgs84"
    address: str | None = Field(default=None, max_length=300)
    reporter_name: str | None = Field(default=None, max_length=50)
    reporter_phone: str | None = Field(default=None, max_length=32)
    urgent: bool = False
    resolved_on_spot: bool = False
    note: str = Field(default="", max_length=2000)

    @model_validator(mode="after")
    def _one_location(self) -> IncidentCreate:
        if (self.lng is None) != (self.lat is None):
            raise ValueError("lng 与 lat 必须同时提供")
        if self.lng is None and not (self.address or "").strip():
            raise ValueError("请提供位置：坐标（lng、lat、crs）或地址（address）")
        return self


class DuplicateOut(BaseModel):
    id: int
    case_no: str
    state: str
    distance_m: float
    reported_at: dt.datetime


class PublicDuplicate(BaseModel):
    """A likely duplicate as the public may see it: that it exists, its case number and status."""

    message: str = "附近已有同类事件"
    case_no: str
    state_label: str


class IncidentReceipt(BaseModel):
    """What a reporter who may not read the case gets back (anonymous residents, Open311-like
    callers, staff outside the case's area): the case's public fields and the follow-up token;
    never names, phones, the grid's staff, the address or the point (docs/public.md)."""

    id: int
    case_no: str
    token: str
    category_code: str
    category_name: str | None = None
    state: str
    state_label: str
    reported_at: dt.datetime
    deadline: dt.datetime
    duplicates: list[PublicDuplicate] = []


class IncidentPublic(BaseModel):
    id: int
    case_no: str
    token: str
    category_code: str
    category_name: str | None = None
    urgent: bool
    description: str
    address: str | None
    source: str
    reporter_name: str | None
    reporter_phone: str | None
    lng: float
    lat: float
    grid_code: str
    community_code: str
    township_code: str | None
    leader_name: str | None
    assignee: str | None
    state: str
    state_label: str
    tier: str
    supervised: bool
    version: int
    reported_at: dt.datetime
    deadline: dt.datetime
    handled_at: dt.datetime | None
    closed_at: dt.datetime | None
    evaluated_at: dt.datetime | None
    satisfaction: str | None
    extension_count: int
    rework_count: int
    escalation_count: int
    on_spot: bool
    overdue: bool
    photos: list[dict[str, Any]]
    allowed_actions: list[str]
    locate: dict[str, Any] | None = None
    duplicates: list[DuplicateOut] = []


class IncidentsPublic(BaseModel):
    count: int
    data: list[IncidentPublic]


class TransitionIn(BaseModel):
    action: Literal[ACTIONS]  # type: ignore[valid-type]
    version: int = Field(ge=1, description="the version the client saw; stale → 409")
    note: str = Field(default="", max_length=2000)
    assignee: str | None = Field(default=None, max_length=64)
    extension_hours: float | None = Field(default=None, gt=0, le=2000)
    satisfaction: Literal["satisfied", "basically", "unsatisfied"] | None = None


class EventPublic(BaseModel):
    action: str
    from_state: str | None
    to_state: str
    actor: str
    role: str
    note: str
    data: dict[str, Any]
    at: dt.datetime
