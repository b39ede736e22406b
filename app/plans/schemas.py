"""Plan API shapes: one schema per purpose (FastAPI template style)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.params import IdField


class PlanCreate(BaseModel):
    community_code: str = Field(pattern=r"^[0-9]{12}$")
    name: str | None = None
    source: Literal["current", "partition", "repartition"] = Field(
        "current",
        description="current grids; a fresh automatic partition; or repartition: only the grids "
        "out of the household band and their neighbours are redivided",
    )
    target: int | None = Field(None, ge=1, description="default: GRIDGOV_HOUSEHOLD_TARGET (300)")
    band: tuple[int, int] | None = Field(None, description="default: the household band (250–500)")


class Edit(BaseModel):
    """Every edit names the plan version it was made against (stale → 409)."""

    version: int


class ReshapeEdit(Edit):
    grid_id: IdField
    geometry: dict[str, Any]  # GeoJSON Polygon/MultiPolygon, lon/lat CGCS2000


class SplitEdit(Edit):
    grid_id: IdField
    line: dict[str, Any]  # GeoJSON LineString


class MergeEdit(Edit):
    grid_id: IdField
    other_grid_id: IdField


class MoveBuildingsEdit(Edit):
    building_ids: list[IdField] = Field(min_length=1)
    to_grid_id: IdField


class RenameEdit(Edit):
    grid_id: IdField
    name: str = Field(min_length=1, max_length=100)


class SubmitIn(Edit):
    reasons: dict[int, str] = Field(
        default_factory=dict,
        description="grid id -> the planner's reason for submitting a grid with no households, no "
        "buildings or fewer households than the band (shown to the approver)",
    )


class PreviewIn(BaseModel):
    """An edit not yet made, for the live balance while drawing: the fields of that edit."""

    kind: Literal["reshape", "split", "merge", "move-buildings"]
    grid_id: IdField | None = None
    geometry: dict[str, Any] | None = None
    line: dict[str, Any] | None = None
    other_grid_id: IdField | None = None
    building_ids: list[IdField] = []
    to_grid_id: IdField | None = None


class ReturnIn(BaseModel):
    reason: str = Field(min_length=1, max_length=500, description="why the plan goes back (退回)")


class ApproveIn(BaseModel):
    effective_date: dt.date
    reason: str = Field(min_length=1, max_length=500)


class FindingPublic(BaseModel):
    kind: str
    severity: Literal["error", "warning"]
    message: str
    objects: list[str] = []
    grid_id: int | None = None  # the plan grid it is about, where it is about one
    reason: str | None = None  # the planner's reason, for a grid that needs one
    area_m2: float | None = None
    geometry: dict[str, Any] | None = None


class ValidationPublic(BaseModel):
    ok: bool
    band: tuple[int, int]
    errors: list[FindingPublic]
    warnings: list[FindingPublic]


class PlanGridPublic(BaseModel):
    id: int
    code: str | None
    name: str
    type: str
    households: int
    buildings: int
    in_band: bool | None
    band: str  # below | within | above | exempt (app/grids/service.py band_of; labels in /meta)
    exception_reason: str | None = None
    contiguous: bool
    geometry: dict[str, Any]


class GridBalance(BaseModel):
    id: int  # negative: a grid the edit would make
    name: str
    households: int
    buildings: int
    band: str


class BalancePublic(BaseModel):
    """Households and buildings per grid for an edit not yet made (nothing is written)."""

    plan_id: int
    version: int
    band: tuple[int, int]
    grids: list[GridBalance]
    households: int
    outside: int = Field(description="households of the community in no grid of the plan")


class LockPublic(BaseModel):
    locked_by: str | None
    locked_until: dt.datetime | None


class PlanPublic(BaseModel):
    id: int
    community_code: str
    name: str
    source: str
    status: str
    version: int
    created_by: str
    lock: LockPublic
    effective_date: dt.date | None
    effective_at: dt.datetime | None
    applied_at: dt.datetime | None
    reason: str | None
    returned_by: str | None
    returned_at: dt.datetime | None
    return_reason: str | None
    actions: list[str] = Field(description="what the caller may do now (app/plans/workflow.py)")
    undo: str | None = Field(description="the edit undo would take back, or null")
    redo: str | None = Field(description="the edit redo would make again, or null")
    notes: list[str] = []
    grids: list[PlanGridPublic]
    validation: ValidationPublic


class PlanSummary(BaseModel):
    id: int
    community_code: str
    name: str
    status: str
    version: int
    effective_date: dt.date | None = None


class PlansPublic(BaseModel):
    data: list[PlanSummary]
    count: int


class MoveItem(BaseModel):
    id: int | str
    label: str
    from_grid: str | None
    to_grid: str | None
    action: str


class ImpactSection(BaseModel):
    available: bool
    count: int
    items: list[MoveItem]
    note: str | None = None


class ImpactPublic(BaseModel):
    plan_id: int
    grids_kept: list[str]
    grids_changed: list[str]
    grids_retired: list[str]
    grids_new: int
    buildings: ImpactSection
    households: ImpactSection
    staff_assignments: ImpactSection
    visits: ImpactSection
    incidents: ImpactSection


class ApprovalPublic(BaseModel):
    plan_id: int
    status: str  # approved (swapped now) or scheduled (swapped at effective_at)
    effective_date: dt.date
    effective_at: dt.datetime
    kept: list[str]
    new_versions: list[str]
    new_codes: list[str]
    retired: list[str]
    incidents_rerouted: int | None
    assignments_ended: list[int] = []


class GridAtPublic(BaseModel):
    code: str
    name: str
    type: str
    version: int
    status: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    community_code: str
