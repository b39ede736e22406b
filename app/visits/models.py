"""Visits (走访): a grid worker at a household, when, where (GPS) and what for
(docs/domain.md#visits)."""

from __future__ import annotations

import datetime as dt

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.base import SRID, Base

VISIT_KINDS = ("routine", "special_group", "follow_up")


class Visit(Base):
    __tablename__ = "visits"
    __table_args__ = (
        CheckConstraint("kind IN ('routine', 'special_group', 'follow_up')", name="kind"),
        CheckConstraint("distance_m IS NULL OR distance_m >= 0", name="distance"),
        # Coverage scans a period and groups by household or worker: covering indexes make those
        # index-only scans (INCLUDE keeps the key small).
        Index(
            "ix_visits_visited_at_household",
            "visited_at",
            "household_id",
            postgresql_include=["worker_id"],
        ),
        Index("ix_visits_household_visited_at", "household_id", "visited_at"),
        Index("ix_visits_worker_visited_at", "worker_id", "visited_at"),
        # A check-in queued offline carries the key the phone made; sent again, it is not stored twice.
        Index(
            "ux_visits_recorder_idempotency_key",
            "recorded_by",
            "idempotency_key",
            unique=True,
            postgresql_where=text("idempotency_key IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    # The grid the household lay in when visited (the worker answered for it then).
    grid_code: Mapped[str | None] = mapped_column(String(15))
    visited_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(16))
    location = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False))
    input_crs: Mapped[str | None] = mapped_column(String(16))
    # Metres between the GPS point and the household; far visits are kept and flagged, not refused.
    distance_m: Mapped[float | None] = mapped_column(Float)
    far_from_household: Mapped[bool] = mapped_column(Boolean, server_default="false")
    notes: Mapped[str] = mapped_column(Text, server_default="")
    photo: Mapped[bytes | None] = mapped_column(LargeBinary)
    photo_content_type: Mapped[str | None] = mapped_column(String(64))
    # No foreign key: incidents are another package's table and may not exist yet.
    incident_id: Mapped[int | None] = mapped_column(Integer)
    recorded_by: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


# ----------------------------------------------------------------------------- write-time rollups
# Maintained by statement triggers on visits (app/visits/triggers.py), exact under insert, update,
# delete and truncate; coverage reads them instead of millions of visits.


class HouseholdVisitStats(Base):
    """First and last visit of each visited household (1:1, so the hot households table stays narrow).

    A household has a visit in [start, end) if its first or last visit lies there; only when the
    first is before and the last after the period must its visits be looked up.
    """

    __tablename__ = "household_visit_stats"

    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), primary_key=True)
    first_visit_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_visit_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class WorkerVisitDay(Base):
    """Visits per grid, worker and Beijing day: visits and field days per worker and month."""

    __tablename__ = "worker_visit_days"
    __table_args__ = (PrimaryKeyConstraint("grid_code", "worker_id", "day"),)

    grid_code: Mapped[str] = mapped_column(String(15))
    worker_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    day: Mapped[dt.date] = mapped_column(Date)
    visits: Mapped[int] = mapped_column(Integer)


class HouseholdsRevision(Base):
    """Changed (from a sequence, so never reused after a rollback) by every statement that writes
    households' ids, locations or groups: the in-memory household-to-grid cache compares it."""

    __tablename__ = "households_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(BigInteger, server_default="0")
