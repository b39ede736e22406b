"""Incident tables: categories (data, not enums), cases, their append-only history, the outbox,
and Open311 client keys."""

from __future__ import annotations

import datetime as dt
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.base import SRID, Base

TIERS = ("grid", "community", "township", "county")
UNITS = ("working_hours", "working_days")


class IncidentCategory(Base):
    """A 大类 (parent_code NULL, no time limit) or a 小类 under it."""

    __tablename__ = "incident_categories"
    __table_args__ = (
        CheckConstraint("default_tier IN ('grid', 'community', 'township', 'county')", name="tier"),
        CheckConstraint(
            "limit_unit IS NULL OR limit_unit IN ('working_hours', 'working_days')", name="unit"
        ),
        CheckConstraint(
            "urgent_limit_unit IS NULL OR urgent_limit_unit IN ('working_hours', 'working_days')",
            name="urgent_unit",
        ),
        CheckConstraint(
            "parent_code IS NULL OR (limit_value > 0 AND limit_unit IS NOT NULL)",
            name="small_class_has_limit",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    parent_code: Mapped[str | None] = mapped_column(
        String(16), ForeignKey("incident_categories.code", onupdate="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(50))
    default_tier: Mapped[str] = mapped_column(String(16), server_default="community")
    limit_value: Mapped[float | None] = mapped_column()
    limit_unit: Mapped[str | None] = mapped_column(String(16))
    urgent_limit_value: Mapped[float | None] = mapped_column()
    urgent_limit_unit: Mapped[str | None] = mapped_column(String(16))
    open_condition: Mapped[str] = mapped_column(Text, server_default="")
    close_condition: Mapped[str] = mapped_column(Text, server_default="")
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    # Cases of a sensitive class never appear on a public surface (docs/public.md). Unjudged = hidden.
    sensitive: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (
        CheckConstraint("tier BETWEEN 0 AND 3", name="tier"),
        CheckConstraint(
            "satisfaction IS NULL OR satisfaction IN ('satisfied', 'basically', 'unsatisfied')",
            name="satisfaction",
        ),
        Index("ix_incidents_location", "location", postgresql_using="gist"),
        # KPIs: the period is always on deadline; the area filter is a code prefix.
        Index("ix_incidents_deadline_grid", "deadline", "grid_code"),
        Index(
            "ix_incidents_grid_code", "grid_code", postgresql_ops={"grid_code": "text_pattern_ops"}
        ),
        # The escalation sweep reads only open cases whose clock has run out.
        Index(
            "ix_incidents_escalate_at",
            "escalate_at",
            postgresql_where=text(
                "escalate_at IS NOT NULL AND state IN "
                "('reported', 'accepted', 'registered', 'dispatched', 'handling')"
            ),
        ),
        # An Idempotency-Key is the caller's own: unique per (scope, key), never across callers
        # (docs/public.md#idempotency). Partial: most cases come without a key, and a NULL entry
        # would still cost an index insertion on every non-HOT update (the escalation sweep
        # rewrites 10,000s of rows).
        Index(
            "uq_incidents_idempotency",
            "idempotency_scope",
            "idempotency_key",
            unique=True,
            postgresql_where=text("idempotency_key IS NOT NULL"),
        ),
        CheckConstraint(
            "idempotency_key IS NULL OR idempotency_scope IS NOT NULL", name="idempotency_scoped"
        ),
        # No index on state alone (10 values; every query that filters on it also filters on the
        # area prefix or deadline), on assignee (the per-worker KPI also filters on the deadline
        # range) nor on (category_code, reported_at) (duplicates use the GiST index): each index
        # is paid again for every row the sweep escalates.
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_no: Mapped[str] = mapped_column(String(24), unique=True)
    token: Mapped[str] = mapped_column(String(36), unique=True)
    idempotency_scope: Mapped[str | None] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(128))
    category_code: Mapped[str] = mapped_column(
        String(16), ForeignKey("incident_categories.code", onupdate="CASCADE")
    )
    urgent: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    description: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16), server_default="api")
    reporter_name: Mapped[str | None] = mapped_column(String(50))
    reporter_phone: Mapped[str | None] = mapped_column(String(32))
    reporter_username: Mapped[str | None] = mapped_column(String(64))
    location = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False), nullable=False)
    grid_code: Mapped[str] = mapped_column(String(15))
    community_code: Mapped[str] = mapped_column(String(12))
    township_code: Mapped[str | None] = mapped_column(String(9))
    leader_name: Mapped[str | None] = mapped_column(String(50))
    locate: Mapped[dict[str, Any]] = mapped_column(JSONB)
    photos: Mapped[list[Any]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    assignee: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), server_default="reported")
    tier: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    supervised: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    reported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    deadline: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    escalate_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    handled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    evaluated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    satisfaction: Mapped[str | None] = mapped_column(String(16))
    extension_count: Mapped[int] = mapped_column(Integer, server_default="0")
    rework_count: Mapped[int] = mapped_column(Integer, server_default="0")
    escalation_count: Mapped[int] = mapped_column(Integer, server_default="0")
    on_spot: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class IncidentEvent(Base):
    """Append-only history: a trigger in the migration refuses UPDATE and DELETE."""

    __tablename__ = "incident_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(24))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, server_default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class OutboxMessage(Base):
    """Notifications written in the same transaction as the change; the worker delivers them."""

    __tablename__ = "incident_outbox"
    __table_args__ = (
        Index(
            "ix_incident_outbox_pending",
            "next_attempt_at",
            postgresql_where=text("delivered_at IS NULL AND failed = false"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    incident_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("incidents.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    next_attempt_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    failed: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    last_error: Mapped[str | None] = mapped_column(Text)


class Open311Client(Base):
    """A third-party app allowed to POST Open311 requests; only the key's SHA-256 is stored."""

    __tablename__ = "open311_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    key_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
