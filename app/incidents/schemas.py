"""Request and response shapes for incidents, categories and KPIs (never a table row directly)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field, computed_field, model_validator

from app.incidents.calendar import UNITS
from app.incidents.categories import close_photo_required
from app.incidents.statemachine import ACTIONS
from gis.crs import DEFAULT_CRS

# A time limit's unit: calendar hours/days (on the clock) or working hours/days (calendar.py).
LimitUnit = Literal[UNITS]  # type: ignore[valid-type]


class CategoryBase(BaseModel):
    name: str = Field(min_length=1, max_length=50)
    parent_code: str | None = Field(default=None, max_length=16)
    default_tier: Literal["grid", "community", "township", "county"] = "community"
    limit_value: float | None = Field(default=None, gt=0)
    limit_unit: LimitUnit | None = None
    urgent_limit_value: float | None = Field(default=None, gt=0)
    urgent_limit_unit: LimitUnit | None = None
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
    @computed_field  # type: ignore[prop-decorator]
    @property
    def close_photo_required(self) -> bool:
        """处置完毕 needs a photo of the site (the close condition asks for one)."""
        return close_photo_required(self.close_condition)


class IncidentCreate(BaseModel):
    category_code: str = Field(min_length=1, max_length=16)
    description: str = Field(min_length=1, max_length=4000)
    lng: float | None = Field(default=None, allow_inf_nan=False)
    lat: float | None = Field(default=None, allow_inf_nan=False)
    crs: str = DEFAULT_CRS  # docs/domain.md#coordinates
    address: str | None = Field(default=None, max_length=300)
    reporter_name: str | None = Field(default=None, max_length=50)
    reporter_phone: str | None = Field(default=None, max_length=32)
    urgent: bool = False
    resolved_on_spot: bool = False
    note: str = Field(default="", max_length=2000)
    # "Same case" (同一事件): the reporter says this is the open case ``same_as`` (the duplicate the
    # API suggested); the report is recorded on that case as an event, no new case is made.
    same_as: int | None = Field(default=None, ge=1, le=2**63 - 1)

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
    # Where the reporter follows and rates the case (docs/domain.md#residents-ratings).
    follow_url: str
    category_code: str
    category_name: str | None = None
    state: str
    state_label: str
    reported_at: dt.datetime
    deadline: dt.datetime
    duplicates: list[PublicDuplicate] = []


class ActionOut(BaseModel):
    """A move the caller may make on the case now (statemachine.moves_for): a page draws one
    button per entry and nothing else. ``needs`` lists the fields the move takes ("x?" optional)."""

    action: str
    label: str
    needs: list[str]


class DeadlineOut(BaseModel):
    """The case's clock as pages show it (app/incidents/deadlines.py ``light``): the stage whose
    limit runs, when it is due, its light and the seconds left (negative once overdue; while
    挂账 the time that was left when the clock stopped). Null when no stage clock runs."""

    stage: Literal["register", "dispatch", "handling", "verification"]
    stage_label: str
    due_at: dt.datetime
    light: Literal["green", "amber", "red", "paused"]
    light_label: str
    remaining_seconds: int
    basis: LimitUnit
    limit: str
    started_at: dt.datetime
    paused_since: dt.datetime | None
    extension_count: int
    extensions_left: int
    pending_request: dict[str, Any] | None


class IncidentPublic(BaseModel):
    id: int
    case_no: str
    token: str
    # The reporter's link to follow and rate the case, for staff to send (短信, 回访).
    follow_url: str | None = None
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
    unit_code: str | None = None
    unit_name: str | None = None
    assignee: str | None
    state: str
    state_label: str
    tier: str
    supervised: bool
    version: int
    reported_at: dt.datetime
    # The current stage's clock (docs/domain.md#deadlines-and-the-calendar); due_at is the
    # handling deadline (counted from 派遣; before it, as if dispatched at the report).
    deadline: DeadlineOut | None
    due_at: dt.datetime
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
    # The moves this caller may make now, with label and fields (statemachine.moves_for), and
    # the same as bare action names.
    actions: list[ActionOut] = []
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
    unit: str | None = Field(
        default=None, max_length=40, description="派遣/改派: the responsible unit's code"
    )
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


class FollowStep(BaseModel):
    label: str
    at: dt.datetime


class FollowOut(BaseModel):
    """A case as its reporter follows it through the link (docs/public.md): no names, address,
    description, unit or notes; no category name for a sensitive category."""

    id: int
    case_no: str
    category_name: str | None
    state: str
    state_label: str
    reported_at: dt.datetime
    updated_at: dt.datetime
    steps: list[FollowStep]
    rating: str | None
    rating_label: str | None
    rated_at: dt.datetime | None
    may_rate: bool
    why_not: str | None


class RatingIn(BaseModel):
    """A resident's rating; ``token`` is the case's follow-up token (without it: 403)."""

    token: str | None = Field(default=None, max_length=64)
    rating: Literal["satisfied", "basically", "unsatisfied"]
    comment: str = Field(default="", max_length=500)


class RatingOut(BaseModel):
    case_no: str
    rating: str
    rating_label: str
    reopened: bool
    state: str
    state_label: str
