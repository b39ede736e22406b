"""The security audit trail (安全审计, GB/T 22239-2019 level 3): one append-only, hash-chained table.

The database keeps the chain (migration 0011): a BEFORE INSERT trigger takes an advisory transaction
lock, numbers the row (``id``, gapless, in chain order), stamps ``at`` and computes
``hash = sha256(prev_hash || canonical row)``; another trigger refuses UPDATE and DELETE except by the
retention function. The application only ever inserts ``actor … detail``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, FetchedValue, Index, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.base import Base

OUTCOMES = ("success", "failure", "refused", "error")
"""success: done; failure: a sign-in with wrong credentials; refused: turned down by a rule or a
permission (4xx); error: the system failed (5xx)."""


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        CheckConstraint(
            "outcome IN ('success', 'failure', 'refused', 'error')", name="outcome_known"
        ),
        Index("ix_audit_events_at", "at"),
        Index("ix_audit_events_actor_at", "actor", "at"),
        Index("ix_audit_events_action_at", "action", "at"),
    )

    # Filled by the trigger: position in the chain (1, 2, 3 … without gaps), time, hashes.
    id: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, autoincrement=False, server_default=FetchedValue()
    )
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=FetchedValue())
    actor: Mapped[str | None] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    object: Mapped[str] = mapped_column(String(300))
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONB(none_as_null=True))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
