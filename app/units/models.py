"""Responsible units, their members and the routing table (docs/domain.md#responsible-units).

A unit is who answers for a case: a grid (its grid workers), a community, a township or the county
(their offices), a functional department (职能部门) or an agency stationed in the area (派驻机构).
Each has a jurisdiction (an area code: it may take cases whose grid lies inside it), a parent (the
next tier up) and a contact. Members are accounts (by username) with a validity range. The routing
table says, per category and area, which unit (or which tier's unit) a case goes to by default.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.base import Base

# The tiers of the area hierarchy, then the bodies that are not a tier of it.
TIER_KINDS = ("grid", "community", "township", "county")
KINDS = (*TIER_KINDS, "department", "agency")
KIND_LABELS = {
    "grid": "网格",
    "community": "社区/村",
    "township": "乡镇/街道",
    "county": "县级",
    "department": "职能部门",
    "agency": "派驻机构",
}
# The area code length of each tier's unit (docs/domain.md#hierarchy-and-codes).
TIER_DIGITS = {"grid": 15, "community": 12, "township": 9, "county": 6}


class Unit(Base):
    __tablename__ = "units"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('grid', 'community', 'township', 'county', 'department', 'agency')",
            name="kind",
        ),
        CheckConstraint("area_code ~ '^[0-9]{6}([0-9]{3}){0,3}$'", name="area_code"),
        CheckConstraint("code ~ '^[A-Za-z0-9_-]{2,40}$'", name="code"),
        # A tier's unit answers for exactly its area's level (a grid unit for a 15-digit grid...).
        CheckConstraint(
            "(kind = 'grid' AND length(area_code) = 15) OR (kind = 'community' AND "
            "length(area_code) = 12) OR (kind = 'township' AND length(area_code) = 9) OR "
            "(kind = 'county' AND length(area_code) = 6) OR kind IN ('department', 'agency')",
            name="tier_level",
        ),
        Index("ix_units_area_code", "area_code", postgresql_ops={"area_code": "text_pattern_ops"}),
        # One active unit per tier and area: escalation and routing by tier find exactly one.
        Index(
            "ux_units_tier_area",
            "kind",
            "area_code",
            unique=True,
            postgresql_where=text("active AND kind IN ('grid', 'community', 'township', 'county')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    area_code: Mapped[str] = mapped_column(String(15))
    parent_code: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("units.code", onupdate="CASCADE")
    )
    phone: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class UnitMember(Base):
    """An account serving a unit from ``valid_from`` to ``valid_to`` (both inclusive; open end)."""

    __tablename__ = "unit_members"
    __table_args__ = (
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="dates"),
        UniqueConstraint("unit_code", "username", "valid_from", name="uq_unit_members_once"),
        Index("ix_unit_members_username", "username"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_code: Mapped[str] = mapped_column(
        String(40), ForeignKey("units.code", onupdate="CASCADE", ondelete="CASCADE")
    )
    username: Mapped[str] = mapped_column(String(64))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)


class RoutingRule(Base):
    """Cases of ``category_code`` (a small class, or a big class for all its small ones) whose grid
    lies in ``area_code`` go by default to ``unit_code``, or to the unit of tier ``tier`` for the
    case's area. The most specific rule wins: the longer category code, then the longer area code."""

    __tablename__ = "routing_rules"
    __table_args__ = (
        UniqueConstraint("category_code", "area_code", name="uq_routing_rules_category_area"),
        CheckConstraint("area_code ~ '^[0-9]{6}([0-9]{3}){0,3}$'", name="area_code"),
        CheckConstraint(
            "(unit_code IS NULL) <> (tier IS NULL) AND "
            "(tier IS NULL OR tier IN ('grid', 'community', 'township', 'county'))",
            name="unit_or_tier",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category_code: Mapped[str] = mapped_column(
        String(16), ForeignKey("incident_categories.code", onupdate="CASCADE")
    )
    area_code: Mapped[str] = mapped_column(String(15))
    unit_code: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("units.code", onupdate="CASCADE")
    )
    tier: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, server_default="")
