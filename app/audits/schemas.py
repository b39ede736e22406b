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


class Comparison(BaseModel):
    previous_run_id: int | None
    previous_started_at: dt.datetime | None
    new: int
    unchanged: int
    fixed: list[FixedFinding]


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
