"""Audit run and finding shapes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel


class FindingPublic(BaseModel):
    kind: str
    kind_label: str
    severity: str
    objects: list[str]
    geometry: dict[str, Any] | None
    area_m2: float | None
    message: str
    new: bool


class FixedFinding(BaseModel):
    kind: str
    objects: list[str]
    message: str


class Changes(BaseModel):
    """What changed since the previous run of the same area, per finding kind (a finding is the
    same across runs when its kind and objects are: ``service.finding_key``)."""

    new: dict[str, int] = {}
    resolved: dict[str, int] = {}


class Comparison(BaseModel):
    previous_run_id: int | None
    previous_started_at: dt.datetime | None
    new: int
    unchanged: int
    fixed: list[FixedFinding]
    by_kind: Changes = Changes()


class CheckStatus(BaseModel):
    check: str
    label: str
    status: str  # ok | not_available
    note: str = ""


class AuditPublic(BaseModel):
    id: int
    area_code: str
    area_name: str
    started_at: dt.datetime
    seconds: float
    run_by: str
    counts: dict[str, int]
    checks: list[CheckStatus]
    comparison: Comparison
    findings: list[FindingPublic]


class AuditRunSummary(BaseModel):
    """One past run in a listing: its counts and what changed since the run before it."""

    id: int
    area_code: str
    area_name: str
    started_at: dt.datetime
    seconds: float
    run_by: str
    total: int
    counts: dict[str, int]
    previous_run_id: int | None
    changes: Changes


class AuditRuns(BaseModel):
    area_code: str
    runs: list[AuditRunSummary]
    kind_labels: dict[str, str]  # every finding kind's Chinese label
