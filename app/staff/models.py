"""Staff and their assignments to grids with date ranges (docs/domain.md#staff-roles)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, text
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.base import Base

# 网格长, 网格员, 楼栋长, 单元管家, and the township cadre linked to the grid (联系网格干部).
STAFF_ROLES = ("leader", "worker", "building_leader", "unit_steward", "cadre")
EMPLOYMENT = ("full_time", "part_time")


class Staff(Base):
    __tablename__ = "staff"
    __table_args__ = (
        CheckConstraint("employment IN ('full_time', 'part_time')", name="employment"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(32))
    employment: Mapped[str] = mapped_column(String(16), server_default="full_time")


class StaffAssignment(Base):
    """A person's role in a grid for a date range. The grid is named by code, so an assignment
    survives a boundary redraw that keeps the grid's code (a new version, same grid)."""

    __tablename__ = "staff_assignments"
    __table_args__ = (
        CheckConstraint(
            "role IN ('leader', 'worker', 'building_leader', 'unit_steward', 'cadre')", name="role"
        ),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates"),
        # Exactly one leader per grid at any moment (docs/domain.md#staff-roles).
        ExcludeConstraint(
            ("grid_code", "="),
            (text("daterange(start_date, end_date, '[]')"), "&&"),
            where=text("role = 'leader'"),
            using="gist",
            name="ex_staff_assignments_one_leader",
        ),
        Index("ix_staff_assignments_grid_code", "grid_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    grid_code: Mapped[str] = mapped_column(String(15))
    role: Mapped[str] = mapped_column(String(20))
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id"))
    # The unit (单元) of the building a unit steward looks after.
    unit: Mapped[str | None] = mapped_column(String(16))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
