"""Micro-grids (微网格): the small units inside a comprehensive grid, each with its own steward
(单元管家/楼栋长) and a household band of its own (docs/domain.md#micro-grids).

A micro-grid is edited in place (it is not versioned like a grid); retiring it keeps its row, so
its code, like a grid's serial, is never handed out again.
"""

from __future__ import annotations

import datetime as dt

from geoalchemy2 import Geometry
from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Index, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from app.base import SRID, Base

MICRO_GRID_STATUSES = ("active", "retired")


class MicroGrid(Base):
    __tablename__ = "micro_grids"
    __table_args__ = (
        CheckConstraint("code ~ '^[0-9]{17}$'", name="code_17_digits"),
        CheckConstraint("left(code, 15) = grid_code", name="code_in_grid"),
        CheckConstraint("status IN ('active', 'retired')", name="status"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="validity"),
        CheckConstraint("ST_IsValid(geom)", name="geom_valid"),
        Index("uq_micro_grids_code", "code", unique=True),
        Index("ix_micro_grids_grid_code", "grid_code"),
        Index("ix_micro_grids_steward_staff_id", "steward_staff_id"),
        Index("ix_micro_grids_geom", "geom", postgresql_using="gist"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(17))
    grid_code: Mapped[str] = mapped_column(String(15))
    name: Mapped[str] = mapped_column(String(100))
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False), nullable=False)
    status: Mapped[str] = mapped_column(String(16), server_default="active")
    # The steward (单元管家/楼栋长) answering for the micro-grid: a staff row.
    steward_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    valid_from: Mapped[dt.date] = mapped_column(Date, server_default=text("CURRENT_DATE"))
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
