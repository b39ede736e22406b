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


class ApproveIn(BaseModel):
    effective_date: dt.date
    reason: str = Field(min_length=1, max_length=500)


class FindingPublic(BaseModel):
    kind: str
    severity: Literal["error", "warning"]
    message: str
    objects: list[str] = []
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
    contiguous: bool
    geometry: dict[str, Any]


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
    reason: str | None
    notes: list[str] = []
    grids: list[PlanGridPublic]
    validation: ValidationPublic


class PlanSummary(BaseModel):
    id: int
    community_code: str
    name: str
    status: str
    version: int


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
    effective_date: dt.date
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
