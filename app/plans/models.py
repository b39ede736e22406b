"""Plans (规划方案): a draft set of grids for one community, edited, submitted and approved.

A plan never touches the live ``grids`` table until a county admin approves it; then the service
retires the changed grids and inserts their new versions in one transaction
(docs/architecture.md#versioned-boundaries).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

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
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.base import SRID, Base

PLAN_STATUSES = ("draft", "submitted", "scheduled", "approved", "rejected")
# What the planner shows for each (served by GET /api/v1/meta as plan_states). ``scheduled``: approved
# with a future effective date, the live grids not yet swapped (app/plans/schedule.py).
PLAN_STATUS_LABELS = {
    "draft": "草稿",
    "submitted": "待审批",
    "scheduled": "已批准，待生效",
    "approved": "已批准",
    "rejected": "已退回",
}


class Plan(Base):
    __tablename__ = "plans"
    __table_args__ = (
        CheckConstraint(
            "status IN ('draft', 'submitted', 'scheduled', 'approved', 'rejected')", name="status"
        ),
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
    # The moment the approved grids take over (the effective date's first instant in Asia/Shanghai)
    # and when the swap was done: once, by app/plans/schedule.py, at or after that moment.
    effective_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    applied_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # 退回: the approver's reason, shown to the planner until the plan is approved.
    returned_by: Mapped[str | None] = mapped_column(String(64))
    returned_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    return_reason: Mapped[str | None] = mapped_column(String(500))
    # How many edits of the history (plan_edits) are applied: undo steps back, redo forward.
    edit_seq: Mapped[int] = mapped_column(Integer, server_default="0")


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
    # The planner's reason for keeping a grid with no households, no buildings or fewer households
    # than the band (given at submission, shown to the approver; app/plans/validate.py).
    exception_reason: Mapped[str | None] = mapped_column(String(500))


class PlanEdit(Base):
    """One edit of a draft, with the plan's grids before and after it (id, code, name, type,
    geometry as WKB hex, reason), so undo and redo survive a reload (app/plans/history.py)."""

    __tablename__ = "plan_edits"
    __table_args__ = (UniqueConstraint("plan_id", "seq", name="uq_plan_edits_plan_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    summary: Mapped[str] = mapped_column(String(200))
    before: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    after: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    made_by: Mapped[str] = mapped_column(String(64))
    made_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
