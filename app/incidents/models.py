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
from app.incidents.calendar import UNITS as _UNITS

TIERS = ("grid", "community", "township", "county")
UNITS = _UNITS  # the units of a time limit: app/incidents/calendar.py
_UNIT_SQL = ", ".join(f"'{u}'" for u in _UNITS)


class IncidentCategory(Base):
    """A 大类 (parent_code NULL, no time limit) or a 小类 under it."""

    __tablename__ = "incident_categories"
    __table_args__ = (
        CheckConstraint("default_tier IN ('grid', 'community', 'township', 'county')", name="tier"),
        CheckConstraint(f"limit_unit IS NULL OR limit_unit IN ({_UNIT_SQL})", name="unit"),
        CheckConstraint(
            f"urgent_limit_unit IS NULL OR urgent_limit_unit IN ({_UNIT_SQL})", name="urgent_unit"
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
        CheckConstraint(
            "resident_rating IS NULL OR resident_rating IN ('satisfied', 'basically', 'unsatisfied')",
            name="resident_rating",
        ),
        # KPIs: 上报数 and 立案率 count the cases reported in a period.
        Index("ix_incidents_reported_at", "reported_at"),
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
                "('reported', 'accepted', 'registered', 'dispatched', 'returned', 'handling')"
            ),
        ),
        # A unit's staff list their unit's cases (docs/domain.md#responsible-units).
        Index("ix_incidents_unit_code", "unit_code"),
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
    # The responsible unit that answers for the case now (app/units), and optionally one person.
    unit_code: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("units.code", onupdate="CASCADE")
    )
    assignee: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), server_default="reported")
    tier: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    supervised: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    reported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    deadline: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    escalate_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # The case's clock (app/incidents/deadlines.py): the handling limit it was reported with, the
    # current stage's start and due time, 挂账 (paused_since; minutes paused so far) and a
    # request (延期/挂账) awaiting the dispatcher's decision.
    limit_value: Mapped[float | None] = mapped_column()
    limit_unit: Mapped[str | None] = mapped_column(String(16))
    stage_started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    stage_due_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    amber_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    paused_since: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    paused_minutes: Mapped[int] = mapped_column(Integer, server_default="0")
    pending_request: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    handled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    evaluated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    satisfaction: Mapped[str | None] = mapped_column(String(16))
    extension_count: Mapped[int] = mapped_column(Integer, server_default="0")
    rework_count: Mapped[int] = mapped_column(Integer, server_default="0")
    escalation_count: Mapped[int] = mapped_column(Integer, server_default="0")
    on_spot: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # The resident's latest rating through the follow-up link (incident_ratings holds each one);
    # satisfaction / evaluated_at above are the dispatcher's follow-up call (回访), kept apart.
    resident_rating: Mapped[str | None] = mapped_column(String(16))
    resident_rated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    reopen_count: Mapped[int] = mapped_column(Integer, server_default="0")
    # Whether the 受理立案 stage, and any 核查 stage, ended after its due time (NULL: not ended);
    # set by a trigger when a stage's clock ends (migration 0016), counted by the KPIs.
    register_late: Mapped[bool | None] = mapped_column(Boolean)
    verification_late: Mapped[bool | None] = mapped_column(Boolean)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class IncidentEvent(Base):
    """Append-only history: a trigger in the migration refuses UPDATE and DELETE."""

    __tablename__ = "incident_events"
    __table_args__ = (
        # KPIs: 派遣准确率 and 退回率 count the dispatch, reassign and return moves of a period.
        Index(
            "ix_incident_events_dispatch_moves",
            "at",
            postgresql_where=text("action IN ('dispatch', 'reassign', 'return')"),
        ),
        # A report linked to this case as the same case (intake's ``same_as``) keeps the caller's
        # Idempotency-Key in its data: a replay answers the case, never links twice (migration 0018).
        Index(
            "ux_incident_events_same_report_key",
            text("(data->>'idempotency_scope')"),
            text("(data->>'idempotency_key')"),
            unique=True,
            postgresql_where=text("action = 'same_report'"),
        ),
    )

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


class IncidentRating(Base):
    """A resident's rating of a closed case through its follow-up link (docs/domain.md#residents-ratings)."""

    __tablename__ = "incident_ratings"
    __table_args__ = (
        CheckConstraint("rating IN ('satisfied', 'basically', 'unsatisfied')", name="rating"),
        CheckConstraint("length(comment) <= 500", name="comment"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    rating: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, server_default="")
    channel: Mapped[str] = mapped_column(String(16))  # the case's source: web, open311, phone …
    reopened: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    rated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


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
