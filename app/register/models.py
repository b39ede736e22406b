"""The register (一标三实: 实有人口, 实有房屋, 实有单位), docs/register.md.

Every record carries ``grid_code`` (row-level security and the review list filter on it) and a
``version`` that each approved change raises by one: a proposal names the version it was made
against, and a record changed since is a conflict, never a silent overwrite. The ID number is
never stored in the clear: ``id_cipher`` (AES-GCM, key outside the database), ``id_hash`` (keyed
HMAC, for lookup and dedup) and ``id_masked`` (for lists) stand for it (app/register/idnumbers.py).
"""

from __future__ import annotations

import datetime as dt
import uuid

from geoalchemy2 import Geometry
from sqlalchemy import (
    ARRAY,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.base import SRID, Base

GRID_CODE = "grid_code ~ '^[0-9]{15}$'"


class Person(Base):
    __tablename__ = "persons"
    __table_args__ = (
        CheckConstraint(GRID_CODE, name="grid_code"),
        CheckConstraint("version >= 1", name="version"),
        CheckConstraint(
            "residence_type IN ('registered', 'floating', 'overseas')", name="residence_type"
        ),
        CheckConstraint("status IN ('active', 'moved_out', 'deceased')", name="status"),
        Index("ix_persons_grid_code_id", "grid_code", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    grid_code: Mapped[str] = mapped_column(String(15))
    name: Mapped[str] = mapped_column(String(50))
    gender: Mapped[str | None] = mapped_column(String(1))
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    # 证件类型 (GA/T 517 codes as GB/T 31000 uses them): 111 居民身份证; others are not checked.
    id_type: Mapped[str] = mapped_column(String(3), server_default="111")
    id_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    id_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    id_masked: Mapped[str] = mapped_column(String(32))
    phone: Mapped[str | None] = mapped_column(String(32))
    ethnicity: Mapped[str | None] = mapped_column(String(2))
    residence_type: Mapped[str] = mapped_column(String(12), server_default="registered")
    registered_address: Mapped[str | None] = mapped_column(String(300))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"), index=True)
    relation: Mapped[str | None] = mapped_column(String(2))
    house_id: Mapped[int | None] = mapped_column(
        ForeignKey("houses.id", use_alter=True), index=True
    )
    special_groups: Mapped[list[str]] = mapped_column(ARRAY(String), server_default=text("'{}'"))
    party_member: Mapped[bool] = mapped_column(Boolean, server_default="false")
    status: Mapped[str] = mapped_column(String(12), server_default="active")
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class House(Base):
    __tablename__ = "houses"
    __table_args__ = (
        UniqueConstraint("building_id", "unit", "room", name="uq_houses_address"),
        CheckConstraint(GRID_CODE, name="grid_code"),
        CheckConstraint("version >= 1", name="version"),
        CheckConstraint("use IN ('self_occupied', 'rented', 'vacant')", name="use"),
        CheckConstraint("status IN ('active', 'closed')", name="status"),
        Index("ix_houses_grid_code_id", "grid_code", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    grid_code: Mapped[str] = mapped_column(String(15))
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id"), index=True)
    unit: Mapped[str] = mapped_column(String(16), server_default="")
    room: Mapped[str] = mapped_column(String(16), server_default="")
    # The standard address (一标, docs/addresses.md): the flat, or the door of a house of its own.
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id"), index=True)
    door_number_id: Mapped[int | None] = mapped_column(ForeignKey("door_numbers.id"), index=True)
    use: Mapped[str] = mapped_column(String(16), server_default="self_occupied")
    landlord_person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), index=True)
    landlord_name: Mapped[str | None] = mapped_column(String(50))
    landlord_phone: Mapped[str | None] = mapped_column(String(32))
    area_m2: Mapped[float | None] = mapped_column(Float)
    # The household (户) living there: an approved occupied house has one (app/register/apply.py).
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), server_default="active")
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class Organisation(Base):
    __tablename__ = "organisations"
    __table_args__ = (
        CheckConstraint(GRID_CODE, name="grid_code"),
        CheckConstraint("version >= 1", name="version"),
        CheckConstraint(
            "kind IN ('enterprise', 'public_institution', 'government', 'social_org', 'shop', "
            "'other')",
            name="kind",
        ),
        CheckConstraint("status IN ('active', 'closed')", name="status"),
        Index(
            "uq_organisations_credit_code",
            "credit_code",
            unique=True,
            postgresql_where=text("credit_code IS NOT NULL"),
        ),
        Index("ix_organisations_grid_code_id", "grid_code", "id"),
        Index("ix_organisations_location", "location", postgresql_using="gist"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    grid_code: Mapped[str] = mapped_column(String(15))
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str | None] = mapped_column(String(18))
    address: Mapped[str | None] = mapped_column(String(300))
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id"), index=True)
    location = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False))
    contact_name: Mapped[str | None] = mapped_column(String(50))
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    employees: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), server_default="active")
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class Proposal(Base):
    """A change to the register waiting for, or past, the community's review (lifecycle.py)."""

    __tablename__ = "register_proposals"
    __table_args__ = (
        CheckConstraint(GRID_CODE, name="grid_code"),
        CheckConstraint("kind IN ('person', 'house', 'organisation', 'household')", name="kind"),
        CheckConstraint("action IN ('create', 'update', 'move', 'remove')", name="action"),
        CheckConstraint(
            "state IN ('submitted', 'pending', 'approved', 'returned', 'withdrawn')", name="state"
        ),
        CheckConstraint("state <> 'returned' OR reason IS NOT NULL", name="returned_reason"),
        # The review list: the pending ones of an area, newest first.
        Index("ix_register_proposals_state_grid_id", "state", "grid_code", "id"),
        Index("ix_register_proposals_state_id", "state", "id"),
        Index("ix_register_proposals_target", "kind", "target_id"),
        Index("ix_register_proposals_id_hash", "id_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(8))
    target_id: Mapped[int | None] = mapped_column(Integer)
    base_version: Mapped[int | None] = mapped_column(Integer)
    grid_code: Mapped[str] = mapped_column(String(15))
    from_grid_code: Mapped[str | None] = mapped_column(String(15))
    before: Mapped[dict[str, object]] = mapped_column(JSONB, server_default=text("'{}'"))
    after: Mapped[dict[str, object]] = mapped_column(JSONB, server_default=text("'{}'"))
    id_cipher: Mapped[bytes | None] = mapped_column(LargeBinary)
    id_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    state: Mapped[str] = mapped_column(String(12), server_default="pending")
    proposed_by: Mapped[str] = mapped_column(String(64))
    proposed_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    confirmed_by: Mapped[str | None] = mapped_column(String(64))
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(String(500))
    note: Mapped[str | None] = mapped_column(String(500))
    # The record the approval created or changed (for a create: known once approved).
    record_id: Mapped[int | None] = mapped_column(Integer)


class RegisterHistory(Base):
    """Each version of each record, as it became current (the ID number masked)."""

    __tablename__ = "register_history"
    __table_args__ = (
        UniqueConstraint("kind", "record_id", "version", name="uq_register_history_version"),
        CheckConstraint(GRID_CODE, name="grid_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    record_id: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    grid_code: Mapped[str] = mapped_column(String(15))
    data: Mapped[dict[str, object]] = mapped_column(JSONB)
    # NULL: written by an import (the administrator's file is the review).
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("register_proposals.id"))
    changed_by: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
