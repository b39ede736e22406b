"""The access log of sensitive household records (数据应用追溯, docs/domain.md#households-and-privacy).

Append-only: a trigger refuses UPDATE and DELETE, so the trail cannot be edited by the application.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from app.base import Base


class AccessLog(Base):
    __tablename__ = "access_log"
    __table_args__ = (
        Index("ix_access_log_household_at", "household_id", "at"),
        Index("ix_access_log_username_at", "username", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    username: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(20))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    purpose: Mapped[str] = mapped_column(String(200))
