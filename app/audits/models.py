"""Audit history: every run of a coverage audit and its findings, so a county can compare months."""

from __future__ import annotations

import datetime as dt
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import ARRAY, DateTime, Float, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.base import SRID, Base


class AuditRun(Base):
    __tablename__ = "audit_runs"
    __table_args__ = (Index("ix_audit_runs_area_started", "area_code", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    area_code: Mapped[str] = mapped_column(String(15))
    area_name: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    seconds: Mapped[float] = mapped_column(Float)
    run_by: Mapped[str] = mapped_column(String(64))
    # Counts per kind, what was checked and what could not be (e.g. incidents not installed).
    summary: Mapped[dict[str, Any]] = mapped_column(JSONB)
    previous_run_id: Mapped[int | None] = mapped_column(ForeignKey("audit_runs.id"))


class AuditFinding(Base):
    __tablename__ = "audit_findings"
    __table_args__ = (Index("ix_audit_findings_run_key", "run_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("audit_runs.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    objects: Mapped[list[str]] = mapped_column(ARRAY(String))
    # kind + objects: the identity of a finding across runs (new / fixed since the last run).
    key: Mapped[str] = mapped_column(Text)
    geom = mapped_column(Geometry("GEOMETRY", srid=SRID, spatial_index=False))
    area_m2: Mapped[float | None] = mapped_column(Float)
    message: Mapped[str] = mapped_column(Text)
    ordinal: Mapped[int] = mapped_column(Integer)
