"""Plans (规划方案): a draft set of grids for one community, edited, submitted and approved.

A plan never touches the live ``grids`` table until a county admin approves it; then the service
retires the changed grids and inserts their new versions in one transaction
(docs/architecture.md#versioned-boundaries).
"""

from __future__ import annotations

import datetime as dt

from geoalchemy2 import Geometry
from sqlalchemy import (
    ARRAY,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.base import SRID, Base

PLAN_STATUSES = ("draft", "submitted", "approved", "rejected")
# What the planner shows for each (served by GET /api/v1/meta as plan_states).
PLAN_STATUS_LABELS = {
    "draft": "草稿",
    "submitted": "待审批",
    "approved": "已批准",
    "rejected": "已退回",
}


class Plan(Base):
    __tablename__ = "plans"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'submitted', 'approved', 'rejected')", name="status"),
        CheckConstraint("community_code ~ '^[0-9]{12}$'", name="community_code_12_digits"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_code: Mapped[str] = mapped_column(String(12), index=True)
    name: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(32))  # current | partition | repartition | upload
    status: Mapped[str] = mapped_column(String(16), server_default="draft")
    # Optimistic concurrency: every edit names the version it was made against.
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    locked_by: Mapped[str | None] = mapped_column(String(64))
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    effective_date: Mapped[dt.date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(500))


class PlanGrid(Base):
    """One grid of a plan. ``code`` is the live grid it continues (kept on approval), or None for
    a new grid that gets a code allocated at approval."""

    __tablename__ = "plan_grids"
    __table_args__ = (
        CheckConstraint("code IS NULL OR code ~ '^[0-9]{15}$'", name="code_15_digits"),
        CheckConstraint("type IN ('comprehensive', 'dedicated', 'micro')", name="type"),
        Index("ix_plan_grids_geom", "geom", postgresql_using="gist"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    code: Mapped[str | None] = mapped_column(String(15))
    name: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(16), server_default="comprehensive")
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False), nullable=False)
    # Buildings (ids) assigned to this grid, recomputed from the geometry after each edit.
    building_ids: Mapped[list[int]] = mapped_column(ARRAY(Integer), server_default=text("'{}'"))
    households: Mapped[int] = mapped_column(Integer, server_default="0")
