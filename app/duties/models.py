"""Arrivals (四必到): a grid worker went to the place of a dispute, a death or a wedding reported in
their grid (docs/duties.md). The other duties are read from visits, staff and assignments."""

from __future__ import annotations

import datetime as dt

from geoalchemy2 import Geometry
from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from app.base import SRID, Base


class DutyArrival(Base):
    __tablename__ = "duty_arrivals"
    __table_args__ = (
        # One arrival answers a case; a second one sent is answered with the first.
        Index("ux_duty_arrivals_incident", "incident_id", unique=True),
        Index("ix_duty_arrivals_grid_code", "grid_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("incidents.id"))
    # The case's grid (the worker answered for it), for the jurisdiction rule.
    grid_code: Mapped[str] = mapped_column(String(15))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    arrived_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    location = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False))
    note: Mapped[str] = mapped_column(Text, server_default=text("''"))
    recorded_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
