"""Buildings (楼栋) and households (户), docs/domain.md#hierarchy-and-codes,
docs/domain.md#households-and-privacy."""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import (
    ARRAY,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.base import SRID, Base
from app.register.codes import SPECIAL_GROUPS as CODE_TABLE_GROUPS

# The special-group codes a household may carry: one code table with the register's
# (app/register/codes.py: ours and the national comprehensive-governance categories).
SPECIAL_GROUPS = CODE_TABLE_GROUPS


class Building(Base):
    __tablename__ = "buildings"
    __table_args__ = (
        CheckConstraint("household_count >= 0", name="household_count"),
        CheckConstraint("footprint IS NULL OR ST_IsValid(footprint)", name="footprint_valid"),
        Index("ix_buildings_location", "location", postgresql_using="gist"),
        Index("ix_buildings_footprint", "footprint", postgresql_using="gist"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    compound: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(300))
    aliases: Mapped[list[str]] = mapped_column(ARRAY(String), server_default=text("'{}'"))
    community_code: Mapped[str | None] = mapped_column(String(12), index=True)
    household_count: Mapped[int] = mapped_column(Integer, server_default="0")
    location = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False), nullable=False)
    footprint = mapped_column(Geometry("POLYGON", srid=SRID, spatial_index=False))


class Household(Base):
    __tablename__ = "households"
    __table_args__ = (
        UniqueConstraint("building_id", "unit", "room", name="uq_households_address"),
        CheckConstraint("size >= 0", name="size"),
        Index("ix_households_location", "location", postgresql_using="gist"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id"), index=True)
    unit: Mapped[str] = mapped_column(String(16), server_default="")
    room: Mapped[str] = mapped_column(String(16), server_default="")
    size: Mapped[int] = mapped_column(Integer, server_default="1")
    head_name: Mapped[str | None] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(32))
    special_groups: Mapped[list[str]] = mapped_column(ARRAY(String), server_default=text("'{}'"))
    # The household's own point when surveyed; otherwise it stands at its building.
    location = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False), nullable=False)
