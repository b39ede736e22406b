"""Party-building in the grid (docs/party.md): party organisations attached to grids, their members,
and 双报到 (in-service party members of county units registering with the community of their home)
with the service hours they log.

- ``party_orgs``: a 网格党支部 (branch) or 党小组 (group), belonging to a community (or township)
  ``area_code``; a group may sit under a branch (``parent_id``).
- ``party_org_grids``: the grids an organisation covers; a grid has at most one (``grid_code`` is
  unique), so a grid knows its organisation. One organisation may cover several grids.
- ``party_members``: the members of an organisation (name, phone; ``person_id`` links to the
  register's person once it exists).
- ``dual_registrations`` and ``service_hours``: 双报到 and the hours served.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Numeric,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.base import Base

ORG_KINDS = ("branch", "group")
ORG_KIND_LABELS = {"branch": "网格党支部", "group": "党小组"}


class PartyOrg(Base):
    __tablename__ = "party_orgs"
    __table_args__ = (
        CheckConstraint("kind IN ('branch', 'group')", name="kind"),
        CheckConstraint("area_code ~ '^[0-9]{9}([0-9]{3})?$'", name="area_code"),
        Index("ix_party_orgs_area_code", "area_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    # The community (12 digits) or township (9) the organisation belongs to.
    area_code: Mapped[str] = mapped_column(String(15))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("party_orgs.id", ondelete="SET NULL"))
    secretary: Mapped[str | None] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class PartyOrgGrid(Base):
    """A grid covered by an organisation: one organisation per grid."""

    __tablename__ = "party_org_grids"
    __table_args__ = (UniqueConstraint("grid_code", name="uq_party_org_grids_grid_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("party_orgs.id", ondelete="CASCADE"), index=True)
    grid_code: Mapped[str] = mapped_column(String(15))


class PartyMember(Base):
    __tablename__ = "party_members"
    __table_args__ = (
        # A staff member is one active party member (of one organisation).
        Index(
            "ux_party_members_staff_id",
            "staff_id",
            unique=True,
            postgresql_where=text("active AND staff_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("party_orgs.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(32))
    # The register's person, when the member is in it (docs/party.md#members).
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))
    # The member's staff row when they serve as a building leader (楼栋长) or unit steward:
    # a 党员楼栋长 (their buildings are their staff assignments').
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))


class DualRegistration(Base):
    """双报到: an in-service party member of a county unit registered with the community of their
    home. ``username`` is the member's own account, if they have one (they then log their hours)."""

    __tablename__ = "dual_registrations"
    __table_args__ = (
        CheckConstraint("community_code ~ '^[0-9]{12}$'", name="community_code"),
        UniqueConstraint("community_code", "unit_code", "name", "phone", name="uq_dual_once"),
        Index("ix_dual_registrations_community_code", "community_code"),
        Index("ix_dual_registrations_username", "username"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_code: Mapped[str] = mapped_column(String(12))
    unit_code: Mapped[str] = mapped_column(String(40), ForeignKey("units.code", onupdate="CASCADE"))
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(32))
    username: Mapped[str | None] = mapped_column(String(64))
    registered_on: Mapped[dt.date] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))


class ServiceHours(Base):
    __tablename__ = "service_hours"
    __table_args__ = (CheckConstraint("hours > 0 AND hours <= 24", name="hours"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("dual_registrations.id", ondelete="CASCADE"), index=True
    )
    served_on: Mapped[dt.date] = mapped_column(Date)
    hours: Mapped[Decimal] = mapped_column(Numeric(4, 1))
    activity: Mapped[str] = mapped_column(String(200))
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
