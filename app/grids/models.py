"""Grids (网格): versioned polygons, never edited in place once active
(docs/architecture.md#versioned-boundaries)."""

from __future__ import annotations

import datetime as dt

from geoalchemy2 import Geometry
from sqlalchemy import CheckConstraint, Date, DateTime, Index, Integer, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from app.base import SRID, Base

GRID_TYPES = ("comprehensive", "dedicated", "micro")
GRID_STATUSES = ("draft", "active", "retired")


class Grid(Base):
    __tablename__ = "grids"
    __table_args__ = (
        CheckConstraint("code ~ '^[0-9]{15}$'", name="code_15_digits"),
        CheckConstraint("left(code, 12) = community_code", name="code_in_community"),
        CheckConstraint("type IN ('comprehensive', 'dedicated', 'micro')", name="type"),
        CheckConstraint("status IN ('draft', 'active', 'retired')", name="status"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="validity"),
        CheckConstraint("ST_IsValid(geom)", name="geom_valid"),
        Index(
            "uq_grids_active_code", "code", unique=True, postgresql_where=text("status = 'active'")
        ),
        Index("uq_grids_code_version", "code", "version", unique=True),
        Index("ix_grids_geom", "geom", postgresql_using="gist"),
        Index("ix_grids_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(15))
    name: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(16), server_default="comprehensive")
    community_code: Mapped[str] = mapped_column(String(12), index=True)
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False), nullable=False)
    status: Mapped[str] = mapped_column(String(16), server_default="draft")
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
