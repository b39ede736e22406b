"""The access log of sensitive household records (数据应用追溯, docs/domain.md#households-and-privacy).

Append-only: a trigger refuses UPDATE and DELETE, so the trail cannot be edited by the application.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from app.base import Base


class AccessLog(Base):
    __tablename__ = "access_log"
    __table_args__ = (
        Index("ix_access_log_household_at", "household_id", "at"),
        Index("ix_access_log_username_at", "username", "at"),
        Index("ix_access_log_person_at", "person_id", "at"),
        CheckConstraint("household_id IS NOT NULL OR person_id IS NOT NULL", name="subject"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    username: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(20))
    # Whose record was read: a household, or a person of the register (docs/register.md).
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    purpose: Mapped[str] = mapped_column(String(200))
